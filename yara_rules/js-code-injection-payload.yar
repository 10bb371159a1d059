rule js_code_injection_payload
{
    meta:
        id = "js-code-injection-payload"
        category = "remote-exec"
        severity = "high"
        confidence = "medium"
        description = "JavaScript that spawns processes or escapes a sandbox, written inside a string value (escaped quotes) or as a one-line require chain: an injected payload for a tool or template that evaluates it (Flowise-style javascriptFunction, vm escapes)."
        status = "stable"
    strings:
        // require(\"child_process\").execSync(...) inside a JSON / string literal
        $escaped = /require\s{0,3}\(\s{0,3}\\{1,2}["']child_process\\{1,2}["']\s{0,3}\)\s{0,3}\.\s{0,3}(exec|execSync|spawn|spawnSync|execFile|execFileSync)\s{0,3}\(/
        $main_module = /process\.mainModule\.require\s{0,3}\(\s{0,3}\\{0,2}["']child_process/
        $ctor_escape = /constructor\.constructor\s{0,3}\(\s{0,3}\\{0,2}["']return\s{1,3}(this|process|global)/
        $return_require = /["']return\s{1,3}require\s{0,3}\(\s{0,3}\\{0,2}["']child_process\\{0,2}["']\s{0,3}\)\s{0,3}\.\s{0,3}(exec|execSync|spawn|spawnSync)/
    condition:
        $escaped or $main_module or $ctor_escape or $return_require
}
