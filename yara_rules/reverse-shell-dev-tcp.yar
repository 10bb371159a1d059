rule reverse_shell_dev_tcp
{
    meta:
        id = "reverse-shell-dev-tcp"
        category = "reverse-shell"
        severity = "critical"
        confidence = "high"
        description = "Shell I/O redirected through bash's /dev/tcp or /dev/udp pseudo-device to a host and port: an interactive reverse shell or raw network channel."
        status = "stable"
    strings:
        // host and port must be concrete (a name, address or variable), not a <placeholder>
        $dev = /\/dev\/(tcp|udp)\/[A-Za-z0-9_.$\{\}\-]{1,100}\/[0-9$\{]/
    condition:
        $dev
}
