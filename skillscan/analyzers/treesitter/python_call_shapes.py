"""Calls that differ only in a part their check's verdict cannot read (`node_pass.CallPass`).

A flood of `subprocess.run(c1, shell=True)`, `subprocess.run(c2, shell=True)`, … or of
`exec(base64.b64decode('QUFB1'))`, `exec(base64.b64decode('QUFB2'))`, … has no two call texts
alike, so each call would be judged. A shape is the call's text without that part: calls of one
shape get the verdict of the first judged. Each shape below is a whole call of a plain form (a
dotted name called with simple arguments, ASCII, no comment, string prefix or escape), so any call
of the shape parses into the same nodes but for the part left out, and the part is one the judge
reads only as a kind of node, never as text:

- `shell_shape`: the first positional argument is a plain name (not a keyword): the shell check
  asks only whether the command resolves to a constant (`constants.resolve`), never for a name;
- `exec_shape`: the argument is a call of a dotted name with one plain string (letters, digits,
  `+/=`): the exec check reads the string only in the search for a decoder or fetch word in the
  argument (`dangerous_calls._CODE_SOURCE`), whose outcome is part of the shape, and does not
  resolve a call that cannot build a constant (`constants.builds_constant`; one that can has
  no shape).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable

from skillscan.analyzers.treesitter.constants import builds_constant

Shape = Callable[[str], str | None]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = _NAME + r"(?:\." + _NAME + r")*"
_SHELL = re.compile(r"(" + _DOTTED + r")\(([ \t]*)(" + _NAME + r")([ \t]*(?:,[^()\n#'\"\\]*)?)\)")
_EXEC = re.compile(
    r"(?:" + _DOTTED + r")\([ \t]*((" + _DOTTED + r")\([ \t]*(['\"])([A-Za-z0-9+/=]*)\3[ \t]*\))[ \t]*\)"
)
# names that are not plain names to the grammar (Python 2 statements the grammar still knows)
_NOT_NAMES = frozenset({*keyword.kwlist, *keyword.softkwlist, "print", "exec"})
MAX_SHAPES = 10_000  # shapes an `exec_shape` remembers (one per file)
MAX_ARGUMENT = 2000  # dangerous_calls._SHORT_ARGUMENT: a longer argument is searched otherwise


def shell_shape(text: str) -> str | None:
    """The shape of a call whose first positional argument is a plain name: its text without the
    name; None for any other call."""
    m = _SHELL.fullmatch(text)
    if m is None or m.group(3) in _NOT_NAMES:
        return None
    return text[: m.start(3)] + "\0" + text[m.end(3) :]


def exec_shape(code_source: re.Pattern[str]) -> Shape:
    """`exec_shape` with the decoder and fetch words `code_source` (searched in the argument; a
    match in its text around the string, a character away from the string's contents, is found
    whatever they are: the string is not searched then)."""
    fixed: dict[str, str] = {}  # shape -> "none" (no shape), "found", or "search"

    def shape(text: str) -> str | None:
        m = _EXEC.fullmatch(text)
        if m is None or m.end(1) - m.start(1) > MAX_ARGUMENT:
            return None
        key = text[: m.start(4)] + "\0" + text[m.end(4) :]
        how = fixed.get(key)
        if how is None:
            how = fixed[key] = _how(m, code_source) if len(fixed) < MAX_SHAPES else "none"
        if how == "none":
            return None
        if how == "found":
            return key
        return key + ("1" if code_source.search(m.group(1)) else "0")

    return shape


def _how(m: re.Match[str], code_source: re.Pattern[str]) -> str:
    if builds_constant(m.group(2)):
        return "none"
    text = m.string
    left, right = text[m.start(1) : m.start(4)], text[m.end(4) : m.end(1)]
    found = code_source.search(left + right)
    # the match and the characters `\b` reads around it are in the text around the contents
    if found is not None and (found.end() < len(left) or found.start() > len(left)):
        return "found"
    return "search"
