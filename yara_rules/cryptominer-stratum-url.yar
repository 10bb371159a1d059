rule cryptominer_stratum_url
{
    meta:
        id = "cryptominer-stratum-url"
        category = "cryptominer"
        severity = "critical"
        confidence = "high"
        description = "Stratum mining-pool URL (stratum+tcp/ssl): the skill points a miner at a pool."
        status = "stable"
    strings:
        $s = /stratum\d?\+(tcp|ssl|tls|ws|wss):\/\/[A-Za-z0-9_.\-$\{]{1,100}/ nocase
    condition:
        $s
}
