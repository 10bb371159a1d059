rule credential_crypto_wallet
{
    meta:
        id = "credential-crypto-wallet"
        category = "credential-access"
        severity = "high"
        confidence = "high"
        description = "Targets cryptocurrency wallet stores (MetaMask/Phantom/Coinbase/TronLink/Binance/Rabby extension storage, wallet.dat, Exodus, Electrum, Atomic, Ethereum keystore): wallet-stealer behaviour."
        status = "stable"
    strings:
        $metamask = "nkbihfbeogaeaoehlefnkodbefgpgknn"
        $phantom = "bfnaelmomeimhlpmgjnjophhpkkoljpa"
        $coinbase = "hnfanknocfeofbddgcijnmhnfnkdnaad"
        $tronlink = "ibnejdfjmmkpcnlpebklmnkoeoihofec"
        $binance = "fhbohimaelbohpjbbldcngcnapndodjp"
        $rabby = "acmacodkjbdgmoleebolmdjonilkdbch"
        $walletdat = /[\/\\'"]wallet\.dat\b/
        $exodus = /Exodus[\/\\]exodus\.wallet|exodus\.wallet[\/\\]/ nocase
        $electrum = /[\/\\.]electrum[\/\\]wallets\b/ nocase
        $atomic = /atomic[\/\\]Local Storage[\/\\]leveldb/ nocase
        $keystore = /Ethereum[\/\\]keystore\b/ nocase
        $ext = /Local Extension Settings[\/\\'"]{1,3}[a-p]{32}/
        $les = "Local Extension Settings"
        $idb = /IndexedDB[\/\\]chrome-extension_[a-p]{32}/
    condition:
        // extension ids alone also appear in web-store install links: require the storage path or a target list
        ($les and ($metamask or $phantom or $coinbase or $tronlink or $binance or $rabby)) or
        2 of ($metamask, $phantom, $coinbase, $tronlink, $binance, $rabby) or
        $walletdat or $exodus or $electrum or $atomic or $keystore or $ext or $idb
}
