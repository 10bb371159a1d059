"""Calls that share a verdict because they differ only in a part their check cannot read
(python_call_shapes): a flood of them reports what judging every call reports."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tree_sitter import Node

from skillscan.analyzers.treesitter import (
    FileContext,
    TreeSitterAnalyzer,
)
from skillscan.analyzers.treesitter.node_pass import CallPass
from skillscan.analyzers.treesitter.python_call_shapes import exec_shape, shell_shape
from skillscan.hashing import sha256_hex
from skillscan.models import FileKind, Skill, SkillFile, SkillIdentity
from tests.conftest import python_call_analyzer

_CODE_SOURCE = re.compile(r"\b(?:b64decode|urlopen)\b")


@pytest.mark.parametrize(
    ("text", "shaped"),
    [
        ("subprocess.run(c1, shell=True)", "subprocess.run(\0, shell=True)"),
        ("os.system( cmd )", "os.system( \0 )"),
        ("subprocess.run(c1, shell=x, **kw)", "subprocess.run(\0, shell=x, **kw)"),
        ("subprocess.run(None, shell=True)", None),  # a keyword, not a name
        ("subprocess.run(print, shell=True)", None),
        ("subprocess.run('ls', shell=True)", None),
        ("subprocess.run(c1, shell=f(x))", None),
        ("subprocess.run(c1, shell=True)  # x", None),
        ("subprocess.run(c1 + c2, shell=True)", None),
        ("getattr(os, 'system')(c1)", None),
    ],
)
def test_the_shape_of_a_shell_call(text: str, shaped: str | None) -> None:
    assert shell_shape()(text) == shaped


@pytest.mark.parametrize(
    ("text", "shaped"),
    [
        # a decoder word around the string: found whatever the string holds
        ("exec(base64.b64decode('QUFB1'))", "exec(base64.b64decode('\0'))"),
        # none around it: whether the string holds one is part of the shape
        ("exec(x.y('QUFB1'))", "exec(x.y('\0'))0"),
        ("exec(x.y('urlopen'))", "exec(x.y('\0'))1"),
        ("exec(x.yb64decode('a'))", "exec(x.yb64decode('\0'))0"),  # no word boundary
        ("exec(bytes.fromhex('41'))", None),  # can build a constant: the string is read
        ("exec(''.join('a'))", None),
        ("exec(x.y(f'a'))", None),
        ("exec(x.y('a' 'b'))", None),
        ("exec(x.y('a', 'b'))", None),
        ("exec(x.y('a\\x41'))", None),
        ("exec(x.y('" + "a" * 2000 + "'))", None),  # a long argument is searched otherwise
    ],
)
def test_the_shape_of_an_exec_call(text: str, shaped: str | None) -> None:
    assert exec_shape(_CODE_SOURCE)(text) == shaped


_PASS, _REFERENCE = python_call_analyzer(False), python_call_analyzer(True)


def _report(analyzer: TreeSitterAnalyzer, text: str) -> tuple[object, ...]:
    data = text.encode()
    f = SkillFile(path="a.py", kind=FileKind.PYTHON, data=data, sha256=sha256_hex(data), text=text)
    result = analyzer.analyze(Skill(source="mem", identity=SkillIdentity(), files=(f,)))
    return sorted((x.rule_id, x.line, x.message, x.evidence) for x in result.findings), sorted(result.notes)


@pytest.mark.parametrize(
    ("template", "odd"),
    [
        ("subprocess.run(c{k}, shell=True)", "subprocess.run('ls', shell=True)"),
        ("subprocess.run(c{k}, shell=True)", "subprocess.run(None, shell=True)"),
        ("os.system(c{k})", "os.system('ls')"),
        ("sp.run(c{k}, shell=True)", "sp.run(c, shell=False)"),
        ("exec(base64.b64decode('QUFB{k}'))", "exec(base64.b64decode(x))"),
        # the string decides: a fetch word in one of them
        ("exec(x.y('QUFB{k}'))", "exec(x.y('urlopen'))"),
        ("exec(x.y('{k}'))", "exec(x.y('b64decode'))"),
        ("exec(bytes.fromhex('4{k}'))", "exec(bytes.fromhex('41'))"),
        ("exec(compile('{k}'))", "exec(x.y('QUFB'))"),
    ],
)
@pytest.mark.parametrize("head", ["", "import subprocess as sp\n", "from os import system as exec\n"])
def test_a_flood_of_one_shape_reports_what_judging_every_call_reports(
    template: str, odd: str, head: str
) -> None:
    lines = [template.format(k=k) for k in range(300)]
    lines[30] = lines[150] = lines[299] = odd
    text = head + "\n".join(lines) + "\n"
    judged = [0]
    real = CallPass.__init__

    def counting(self: CallPass, ctx: FileContext, judge: Any, *args: Any) -> None:
        def each(node: Node) -> tuple[str | None, bool]:
            judged[0] += 1
            return judge(node)  # type: ignore[no-any-return]

        real(self, ctx, each, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(CallPass, "__init__", counting)
        reference = _report(_REFERENCE, text)
        assert _report(_PASS, text) == reference
    # each flood reports something (but `sp.` where nothing imports `sp`): the two could not agree
    # by both finding nothing
    assert bool(reference[0]) is not (template.startswith("sp.") and "as sp" not in head)
    if not head:  # calls of one shape are judged once (a string a constant is built from is read)
        assert (judged[0] < 20) is ("fromhex" not in template)


def test_a_match_next_to_the_string_is_searched_with_it() -> None:
    # a pattern whose match in the text around the string holds its quotes: the string decides
    shape = exec_shape(re.compile(r"'[a-z]*'"))
    assert shape("exec(x.y('abc'))") != shape("exec(x.y('ABC'))")
    assert shape("exec(x.y('abc'))") == shape("exec(x.y('xyz'))")


_IN_TURN = [
    "subprocess.run(c1, shell=True)",
    "subprocess.run(c22, shell=True)",
    "subprocess.run(None, shell=True)",  # the same text around a keyword
    "subprocess.run(c1.x, shell=True)",
    "subprocess.run('ls', shell=True)",
    "subprocess.run(é, shell=True)",
    "subprocess.run(, shell=True)",
    "exec(base64.b64decode('QUFB1'))",
    "exec(base64.b64decode('QUFB22'))",
    "exec(base64.b64decode(''))",
    "exec(base64.b64decode('QU FB'))",
    "exec(base64.b64decode('QU'+'FB'))",
    "exec(base64.b64decode('" + "A" * 1990 + "'))",
    "exec(base64.b64decode('" + "A" * 2000 + "'))",  # an argument past MAX_ARGUMENT
    "exec(base64.b64decode('))",  # the text before and after the string overlap
    "exec(x.y('QUFB1'))",
    "exec(x.y('urlopen'))",
]


@pytest.mark.parametrize("make", [shell_shape, lambda: exec_shape(_CODE_SOURCE)])
def test_a_call_shaped_after_another_has_the_shape_it_has_alone(make: Any) -> None:
    shape = make()
    assert [shape(text) for text in _IN_TURN] == [make()(text) for text in _IN_TURN]
    assert sum(shape(text) is not None for text in _IN_TURN) >= 2  # some come from the one before
