rule agent_sandbox_disabled
{
    meta:
        id = "agent-sandbox-disabled"
        category = "agent-tampering"
        severity = "high"
        confidence = "high"
        description = "Widens the agent's sandbox: tools.fs.workspaceOnly false or sandbox mode off lets every tool reach files and hosts outside the workspace."
        status = "stable"
    strings:
        $ws1 = /\bworkspaceOnly['"]?\s{0,3}[:=]\s{0,3}['"]?false\b/
        $ws2 = /tools\.fs\.workspaceOnly['"]?\s{1,3}['"]?false\b/
        $sb1 = /\bsandbox(\.mode)?['"]?\s{1,3}['"]?off\b/
        // JSON/JSON5 config: a "sandbox" block and mode "off" in the same file
        $sb_obj = /["']?sandbox["']?\s{0,3}:\s{0,3}\{/
        $sb_off = /["']?mode["']?\s{0,3}:\s{0,3}["']off["']/
    condition:
        $ws1 or $ws2 or $sb1 or ($sb_obj and $sb_off)
}
