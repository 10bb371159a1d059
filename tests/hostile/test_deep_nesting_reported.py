"""Code nested deeper than the tree-sitter engine follows is reported, never taken for clean.

A dangerous call at the bottom of 40,000 nested calls or arrow functions lies below the depth the
shared walk goes (`syntax_walk.MAX_DEPTH`): the file gets a scan error, so the verdict is at worst
indeterminate. (Before, the node checks' query never reached nodes that deep and the skill came
out clean.) The scripts stay within the default per-scan limits.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from skillscan.analyzers.treesitter import TreeSitterAnalyzer
from skillscan.bundle import load_folder
from skillscan.config import Limits
from skillscan.models import Verdict
from skillscan.verdict import decide, load_policy

DEPTH = 40_000
CASES = {
    "nested-calls.py": "import os\nx = " + "f(" * DEPTH + "os.system(cmd)" + ")" * DEPTH + "\n",
    "nested-arrows.js": "const cp = require('child_process');\nmodule.exports = "
    + "x=>" * DEPTH
    + "cp.exec(cmd);\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_deeply_nested_call_is_an_error_or_a_finding_never_clean(name: str, tmp_path: Path) -> None:
    (tmp_path / "SKILL.md").write_text("---\nname: nested\ndescription: Nested code.\n---\n\nRun it.\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / name).write_text(CASES[name])
    skill = load_folder(tmp_path, Limits())
    assert not skill.errors  # within the per-scan limits: the engine, not the loader, decides
    result = TreeSitterAnalyzer().analyze(skill)
    reported = [e for e in result.errors if e.path == f"scripts/{name}" and "nested deeper" in e.detail]
    found = [f for f in result.findings if f.path == f"scripts/{name}" and f.rule_id.endswith("-dynamic")]
    assert reported or found
    verdict, _, _ = decide(result.findings, result.errors, load_policy())
    assert verdict is not Verdict.CLEAN
