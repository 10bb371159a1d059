rule cryptominer_pool_host
{
    meta:
        id = "cryptominer-pool-host"
        category = "cryptominer"
        severity = "critical"
        confidence = "high"
        description = "Mining-pool host with a pool port (supportxmr, moneroocean, nanopool, 2miners, f2pool, herominers, unmineable, …): a miner's pool endpoint."
        status = "stable"
    strings:
        $p = /\b([A-Za-z0-9\-]{1,30}\.){0,3}(supportxmr\.com|moneroocean\.stream|minexmr\.com|xmrpool\.eu|hashvault\.pro|c3pool\.com|nanopool\.org|2miners\.com|f2pool\.com|herominers\.com|unmineable\.com|nicehash\.com|minergate\.com|ethermine\.org|flypool\.org|kryptex\.network|zpool\.ca|zergpool\.com|miningpoolhub\.com|prohashing\.com|woolypooly\.com|dwarfpool\.com|viabtc\.com|antpool\.com|poolin\.com|slushpool\.com|braiins\.com|xmrfast\.com|monerohash\.com|p2pool\.io|gulf\.moneroocean\.stream):\d{2,5}\b/ nocase
    condition:
        $p
}
