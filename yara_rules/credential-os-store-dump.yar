rule credential_os_store_dump
{
    meta:
        id = "credential-os-store-dump"
        category = "credential-access"
        severity = "high"
        confidence = "high"
        description = "Dumps an operating-system credential store: macOS keychain (dump-keychain, copying login.keychain-db, chainbreaker), Windows vault/LSASS (vaultcmd, mimikatz, comsvcs MiniDump)."
        status = "stable"
    strings:
        // without -d dump-keychain lists item attributes only; -d prints the secrets
        $mac1 = /\bsecurity\s{1,3}dump-keychain\s{1,3}(-[a-z]{0,3}\s{1,3}){0,3}-[a-z]{0,3}d/
        $mac2 = /(\bcp\b|\bcat\b|\bscp\b|\bcurl\b|\btar\b|\bzip\b|copyfile|shutil\.copy\w{0,4}\s{0,3}\()[^\n]{0,120}login\.keychain(-db)?\b/
        $mac3 = /\bchainbreaker\b/ nocase
        $win1 = /\bvaultcmd(\.exe)?\s{1,3}\/list(creds|properties)\b/ nocase
        $win2 = /\bsekurlsa::|\blsadump::|\bInvoke-Mimikatz\b|\bmimikatz(\.exe)?['"]?\s{1,3}['"]?privilege::debug/ nocase
        $win3 = /comsvcs(\.dll)?[, ]{1,3}(#24|MiniDump)\b/ nocase
        $win4 = /\bprocdump(64)?(\.exe)?\s[^\n]{0,40}-ma\s{1,3}lsass/ nocase
    condition:
        $mac1 or $mac2 or $mac3 or $win1 or $win2 or $win3 or $win4
}
