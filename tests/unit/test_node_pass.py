"""Node checks that read the file's text first (`FileNodeCheck.begin`): the nodes they are handed,
what they judge once for many calls, and what they count instead of listing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Node

from skillscan.analyzers.treesitter import (
    FileContext,
    NodeDispatcher,
    SkillContext,
    TreeSitterAnalyzer,
)
from skillscan.analyzers.treesitter.registry import Hit
from skillscan.analyzers.treesitter.syntax_walk import Walk
from skillscan.hashing import sha256_hex
from skillscan.models import AnalysisResult, FileKind, Skill, SkillFile, SkillIdentity, VirtualOrigin
from tests.conftest import python_call_analyzer

_NODE_RULES = {
    "python-shell-command-dynamic",
    "python-dynamic-code-exec",
    "python-decoded-code-exec",
    "js-child-process-dynamic",
}


def skill_file(path: str, text: str, **virtual: object) -> SkillFile:
    kind = {"py": FileKind.PYTHON, "js": FileKind.JAVASCRIPT}[path.rsplit(".", 1)[1]]
    data = text.encode()
    return SkillFile(path=path, kind=kind, data=data, sha256=sha256_hex(data), text=text, **virtual)  # type: ignore[arg-type]


def analyze(*files: SkillFile) -> AnalysisResult:
    return TreeSitterAnalyzer().analyze(Skill(source="mem", identity=SkillIdentity(), files=files))


def found(result: AnalysisResult) -> list[tuple[str, int | None]]:
    return sorted((f.rule_id, f.line) for f in result.findings if f.rule_id in _NODE_RULES)


@pytest.mark.parametrize(
    ("path", "text", "rule", "line"),
    [
        # one real call after thousands of harmless ones, reached through aliases and bound names
        (
            "a.py",
            "import subprocess as sp\n" + "x = f(1)\n" * 3000 + "sp.Popen(c, shell=1)\n",
            "python-shell-command-dynamic",
            3002,
        ),
        (
            "a.py",
            "from os import system as s\n" + "s('ls')\n" * 3000 + "s(cmd)\n",
            "python-shell-command-dynamic",
            3002,
        ),
        (
            "a.py",
            "import os\n" + "os.system('ls')\n" * 3000 + "getattr(os, 'sys' + 'tem')(c)\n",
            "python-shell-command-dynamic",
            3002,
        ),
        (
            "a.py",
            "x = 1\n" + "subprocess.run(['ls'])\n" * 3000 + "__import__('os').popen(c)\n",
            "python-shell-command-dynamic",
            3002,
        ),
        ("a.py", "exec('print(1)')\n" * 3000 + "builtins.exec(payload)\n", "python-dynamic-code-exec", 3001),
        (
            "a.py",
            "eval('1')\n" * 3000 + "getattr(builtins, 'ev' + 'al')(src)\n",
            "python-dynamic-code-exec",
            3001,
        ),
        (
            "a.js",
            "const cp = require('child_process');\n" + "cp.exec('ls');\n" * 3000 + "cp\n  .exec(cmd);\n",
            "js-child-process-dynamic",
            3002,
        ),
        (
            "a.js",
            "const { exec: run } = require('child_process');\n" + "f(1);\n" * 3000 + "run /* c */ (cmd);\n",
            "js-child-process-dynamic",
            3002,
        ),
    ],
)
def test_a_real_call_among_many_harmless_ones_is_found(path: str, text: str, rule: str, line: int) -> None:
    assert found(analyze(skill_file(path, text))) == [(rule, line)]


def test_a_flood_lists_a_report_and_counts_the_rest() -> None:
    text = "import base64\n" + "exec(base64.b64decode('QUFB'))\n" * 500 + "eval(x); eval(y)\n" * 30
    result = analyze(skill_file("a.py", text))
    assert found(result) == [("python-decoded-code-exec", n) for n in range(2, 22)] + [
        ("python-dynamic-code-exec", n) for n in range(502, 522)
    ]
    assert result.notes == (
        "python-decoded-code-exec: 480 more matches in a.py not listed (first 20 reported)",
        "python-dynamic-code-exec: 20 more matches in a.py not listed (first 20 reported)",
    )


def test_a_verdict_that_depends_on_the_enclosing_function_is_not_reused() -> None:
    text = "def a():\n    code = base64.b64decode(x)\n    exec(code)\ndef b():\n    exec(code)\n"
    assert found(analyze(skill_file("a.py", text))) == [
        ("python-decoded-code-exec", 3),
        ("python-dynamic-code-exec", 5),
    ]


def test_a_payload_pinned_to_one_line_is_one_finding_and_no_count() -> None:
    # a decoded payload: every line of it is reported at the line of the blob it came from
    text = "exec(x)\n" * 50
    decoded = skill_file(
        "SKILL.md#decoded1.py",
        text,
        virtual=VirtualOrigin.DECODED,
        origin_path="SKILL.md",
        line_offset=7,
        pinned=True,
    )
    result = analyze(decoded)
    assert [(f.rule_id, f.path, f.line) for f in result.findings] == [
        ("python-dynamic-code-exec", "SKILL.md", 7)
    ]
    assert result.notes == ()


class _Pass:
    def __init__(self) -> None:
        self.seen: list[int] = []

    def run(self, walk: Walk, found: Sequence[int]) -> Iterable[Hit]:
        self.seen = [walk.nodes[i].start_byte for i in found]
        return [Hit("x", 99, f"{len(found)} calls")]


class _WithPass:
    """A node check that reads the file's text first: its pass is handed all its nodes at once."""

    languages = frozenset({FileKind.PYTHON})
    node_types = frozenset({"call"})
    needles = ()

    def __init__(self, skip: bool) -> None:
        self.one = None if skip else _Pass()

    def visit(self, node: Node, ctx: FileContext) -> Iterable[Hit]:
        raise AssertionError("a check with a pass is not fed node by node")

    def begin(self, ctx: FileContext) -> _Pass | None:
        return self.one


