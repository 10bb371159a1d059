"""Deeply nested scripts stay linear in the tree-sitter engine.

tree-sitter nodes keep no parent pointer: `node.parent` walks down from the root, O(depth). One
such lookup per function node made 33k nested arrow functions (100 KB of `x=>`) take ~3 minutes in
the credential-flow check — past the analyzer timeout, with the abandoned thread still burning a
core. The bound here is generous (the fixed code needs well under a second); it catches a return
to quadratic cost, not a slow machine.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from skillscan.analyzers.treesitter import TreeSitterAnalyzer
from skillscan.bundle import load_folder
from skillscan.config import Limits

BOUND_S = 30.0
DEPTH = 30_000

CASES = {
    "nested-arrows.js": "module.exports = " + "x=>" * DEPTH + "x;\n",
    "nested-functions.js": "var f = "
    + "function(a){return " * (DEPTH // 4)
    + "a"
    + ";}" * (DEPTH // 4)
    + ";\n",
    "nested-lambdas.py": "f = " + "lambda a: " * DEPTH + "a\n",
    # linear, but ~0.5 ms of path/identifier look-ups per call level: kept small here
    "nested-calls.py": "x = " + "f(" * 3000 + "1" + ")" * 3000 + "\n",
}


@pytest.fixture(scope="module")
def analyzer() -> TreeSitterAnalyzer:
    return TreeSitterAnalyzer()


@pytest.mark.parametrize("name", sorted(CASES))
def test_deep_nesting_is_scanned_in_bounded_time(
    name: str, analyzer: TreeSitterAnalyzer, tmp_path: Path
) -> None:
    (tmp_path / "SKILL.md").write_text("---\nname: nested\ndescription: Nested code.\n---\n\nRun it.\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / name).write_text(CASES[name])
    skill = load_folder(tmp_path, Limits())
    start = time.perf_counter()
    result = analyzer.analyze(skill)
    elapsed = time.perf_counter() - start
    assert elapsed < BOUND_S, f"{name}: {elapsed:.1f} s"
    # Either analysed or a recorded error for the file: never a crash.
    assert all(e.analyzer == "treesitter" for e in result.errors)
