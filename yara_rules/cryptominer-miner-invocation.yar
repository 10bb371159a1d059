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
        // a miner run with pool/wallet options: name, optional -suffix, separator, option. Names
        // that also ship release archives carry both forms in one string, so a file repeating
        // such a name is verified once per occurrence rather than once per string
        $run_or_release = /\b(xmrig|xmr-stak|lolminer|nbminer|teamredminer)((-[a-z0-9]{1,8})?[.'"\s](exe)?['"]?\s{0,3}-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]|[-_]v?[0-9]{1,2}\.[0-9]{1,2})/ nocase
        $run = /\b(cpuminer|minerd|ethminer|phoenixminer|srbminer|nanominer|bzminer)(-[a-z0-9]{1,8})?[.'"\s](exe)?['"]?\s{0,3}-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]/ nocase
        $release = /\b(cpuminer-opt|srbminer-multi|t-rex)[-_]v?[0-9]{1,2}\.[0-9]{1,2}/ nocase
        $cfg = /"donate-level"\s{0,3}:\s{0,3}\d/
    condition:
        $run_or_release or $run or $release or $cfg
}
