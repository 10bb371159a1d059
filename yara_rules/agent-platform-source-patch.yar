rule agent_platform_source_patch
{
    meta:
        id = "agent-platform-source-patch"
        category = "agent-tampering"
        severity = "high"
        confidence = "high"
        description = "Edits the installed OpenClaw runtime itself (sed -i / perl -pi / cat > / cp into node_modules/openclaw or its src/dist agents, tools, security code)."
        status = "stable"
    strings:
        // both in one file: a tool that edits in place, and the runtime's own code as a target
        $edit = /\bsed\s{1,3}(-[A-Za-z]{1,4}\s{1,3}){0,3}-[A-Za-z]{0,3}i\b|\bperl\s{1,3}-[A-Za-z]{0,3}i|\bpatch\s{1,3}-p\d|writeFileSync\s{0,3}\(|\.write_text\s{0,3}\(|\bcat\s{0,3}>{1,2}|\btee\s/
        $target = /node_modules[\/\\](openclaw|clawdbot|moltbot)[\/\\](dist|src|lib)[\/\\]|\b(openclaw|clawdbot)[\/\\](src|dist)[\/\\](agents|tools|security|infra|gateway)[\/\\]/
    condition:
        $edit and $target
}
