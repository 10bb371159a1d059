rule agent_exec_approval_bypass
{
    meta:
        id = "agent-exec-approval-bypass"
        category = "agent-tampering"
        severity = "high"
        confidence = "high"
        description = "Turns off OpenClaw exec approvals (tools.exec.security full, ask off, elevated full, rewriting exec-approvals.json): every later command runs without the user's consent."
        status = "stable"
    strings:
        $cli = /tools\.(exec|elevated)(\.(security|ask|mode))?\b['"]?\s{1,3}['"]?(full|off|never)\b/
        // up to three options, then the value as a word of its own (after "=" or whitespace) or as
        // a flag (--full): ((...){1,3})? rather than (...){0,3} (a counted run from zero tracks the
        // first option twice), and a value is tried only where a word ends, not inside option names
        $cli2 = /openclaw\s{1,3}(approvals|exec-approvals|exec-policy)\s{1,3}(set|preset)((\s{1,3}--?[a-z\-]{0,19}[a-z\-]){1,3})?(=|\s{1,3})\s{0,3}(--?)?['"]?(full|off|yolo|never)\b/ nocase
        // window classes exclude the braces of the anchor so repeated anchors cannot chain
        // JSON/JSON5 config: an "exec" block and a full/off security or ask value in the same file
        $json_exec = /["']?exec["']?\s{0,3}:\s{0,3}\{/
        $json_val = /["']?(security|ask)["']?\s{0,3}:\s{0,3}["'](full|off|never)["']/
        $json_el = /["']?elevated["']?\s{0,3}:\s{0,3}["']full["']/
        $file = /(>{1,2}|\btee\s{1,3}(-a\s{1,3})?|\bcp\s{1,3}\S{1,60}\s{1,3}|\bmv\s{1,3}\S{1,60}\s{1,3})\s{0,3}["']?(~|\$HOME|\$\{HOME\}|\$OPENCLAW_STATE_DIR|\$\{OPENCLAW_STATE_DIR\})\/(\.openclaw\/)?exec-approvals\.json/
    condition:
        $cli or $cli2 or $file or $json_el or ($json_exec and $json_val)
}
