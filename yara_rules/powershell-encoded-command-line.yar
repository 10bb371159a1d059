rule powershell_encoded_command_line
{
    meta:
        id = "powershell-encoded-command-line"
        category = "obfuscation"
        severity = "high"
        confidence = "medium"
        description = "powershell/pwsh started with -EncodedCommand (or -enc / -e) and a long base64 argument, in any file: the script it runs is hidden from every reader."
        status = "stable"
    strings:
        $enc = /(powershell|pwsh)(\.exe)?["',\s]{1,8}([-\/][A-Za-z]{1,20}["',\s]{1,8}([A-Za-z]{1,12}["',\s]{1,8})?){0,4}[-\/]e(nc(odedcommand)?|c)?["',\s]{1,6}[A-Za-z0-9+\/]{40,4000}={0,2}/ nocase
    condition:
        $enc
}
