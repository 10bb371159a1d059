rule cryptominer_miner_invocation
{
    meta:
        id = "cryptominer-miner-invocation"
        category = "cryptominer"
        severity = "critical"
        confidence = "high"
        description = "A known CPU/GPU miner (xmrig, xmr-stak, cpuminer, ethminer, lolMiner, …) run with pool/wallet options or fetched as a release archive."
        status = "stable"
    strings:
        // one string per miner name: a flood of one name runs one verification per hit; optional
        // runs are nested groups rather than counted repeats, which the matcher walks faster
        $xmrig = /\bxmrig((-[a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9])?)?)?)?)?)?)?)?[.'"\s](exe)?['"]?(\s(\s(\s)?)?)?-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]|[-_]v?[0-9][0-9]?\.[0-9][0-9]?)/ nocase
        $xmr_stak = /\bxmr-stak((-[a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9])?)?)?)?)?)?)?)?[.'"\s](exe)?['"]?(\s(\s(\s)?)?)?-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]|[-_]v?[0-9][0-9]?\.[0-9][0-9]?)/ nocase
        $cpuminer = /\bcpuminer((-[a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9])?)?)?)?)?)?)?)?[.'"\s](exe)?['"]?(\s(\s(\s)?)?)?-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]|-opt[-_]v?[0-9][0-9]?\.[0-9][0-9]?)/ nocase
        $minerd = /\bminerd(-[a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9])?)?)?)?)?)?)?)?[.'"\s](exe)?['"]?(\s(\s(\s)?)?)?-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]/ nocase
        $ethminer = /\bethminer(-[a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9])?)?)?)?)?)?)?)?[.'"\s](exe)?['"]?(\s(\s(\s)?)?)?-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]/ nocase
        $nbminer = /\bnbminer((-[a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9])?)?)?)?)?)?)?)?[.'"\s](exe)?['"]?(\s(\s(\s)?)?)?-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]|[-_]v?[0-9][0-9]?\.[0-9][0-9]?)/ nocase
        $lolminer = /\blolminer((-[a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9])?)?)?)?)?)?)?)?[.'"\s](exe)?['"]?(\s(\s(\s)?)?)?-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]|[-_]v?[0-9][0-9]?\.[0-9][0-9]?)/ nocase
        $phoenixminer = /\bphoenixminer(-[a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9])?)?)?)?)?)?)?)?[.'"\s](exe)?['"]?(\s(\s(\s)?)?)?-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]/ nocase
        $srbminer = /\bsrbminer((-[a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9])?)?)?)?)?)?)?)?[.'"\s](exe)?['"]?(\s(\s(\s)?)?)?-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]|-multi[-_]v?[0-9][0-9]?\.[0-9][0-9]?)/ nocase
        $teamredminer = /\bteamredminer((-[a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9])?)?)?)?)?)?)?)?[.'"\s](exe)?['"]?(\s(\s(\s)?)?)?-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]|[-_]v?[0-9][0-9]?\.[0-9][0-9]?)/ nocase
        $nanominer = /\bnanominer(-[a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9])?)?)?)?)?)?)?)?[.'"\s](exe)?['"]?(\s(\s(\s)?)?)?-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]/ nocase
        $bzminer = /\bbzminer(-[a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9]([a-z0-9])?)?)?)?)?)?)?)?[.'"\s](exe)?['"]?(\s(\s(\s)?)?)?-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]/ nocase
        $t_rex = /\bt-rex[-_]v?[0-9][0-9]?\.[0-9][0-9]?/ nocase
        $cfg = /"donate-level"\s{0,3}:\s{0,3}\d/
    condition:
        $xmrig or $xmr_stak or $cpuminer or $minerd or $ethminer or $nbminer or $lolminer or
        $phoenixminer or $srbminer or $teamredminer or $nanominer or $bzminer or $t_rex or $cfg
}
