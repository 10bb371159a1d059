rule reverse_shell_script_oneliner
{
    meta:
        id = "reverse-shell-script-oneliner"
        category = "reverse-shell"
        severity = "critical"
        confidence = "high"
        description = "Perl/PHP/Ruby/awk one-liner that opens a socket and execs a shell over it (the pentest reverse-shell cheat-sheet shapes)."
        status = "stable"
    strings:
        $php = /fsockopen\s{0,3}\(\s{0,3}["'][\w.\-]{1,80}["']\s{0,3},\s{0,3}\d{1,5}\s{0,3}\)\s{0,3};\s{0,3}(exec|shell_exec|system|passthru|popen|proc_open)\s{0,3}\(\s{0,3}["'](\/bin\/)?(ba|z|da)?sh/
        $perl = /open\s{0,3}\(\s{0,3}STD(IN|OUT|ERR)\s{0,3},\s{0,3}["']>&\s{0,3}[A-Z$]/
        $ruby = /TCPSocket\.(open|new)\s{0,3}\([^()\n]{1,120}\)\.to_i\s{0,3};\s{0,3}(exec|spawn|system)\b/
        $sh_fd = /\/bin\/(ba|z|da)?sh\s{1,3}-i\s{1,3}<&\s{0,3}(%d|\d|#\{)/
        $awk = /\/inet\/tcp\/[0-9]{1,5}\/[A-Za-z0-9_.\-]{1,100}\/[0-9]{1,5}/
    condition:
        $php or $perl or $ruby or $sh_fd or $awk
}
