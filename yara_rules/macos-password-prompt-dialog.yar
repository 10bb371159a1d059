rule macos_password_prompt_dialog
{
    meta:
        id = "macos-password-prompt-dialog"
        category = "credential-access"
        severity = "critical"
        confidence = "high"
        description = "AppleScript dialog that asks for a password with a hidden answer, or a `dscl . -authonly` check of a typed password: the macOS infostealer (AMOS) way to phish the login password."
        status = "stable"
    strings:
        $dialog = /display\s{1,3}dialog[^\n]{0,400}default\s{1,3}answer[^\n]{0,400}hidden\s{1,3}answer/ nocase
        $dialog2 = /display\s{1,3}dialog[^\n]{0,400}hidden\s{1,3}answer[^\n]{0,400}default\s{1,3}answer/ nocase
        $authonly = /dscl\s{1,3}(\/Local\/Default|\.)\s{1,3}-authonly\b/
    condition:
        $dialog or $dialog2 or $authonly
}
