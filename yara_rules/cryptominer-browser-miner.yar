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
        // one string per library name (not one alternation): each hit of a name runs one
        // verification, and every string gets an atom of its own name
        $coinhive = /(\bcoinhive\.(anonymous|user|token)\s{0,3}\(|coin-?hive\.(com|min\.js|js|cc|pro|net)\b)/ nocase
        $authedmine = /authedmine\.(com|min\.js|js|cc|pro|net)\b/ nocase
        $cryptoloot = /crypto-?loot\.(com|min\.js|js|cc|pro|net)\b/ nocase
        $webminepool = /webminepool\.(com|min\.js|js|cc|pro|net)\b/ nocase
        $jsecoin = /jsecoin\.(com|min\.js|js|cc|pro|net)\b/ nocase
        $minero = /minero\.cc\.(com|min\.js|js|cc|pro|net)\b/ nocase
        $coinimp = /coinimp\.(com|min\.js|js|cc|pro|net)\b/ nocase
        $deepminer = /deepminer\.(com|min\.js|js|cc|pro|net)\b/ nocase
        $c = /\b(CRLT|CryptoLoot)\.Anonymous\s{0,3}\(/
        $d = /\bdeepMiner\.(Anonymous|Init)\s{0,3}\(/
    condition:
        $coinhive or $authedmine or $cryptoloot or $webminepool or $jsecoin or
        $minero or $coinimp or $deepminer or $c or $d
}
