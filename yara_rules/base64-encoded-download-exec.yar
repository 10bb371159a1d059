rule base64_encoded_download_exec
{
    meta:
        id = "base64-encoded-download-exec"
        category = "remote-exec"
        severity = "critical"
        confidence = "high"
        description = "Base64 text that decodes to a download-and-execute command (curl/wget output run by a shell or `bash -c \"$(curl ...)\"`): a stager hidden from readers and text scanners, found wherever the blob sits."
        status = "stable"
    strings:
        // the payload's own words, matched in all three base64 alignments
        $subst_curl = "-c \"$(curl" base64
        $subst_wget = "-c \"$(wget" base64
        $subst_curl2 = "-c '$(curl" base64
        $proc_curl = "<(curl" base64
        $proc_wget = "<(wget" base64
        $eval_curl = "eval \"$(curl" base64
        $fetch_curl = "curl -" base64
        $fetch_curl2 = "curl http" base64
        $fetch_wget = "wget -" base64
        $fetch_wget2 = "wget http" base64
        $pipe_sh1 = " | sh" base64
        $pipe_sh2 = "| sh\n" base64
        $pipe_bash1 = "| bash" base64
        $pipe_bash2 = "|bash" base64
        $pipe_sudo = "| sudo bash" base64
        $pipe_zsh = "| zsh" base64
    condition:
        $subst_curl or $subst_wget or $subst_curl2 or $proc_curl or $proc_wget or $eval_curl or
        (($fetch_curl or $fetch_curl2 or $fetch_wget or $fetch_wget2) and
         ($pipe_sh1 or $pipe_sh2 or $pipe_bash1 or $pipe_bash2 or $pipe_sudo or $pipe_zsh))
}
