"""Reading Python calls for the shell and exec checks (`python_calls`): the arguments read in one
pass, callee names remembered per file by their text, and a call's constness told by its callee."""

from __future__ import annotations

import pytest
from tree_sitter import Node

from skillscan.analyzers.treesitter import TreeSitterAnalyzer
from skillscan.analyzers.treesitter.constants import builds_constant
from skillscan.analyzers.treesitter.parsing import node_text, parse, walk
from skillscan.analyzers.treesitter.python_calls import PythonCalls
from skillscan.hashing import sha256_hex
from skillscan.models import AnalysisResult, FileKind, Skill, SkillFile, SkillIdentity

_RULES = {"python-shell-command-dynamic", "python-dynamic-code-exec", "python-decoded-code-exec"}


def py_file(path: str, text: str) -> SkillFile:
    data = text.encode()
    return SkillFile(path=path, kind=FileKind.PYTHON, data=data, sha256=sha256_hex(data), text=text)


def analyze(*files: SkillFile) -> AnalysisResult:
    return TreeSitterAnalyzer().analyze(Skill(source="mem", identity=SkillIdentity(), files=files))


def found(result: AnalysisResult) -> list[tuple[str, str, int | None]]:
    return sorted((f.rule_id, f.path, f.line) for f in result.findings if f.rule_id in _RULES)


def _reference(call: Node, keyword: str) -> tuple[str | None, str | None]:
    """The first positional argument and the `keyword=` value, read the plain way."""
    args = call.child_by_field_name("arguments")
    named = [a for a in args.named_children if a.type != "comment"] if args is not None else []
    first = next(
        (a for a in named if a.type not in ("keyword_argument", "dictionary_splat", "list_splat")), None
    )
    value = next(
        (
            a.child_by_field_name("value")
            for a in named
            if a.type == "keyword_argument" and node_text(a.child_by_field_name("name") or a) == keyword
        ),
        None,
    )
    return (node_text(first) if first else None), (node_text(value) if value else None)


@pytest.mark.parametrize(
    "text",
    [
        "f(a, shell=True)\n",
        "f(shell=1, cmd=2)\n",
        "f()\n",
        "f(*args, c, shell=x)\n",
        "f(**kw, shell=0)\n",
        "f(# first\n  c, shell=True, shell=False)\n",
        "f(x for x in y)\n",
        "f(shell=True)(g)\n",
        "f(é, shell='é')\n",
        "f(a,, shell=True\n",
    ],
)
def test_arguments_read_in_one_pass_match_the_plain_reading(text: str) -> None:
    tree = parse(FileKind.PYTHON, text)
    assert tree is not None
    calls = PythonCalls(text, frozenset())
    for node in walk(tree.root_node):
        if node.type != "call":
            continue
        first, value = calls.arguments(node, "shell")
        only_first, none = calls.arguments(node)
        got = (node_text(first) if first else None), (node_text(value) if value else None)
        assert got == _reference(node, "shell")
        assert none is None and (node_text(only_first) if only_first else None) == got[0]


def test_a_call_without_arguments_costs_nothing_else() -> None:
    text = "exec()\nos.system()\nexec(code)\n"
    assert found(analyze(py_file("a.py", text))) == [("python-dynamic-code-exec", "a.py", 3)]


def test_callee_names_are_remembered_per_file() -> None:
    # the same callee text names os.system in one file only: an alias is the file's own
    aliased = py_file("a.py", "from os import system as s\n" + "s(cmd)\n" * 3)
    plain = py_file("b.py", "s(cmd)\n" * 3)
    assert found(analyze(aliased, plain)) == [("python-shell-command-dynamic", "a.py", n) for n in (2, 3, 4)]


def test_callees_ending_alike_are_told_apart() -> None:
    text = "x.run(c, shell=True)\nsubprocess.run(c, shell=True)\nx.run(c, shell=True)\nexec.run(c)\n"
    text += "foo.exec(c)\nbuiltins.exec(c)\n"
    assert found(analyze(py_file("a.py", text))) == [
        ("python-dynamic-code-exec", "a.py", 6),
        ("python-shell-command-dynamic", "a.py", 2),
    ]


@pytest.mark.parametrize(
    ("argument", "rule"),
    [
        ("chr(97)", None),
        ("chr (97)", None),
        ("''.join(['a', 'b'])", None),
        ("bytes.fromhex('6869')", None),
        ("bytes.fromhex('zz')", "python-decoded-code-exec"),  # not hex: not a constant
        ("str(x).join(['a'])", "python-dynamic-code-exec"),  # the separator is not constant
        ("''.join([a])", "python-dynamic-code-exec"),
        ("base64.b64decode('QUFB')", "python-decoded-code-exec"),
        ("f('print(1)')", "python-dynamic-code-exec"),
        ("compile('print(1)', 'f', 'exec')", None),  # the compile call inside is judged on its own
        ("compile (src, 'f', 'exec')", "python-dynamic-code-exec"),  # ... and flagged on its own
    ],
)
def test_a_call_argument_is_constant_only_when_its_callee_builds_one(argument: str, rule: str | None) -> None:
    result = found(analyze(py_file("a.py", f"x = 1\nexec({argument})\n")))
    assert result == ([(rule, "a.py", 2)] if rule else [])


def test_builds_constant_names_the_builders_only() -> None:
    assert all(builds_constant(n) for n in ("chr", "String.fromCharCode", "bytes.fromhex", "'-'.join"))
    assert not any(builds_constant(n) for n in ("exec", "base64.b64decode", "joiner", "chr.x", ""))


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # an alias imported before `import subprocess` is that line's only (it used to run on
        # into the next statements and make `subprocess` an alias of os.system)
        ("from os import system as sh\nimport subprocess\nsubprocess.run(c, shell=True)\n", 3),
        (
            "from os import (\n    system as sh,\n    popen,\n)\nimport subprocess\nsubprocess.run(c, shell=True)\n",
            6,
        ),
        ("from os import system as sh\nsh(c)\n", 2),  # the alias itself still resolves
        ("from os import system as sh\nimport subprocess\nsubprocess.run('ls', shell=True)\n", None),
    ],
)
def test_an_imported_alias_stops_at_its_statement(text: str, line: int | None) -> None:
    expected = [("python-shell-command-dynamic", "a.py", line)] if line else []
    assert found(analyze(py_file("a.py", text))) == expected
