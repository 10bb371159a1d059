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

A shape is found by matching its pattern, but for a call of the same text around its part as the
last call shaped: that is compared as text (`_Last`).
"""

from __future__ import annotations

import keyword
import re
import string
import sys
from collections.abc import Callable

from skillscan.analyzers.treesitter.constants import builds_constant

Shape = Callable[[str], str | None]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = _NAME + r"(?:\." + _NAME + r")*"
_SHELL = re.compile(r"(" + _DOTTED + r")\(([ \t]*)(" + _NAME + r")([ \t]*(?:,[^()\n#'\"\\]*)?)\)")
_STRING_BYTES = string.ascii_letters + string.digits + "+/="  # a plain string's (`exec_shape`)
_EXEC = re.compile(
    r"(?:"
    + _DOTTED
    + r")\([ \t]*(("
    + _DOTTED
    + r")\([ \t]*(['\"])(["
    + re.escape(_STRING_BYTES)
    + r"]*)\3[ \t]*\))[ \t]*\)"
)
# names that are not plain names to the grammar (Python 2 statements the grammar still knows)
_NOT_NAMES = frozenset({*keyword.kwlist, *keyword.softkwlist, "print", "exec"})
MAX_SHAPES = 10_000  # shapes an `exec_shape` remembers (one per file)
MAX_ARGUMENT = 2000  # dangerous_calls._SHORT_ARGUMENT: a longer argument is searched otherwise


def shell_shape() -> Shape:
    """The shape of a call whose first positional argument is a plain name: its text without the
    name; None for any other call."""
    last = _Last(_plain_name)

    def shape(text: str) -> str | None:
        if (known := last.shape_of(text)) is not None:
            return known
        m = _SHELL.fullmatch(text)
        if m is None or m.group(3) in _NOT_NAMES:
            return None
        return last.keep(text, m.start(3), m.end(3))

    return shape


def exec_shape(code_source: re.Pattern[str]) -> Shape:
    """`exec_shape` with the decoder and fetch words `code_source` (searched in the argument; a
    match in its text around the string, a character away from the string's contents, is found
    whatever they are: the string is not searched then)."""
    fixed: dict[str, str] = {}  # shape -> "none" (no shape), "found", or "search"
    last = _Last(_plain_string)  # of the shapes "found" only: the others read the string

    def shape(text: str) -> str | None:
        if (known := last.shape_of(text)) is not None:
            return known
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
            return last.keep(text, m.start(4), m.end(4), MAX_ARGUMENT + len(text) - (m.end(1) - m.start(1)))
        return key + ("1" if code_source.search(m.group(1)) else "0")

    return shape


class _Last:
    """The last call given a shape, as its text before and after the part left out: a flood
    repeats one shape, and a call of the same text around a part of the same kind (`part_fits`)
    has it, found without a match of the whole pattern (the pattern reads the part as one run of
    its own characters between fixed text: the same text around it makes the same match)."""

    def __init__(self, part_fits: Callable[[str], bool]) -> None:
        self._fits = part_fits
        self._before = self._after = self._key = ""
        self._longest = -1  # no call shaped yet

    def shape_of(self, text: str) -> str | None:
        before, after = self._before, self._after
        end = len(text) - len(after)
        if (
            len(text) > self._longest
            or end < len(before)
            or not text.startswith(before)
            or not text.endswith(after)
        ):
            return None
        return self._key if self._fits(text[len(before) : end]) else None

    def keep(self, text: str, start: int, end: int, longest: int = sys.maxsize) -> str:
        """The shape of `text` without its part [start, end); `longest`: the longest text of the
        shape (a call whose argument is past MAX_ARGUMENT has none)."""
        self._before, self._after, self._longest = text[:start], text[end:], longest
        self._key = self._before + "\0" + self._after
        return self._key


def _plain_name(part: str) -> bool:
    return part.isascii() and part.isidentifier() and part not in _NOT_NAMES


def _plain_string(part: str) -> bool:
    return not part.strip(_STRING_BYTES)


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
