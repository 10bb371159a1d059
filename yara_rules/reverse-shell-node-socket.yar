rule reverse_shell_node_socket
{
    meta:
        id = "reverse-shell-node-socket"
        category = "reverse-shell"
        severity = "critical"
        confidence = "high"
        description = "Node.js net socket connected out and piped into a spawned shell's stdin/stdout (child_process + net.Socket)."
        status = "stable"
    strings:
        $net1 = /new\s{1,3}(net\.)?Socket\s{0,3}\(/
        $net2 = /\bnet\.(connect|createConnection)\s{0,3}\(/
        $cp = "child_process" ascii
        // one string for both shells: each "exec(" of a file is verified once, not twice
        $spawn = /\b(spawn|exec|execFile)\s{0,3}\(\s{0,3}['"`]((\/bin\/)?(ba|z|da)?sh|cmd(\.exe)?|powershell(\.exe)?)['"`]/ nocase
        $pipe1 = /\.stdout\.pipe\s{0,3}\(/
        $pipe2 = /\.pipe\s{0,3}\(\s{0,3}[A-Za-z_$][A-Za-z0-9_$]{0,40}\.stdin\s{0,3}\)/
    condition:
        ($net1 or $net2) and $cp and $spawn and ($pipe1 or $pipe2)
}
