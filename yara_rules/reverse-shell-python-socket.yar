rule reverse_shell_python_socket
{
    meta:
        id = "reverse-shell-python-socket"
        category = "reverse-shell"
        severity = "critical"
        confidence = "high"
        description = "Python socket connected out, its descriptor duplicated onto stdin/stdout/stderr (os.dup2) and a shell or pty spawned on it (or a shell started with the socket as its stdio)."
        status = "stable"
    strings:
        $sock = "socket" ascii
        $connect = /\.connect\s{0,3}\(\s{0,3}\(/
        // dup2 and fileno() apart: also `fd = s.fileno(); os.dup2(fd, 0)`, and no identifier scan
        // after every "dup2(" of a hostile file
        $dup2 = /\bdup2\s{0,3}\(/
        $fileno = /\.fileno\s{0,3}\(\s{0,3}\)/
        $pty = /\bpty\.spawn\s{0,3}\(/
        $sh = /['"](\/bin\/)?(ba|z|da)?sh['"]/
        $fileno_io = /\b(stdin|stdout|stderr)\s{0,3}=\s{0,3}[A-Za-z_][A-Za-z0-9_.]{0,40}\.fileno\s{0,3}\(\s{0,3}\)/
    condition:
        $sock and $connect and (($dup2 and $fileno and ($pty or $sh)) or ($fileno_io and $sh))
}
