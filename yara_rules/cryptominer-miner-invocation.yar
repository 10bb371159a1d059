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
        // one character class after the name (and its -suffix): a single cheap test per suffix
        // letter, so a file repeating "xmrig-" stays fast; options share their leading dash
        $run = /\b(xmrig|xmr-stak|cpuminer|minerd|ethminer|nbminer|lolminer|phoenixminer|srbminer|teamredminer|nanominer|bzminer)(-[a-z0-9]{1,8})?[.'"\s](exe)?['"]?\s{0,3}-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]/ nocase
        $rel = /\b(xmrig|xmr-stak|cpuminer-opt|lolminer|nbminer|srbminer-multi|t-rex|teamredminer)[-_]v?[0-9]{1,2}\.[0-9]{1,2}/ nocase
        $cfg = /"donate-level"\s{0,3}:\s{0,3}\d/
    condition:
        $run or $rel or $cfg
}