class _EachNode:
    languages = frozenset({FileKind.PYTHON})
    node_types = frozenset({"call"})
    needles = ()

    def visit(self, node: Node, ctx: FileContext) -> Iterable[Hit]:
        return [Hit("y", node.start_point[0] + 1, "node")]


@pytest.mark.parametrize("skip", [False, True])
def test_a_pass_is_handed_its_nodes_at_once_after_the_node_by_node_checks(skip: bool) -> None:
    check = _WithPass(skip)
    f = skill_file("a.py", "f(a)(g(b))\nh()\n")
    ctx = SkillContext(skill=Skill(source="mem", identity=SkillIdentity(), files=(f,)), catalog=None)  # type: ignore[arg-type]
    hits = list(NodeDispatcher([check, _EachNode()]).run(FileContext(file=f, skill=ctx)))
    assert [h.evidence for h in hits] == ["node"] * 4 + ([] if skip else ["4 calls"])
    assert check.one is None or check.one.seen == [0, 0, 5, 11]


_PASS, _REFERENCE = python_call_analyzer(False), python_call_analyzer(True)
_CALLEES = [
    "exec", "eval", "compile", "builtins.exec", "__import__('builtins').eval", "getattr(builtins, 'ex' + 'ec')",
    "foo.exec", "os.system", "os.popen", "subprocess.run", "subprocess.getoutput", "sp.Popen", "s", "x.run",
    "getattr(os, 'sys' + 'tem')", "__import__('os').popen",
]  # fmt: skip
_ARGUMENTS = [
    "'ls'", "x", "cmd", "'a' + x", "'a' + 'b'", "chr(97)", "f'{x}'", "base64.b64decode(x)", "code",
    "base64.b64decode('QUFB')", "compile(s, 'f', 'exec')", "exec(y)", "*a", "", "'é' + x", "bytes.fromhex('zz')",
    "x.text", "# c\n x",
]  # fmt: skip
_KEYWORDS = ["", "shell=True", "shell=False", "shell=x"]
_OTHER = [
    "import subprocess as sp", "from os import system as s", "code = base64.b64decode(blob)", "x = f(1)", "(",
    "# exec(x)", "t = 'os.system(c)'",
]  # fmt: skip
_call = st.builds(
    lambda callee, arg, kw: f"{callee}({', '.join(p for p in (arg, kw) if p)})",
    st.sampled_from(_CALLEES),
    st.sampled_from(_ARGUMENTS),
    st.sampled_from(_KEYWORDS),
)
_statement = st.one_of(_call, st.sampled_from(_OTHER), st.builds("{}; {}".format, _call, _call))
# (statement, times in a row, inside a function)
_lines = st.lists(
    st.tuples(_statement, st.sampled_from([1, 1, 2, 25]), st.booleans()), min_size=1, max_size=30
)


def _text(lines: list[tuple[str, int, bool]]) -> str:
    out: list[str] = []
    for statement, times, inside in lines:
        if inside:
            out.append("def f():")
        out += [("    " if inside else "") + statement] * times
    return "\n".join(out) + "\n"


def _report(analyzer: TreeSitterAnalyzer, files: tuple[SkillFile, ...]) -> tuple[object, ...]:
    result = analyzer.analyze(Skill(source="mem", identity=SkillIdentity(), files=files))
    findings = [(f.rule_id, f.path, f.line, f.severity, f.message, f.evidence) for f in result.findings]
    return sorted(findings), sorted(result.notes), result.errors  # the order checks run in aside


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_lines, st.booleans())
def test_the_pass_reports_what_judging_every_node_reports(
    lines: list[tuple[str, int, bool]], ascii: bool
) -> None:
    # what the pass shortcuts (text screen, verdicts and callee names remembered by text, hits
    # counted past a report's worth) must not change a finding, a line or a count
    text = _text(lines)
    if ascii:
        text = text.replace("é", "e")
    files = (  # virtual files of other real files (their lines mapped, or pinned to one line)
        skill_file("a.py", text),
        skill_file(
            "SKILL.md#block1.py",
            text,
            virtual=VirtualOrigin.CODE_BLOCK,
            origin_path="SKILL.md",
            line_offset=4,
        ),
        skill_file(
            "b.md#decoded1.py",
            text,
            virtual=VirtualOrigin.DECODED,
            origin_path="b.md",
            line_offset=9,
            pinned=True,
        ),
    )
    assert _report(_PASS, files) == _report(_REFERENCE, files)
