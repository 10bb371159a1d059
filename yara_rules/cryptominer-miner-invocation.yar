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
        $run = /\b(xmrig|xmr-stak|cpuminer|minerd|ethminer|nbminer|lolminer|phoenixminer|srbminer|teamredminer|nanominer|bzminer)(-[a-z]{1,8})?(\.exe)?['"]?\s{1,3}(-o|--url|-c|--config|--donate-level|-u|--user|--coin|-a|--algo|--pool|--wallet|-B|--background)(\s|=|['"])/ nocase
        $rel = /\b(xmrig|xmr-stak|cpuminer-opt|lolminer|nbminer|srbminer-multi|t-rex|teamredminer)[-_]v?[0-9]{1,2}\.[0-9]{1,2}/ nocase
        $cfg = /"donate-level"\s{0,3}:\s{0,3}\d/
    condition:
        any of them
}
