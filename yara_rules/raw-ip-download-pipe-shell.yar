rule raw_ip_download_pipe_shell
{
    meta:
        id = "raw-ip-download-pipe-shell"
        category = "remote-exec"
        severity = "critical"
        confidence = "high"
        description = "curl/wget of a raw-IP URL piped or substituted into a shell, in any file (script strings, package.json hooks, configs, prose): a second stage served from a bare address."
        status = "stable"
    strings:
        $pipe = /(curl|wget)[^\n|;&]{0,200}https?:\/\/[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}[^\n|;&]{0,200}\|\s{0,4}(sudo\s{1,4}(-[A-Za-z]{1,4}\s{1,4}){0,3})?(\/bin\/|\/usr\/bin\/)?(ba|z|da|k)?sh\b/
        $subst = /(ba|z|da|k)?sh\s{1,4}(-[a-z]{1,3}\s{1,4}){0,2}-c\s{0,3}["']\$\((curl|wget)[^\n)]{0,200}https?:\/\/[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}/
        $proc = /(ba|z|da|k)?sh\s{1,4}<\(\s{0,3}(curl|wget)[^\n)]{0,200}https?:\/\/[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}/
    condition:
        $pipe or $subst or $proc
}
