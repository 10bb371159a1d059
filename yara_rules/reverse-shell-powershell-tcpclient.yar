rule reverse_shell_powershell_tcpclient
{
    meta:
        id = "reverse-shell-powershell-tcpclient"
        category = "reverse-shell"
        severity = "critical"
        confidence = "high"
        description = "PowerShell TCPClient stream whose received bytes are run with Invoke-Expression/iex and the output written back: a PowerShell reverse shell."
        status = "stable"
    strings:
        $tcp = /Net\.Sockets\.TCPClient/ nocase
        $stream = /\.GetStream\s{0,3}\(\s{0,3}\)/ nocase
        $iex1 = /\b(iex|Invoke-Expression)\b/ nocase
        $iex2 = /\[scriptblock\]::Create/ nocase
    condition:
        $tcp and $stream and ($iex1 or $iex2)
}
