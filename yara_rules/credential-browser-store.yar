rule credential_browser_store
{
    meta:
        id = "credential-browser-store"
        category = "credential-access"
        severity = "high"
        confidence = "medium"
        description = "Reaches into a browser profile's secret stores (Chrome/Edge/Brave 'Login Data', 'Cookies', 'Local State' key, Firefox logins.json/key4.db/cookies.sqlite, Safari binarycookies): infostealer behaviour."
        status = "stable"
    strings:
        // a browser's profile directory and one of its secret files in the same script
        $cr_dir = /(Google[\/\\ ]{1,2}Chrome|Chromium|BraveSoftware|Microsoft[\/\\]{1,2}Edge|Opera Software|Vivaldi|Yandex[\/\\]{1,2}YandexBrowser)([\/\\]{1,2}|["'])/ nocase
        $cr_file = /["'\/\\](Login Data|Web Data|Cookies)["']/
        $localstate = /["'\/\\]Local State["']/
        $enc_key = /["']encrypted_key["']/
        $ff_dir = /(Firefox|Mozilla)([\/\\]{1,2}|["'])/
        $ff_file = /["'\/\\](logins\.json|key4\.db|key3\.db|signons\.sqlite|cookies\.sqlite)["']/
        $safari = /Cookies\.binarycookies/
    condition:
        ($cr_dir and ($cr_file or ($localstate and $enc_key))) or ($ff_dir and $ff_file) or $safari
}
