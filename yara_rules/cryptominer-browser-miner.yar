rule cryptominer_browser_miner
{
    meta:
        id = "cryptominer-browser-miner"
        category = "cryptominer"
        severity = "critical"
        confidence = "high"
        description = "In-browser/JS miner library (CoinHive, CryptoLoot, JSECoin, deepMiner, WebMinePool) loaded or started."
        status = "stable"
    strings:
        $a = /\bCoinHive\.(Anonymous|User|Token)\s{0,3}\(/ nocase
        $b = /(coinhive|coin-hive|authedmine|crypto-loot|cryptoloot|webminepool|jsecoin|minero\.cc|coinimp|deepminer)\.(com|min\.js|js|cc|pro|net)\b/ nocase
        $c = /\b(CRLT|CryptoLoot)\.Anonymous\s{0,3}\(/
        $d = /\bdeepMiner\.(Anonymous|Init)\s{0,3}\(/
    condition:
        $a or $b or $c or $d
}
