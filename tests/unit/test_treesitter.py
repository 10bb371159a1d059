from __future__ import annotations

import pytest

from skillscan.analyzers.treesitter import TreeSitterAnalyzer, load_rule_metadata
from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.parsing import parse
from skillscan.hashing import sha256_hex
from skillscan.models import FileKind, Skill, SkillFile, SkillIdentity


def expr(kind: FileKind, source: str):  # type: ignore[no-untyped-def]
    tree = parse(kind, source)
    assert tree is not None
    node = tree.root_node.named_children[0]
    return node.named_children[0] if node.type == "expression_statement" else node


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("'o' + 's'", "os"),
        ("'so'[::-1]", "os"),
        ("chr(111) + chr(115)", "os"),
        ("''.join(['cu', 'rl'])", "curl"),
        ("bytes.fromhex('6f73')", "os"),
        ("'a' 'b'", "ab"),
        ("f'plain'", "plain"),
        ("name + 'x'", None),
        ("f'{x}'", None),
    ],
)
def test_python_constants(source: str, value: str | None) -> None:
    assert resolve(expr(FileKind.PYTHON, source)) == value


@pytest.mark.parametrize(
    ("source", "value"),
    [("String.fromCharCode(99, 117)", "cu"), ("'a' + 'b'", "ab"), ("`plain`", "plain"), ("`${x}`", None)],
)
def test_js_constants(source: str, value: str | None) -> None:
    assert resolve(expr(FileKind.JAVASCRIPT, source)) == value


def test_deep_nesting_is_bounded() -> None:
    assert resolve(expr(FileKind.PYTHON, "+".join(["'a'"] * 300))) is None


def skill_with(path: str, kind: FileKind, text: str) -> Skill:
    data = text.encode()
    f = SkillFile(path=path, kind=kind, data=data, sha256=sha256_hex(data), text=text)
    return Skill(source="mem", identity=SkillIdentity(), files=(f,))


@pytest.mark.parametrize(
    ("path", "kind", "text", "rule"),
    [
        (
            "a.py",
            FileKind.PYTHON,
            "import subprocess\nsubprocess.run(cmd, shell=True)\n",
            "python-shell-command-dynamic",
        ),
        ("a.py", FileKind.PYTHON, "import os\nos.system('ls ' + user)\n", "python-shell-command-dynamic"),
        ("a.py", FileKind.PYTHON, "exec(payload)\n", "python-dynamic-code-exec"),
        (
            "a.js",
            FileKind.JAVASCRIPT,
            "const cp = require('child_process');\ncp.exec(`ls ${dir}`);\n",
            "js-child-process-dynamic",
        ),
    ],
)
def test_dangerous_calls_fire(path: str, kind: FileKind, text: str, rule: str) -> None:
    result = TreeSitterAnalyzer().analyze(skill_with(path, kind, text))
    assert (rule, 2 if text.count("\n") > 1 else 1) in {(f.rule_id, f.line) for f in result.findings}


@pytest.mark.parametrize(
    ("path", "kind", "text"),
    [
        ("a.py", FileKind.PYTHON, "import subprocess\nsubprocess.run(['git', 'status'])\n"),
        ("a.py", FileKind.PYTHON, "import subprocess\nsubprocess.run('git ' + 'status', shell=True)\n"),
        ("a.py", FileKind.PYTHON, "exec('print(1)')\n"),
        (
            "a.js",
            FileKind.JAVASCRIPT,
            "const m = /x/.exec(s);\nrequire('child_process').execFile('git', ['log']);\n",
        ),
    ],
)
def test_dangerous_calls_quiet_on_safe_shapes(path: str, kind: FileKind, text: str) -> None:
    result = TreeSitterAnalyzer().analyze(skill_with(path, kind, text))
    ids = {f.rule_id for f in result.findings}
    assert not ids & {"python-shell-command-dynamic", "python-dynamic-code-exec", "js-child-process-dynamic"}


def test_rule_metadata_is_data() -> None:
    metas = load_rule_metadata()
    assert "python-shell-command-dynamic" in metas
    assert all(m.engine == "treesitter" for m in metas.values())


def test_broken_source_does_not_crash() -> None:
    result = TreeSitterAnalyzer().analyze(skill_with("a.py", FileKind.PYTHON, "def (:\n  ))) exec(x\n\x00"))
    assert not result.errors
