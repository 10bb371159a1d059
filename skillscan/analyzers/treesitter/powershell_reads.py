"""The reads of a PowerShell statement's text, replayed on statements of its shape (scan_shapes).

The analysis of a statement matches patterns on its text, its code (string literals blanked) and
its stages' code (`powershell._PsScan.read`). A statement of the same shape is the same text but
for its slots, parsed into the same nodes (the premise of scan_shapes): each text it is read on is
the one the first statement was read on with its own slots put in (the slots of a blanked string
blanked as long). A `ReadPlan` keeps each read as such a template and says which statements of
the shape read the same, without their trees:

- a read that found a match lying in the fixed text of its template, away from the slots (a
  `\\b` looks one character each side, a `$` needs the text's end there too), finds one in every
  statement of the shape: it is not read again;
- a read that found nothing, of a pattern each match of which holds a character no statement of
  the shape holds (not in the fixed text, nor one a slot or a blank can hold: `$` of an
  assignment), finds nothing in any: it is not read again;
- another read that found nothing is read once for a whole run of statements, on their texts joined by
  newlines with `^` and `$` matching at each (`re.M`): a match in one text is a match in the
  joined texts, so none there means none in any (a match there may cross two texts: then each is
  read on its own);
- any other read is read on each statement, as the analysis would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from re import _constants, _parser  # type: ignore[attr-defined]
from typing import Any, cast

from tree_sitter import Node

from skillscan.analyzers.treesitter.powershell_text import (
    CODE,
    RAW,
    TEXT,
    Read,
    code_text,
    outcome,
    statement_stages,
)
from skillscan.analyzers.treesitter.scan_shapes import SLOT_CHARS

# What a template holds: fixed text, or a slot (its index, whether it is blanked)
Item = str | tuple[int, bool]
# what makes a match depend on more than the characters it spans and their neighbours, or a
# search in joined texts miss one in a single text
_NOT_PLAIN = re.compile(r"\(\?[=!<>]|\\[AZG]|[*+?}]\+")
_ESCAPED = re.compile(r"\\.")
_MULTILINE: dict[Any, Any] = {}
_REQUIRED: dict[Any, frozenset[str]] = {}
# what a slot (scan_shapes.SLOT: a scheme, `://` and `_SLOT_CHARS`) or a blanked one (spaces) holds
_SLOT_CHARS = frozenset(SLOT_CHARS + " ")


@dataclass(frozen=True, slots=True)
class _Template:
    """A text read by the analysis, as fixed text and slots; `render` puts a statement's slots in."""

    items: tuple[Item, ...]
    format: bytes  # the items with `%s` for each slot
    order: tuple[tuple[int, bool], ...]  # the slots in `format`, in order
    whole: int  # the number of slots if `order` is each of them in turn, unblanked, else -1

    @classmethod
    def of(cls, items: list[Item]) -> _Template:
        fmt = b"".join(i.encode().replace(b"%", b"%%") if isinstance(i, str) else b"%s" for i in items)
        order = tuple(i for i in items if not isinstance(i, str))
        whole = len(order) if order == tuple((k, False) for k in range(len(order))) else -1
        return cls(tuple(items), fmt, order, whole)

    def render_all(self, found: list[tuple[bytes, ...]]) -> list[bytes]:
        """`render` of each, the usual templates without a call each."""
        fmt = self.format
        if found and len(found[0]) == self.whole:
            return [fmt % slots for slots in found]
        if len(self.order) == 1:
            k, blank = self.order[0]
            if blank:
                return [fmt % (b" " * len(slots[k]),) for slots in found]
            return [fmt % (slots[k],) for slots in found]
        return [self.render(slots) for slots in found]

    def render(self, slots: tuple[bytes, ...]) -> bytes:
        if len(slots) == self.whole:
            return self.format % slots
        return self.format % tuple(b" " * len(slots[k]) if blank else slots[k] for k, blank in self.order)


@dataclass(frozen=True, slots=True)
class _Check:
    read: Callable[[Any], Any]
    template: _Template
    raw: bool  # the read is of bytes
    found: bool | tuple[str, ...]
    joined: re.Pattern[Any] | None  # the read's pattern with `re.M`, when it is read on joined texts

    def holds(self, slots: tuple[bytes, ...]) -> bool:
        text = self.template.render(slots)
        return outcome(self.read(text if self.raw else text.decode("ascii"))) == self.found


class ReadPlan:
    """`scan_shapes.Facts` of a PowerShell shape: the reads of its first statement, as templates."""

    def __init__(self, each: list[_Check], joined: list[_Check]) -> None:
        self._each = each  # read on each statement
        self._joined = joined  # read once on the joined texts of a run

    def hold(self, found: list[tuple[bytes, ...]]) -> int:
        each = list(self._each)
        texts: dict[tuple[bytes, bool], bytes | str] = {}
        for check in self._joined:
            fmt = check.template.format
            text = texts.get((fmt, check.raw))
            if text is None:
                joined = texts.get((fmt, True))
                if joined is None:
                    # the slots hold no newline, nor do the templates (`read_plan`)
                    joined = texts[fmt, True] = b"\n".join(check.template.render_all(found))
                text = texts[fmt, check.raw] = joined if check.raw else cast(bytes, joined).decode("ascii")
            if cast(re.Pattern[Any], check.joined).search(text) is not None:
                each.append(check)
        if not each:
            return len(found)
        for n, slots in enumerate(found):
            if not all(check.holds(slots) for check in each):
                return n
        return len(found)


def read_plan(
    node: Node, raw: bytes, reads: Hashable, around: tuple[bytes, ...], slots: list[bytes]
) -> ReadPlan | None:
    """`ShapeMemo.facts` for PowerShell: the plan of the reads of `node` (the first statement of a
    shape, ASCII text `raw` cut into `around` and `slots`; `reads`: whether it has a quote, and the
    reads recorded), or None when a read cannot be put as a template."""
    quoted, recorded = cast(tuple[bool, tuple[Read, ...]], reads)
    stmt = raw.decode("ascii")
    spans: list[tuple[int, int]] = []
    at = 0
    for piece, slot in zip(around, slots, strict=False):
        at += len(piece)
        spans.append((at, at + len(slot)))
        at += len(slot)
    code = code_text(node) if quoted else stmt
    if len(code) != len(stmt):
        return None
    blank: list[bool] = []
    for s, e in spans:
        if code[s:e] == " " * (e - s):
            blank.append(True)
        elif code[s:e] == stmt[s:e]:
            blank.append(False)
        else:
            return None
    each: list[_Check] = []
    joined: list[_Check] = []
    stages: list[Node] | None = None
    for read, part, found in recorded:
        if part in (RAW, TEXT):
            text, lo, hi, blanks = stmt, 0, len(stmt), [False] * len(spans)
        else:
            text, blanks = code, blank
            lo, hi = 0, len(code)
            if part >= 0:
                stages = statement_stages(node) if stages is None else stages
                if part >= len(stages):
                    return None
                lo, hi = stages[part].start_byte - node.start_byte, stages[part].end_byte - node.start_byte
        items = _items(text, lo, hi, spans, blanks)
        if items is None or any("\n" in i for i in items if isinstance(i, str)):
            return None
        template = _Template.of(items)
        arg = template.render(tuple(slots))
        expected = raw if part == RAW else stmt if part == TEXT else code if part == CODE else None
        if expected is None:
            expected = code_text(cast(list[Node], stages)[part])
        if (arg if part == RAW else arg.decode("ascii")) != expected or outcome(read(expected)) != found:
            return None
        check = _Check(read, template, part == RAW, found, None)
        kind = getattr(read, "__name__", "")
        pattern = getattr(read, "__self__", None)
        plain = isinstance(pattern, re.Pattern) and not _NOT_PLAIN.search(_source(pattern))
        if (
            plain
            and found is True
            and kind in ("search", "match")
            and _always_found(read(expected), items, slots, _source(cast(re.Pattern[Any], pattern)))
        ):
            continue
        if (
            isinstance(pattern, re.Pattern)
            and (found is False or found == ())
            and kind in ("search", "match", "findall")
            and _never_found(pattern, items)
        ):
            continue  # a character each match holds is in no statement of the shape
        if plain and (found is False or found == ()) and kind in ("search", "match", "findall"):
            joined.append(
                _Check(read, template, part == RAW, found, _multiline(cast(re.Pattern[Any], pattern)))
            )
            continue
        each.append(check)
    return ReadPlan(each, joined)


def _items(text: str, lo: int, hi: int, spans: list[tuple[int, int]], blank: list[bool]) -> list[Item] | None:
    """`text[lo:hi]` as fixed text and slots; None when an end of it is inside a slot."""
    items: list[Item] = []
    at = lo
    for k, (s, e) in enumerate(spans):
        if e <= lo or s >= hi:
            continue
        if s < lo or e > hi:
            return None
        if s > at:
            items.append(text[at:s])
        items.append((k, blank[k]))
        at = e
    if hi > at:
        items.append(text[at:hi])
    return items


def _always_found(m: re.Match[Any], items: list[Item], slots: list[bytes], source: str) -> bool:
    """Whether match `m` (in the text of `items` with `slots` put in) lies in one fixed text of the
    template, with the characters a `\\b` reads on each side fixed too (or the text's ends), and at
    the end of the text if the pattern has a `$`: then every statement of the shape has one there."""
    at = 0
    for n, item in enumerate(items):
        end = at + (len(item) if isinstance(item, str) else len(slots[item[0]]))
        if isinstance(item, str) and at <= m.start() and m.end() <= end:
            first, last = n == 0, n == len(items) - 1
            if "$" in _ESCAPED.sub("", source) and not last:
                return False
            return (m.start() > at or first) and (m.end() < end or last)
        at = end
    return False


def _never_found(pattern: re.Pattern[Any], items: list[Item]) -> bool:
    """Whether a character every match of `pattern` holds is in no text of the template: not in
    its fixed text, and not one a slot (or a blanked one) can hold."""
    fixed = "".join(i for i in items if isinstance(i, str))
    return any(c not in _SLOT_CHARS and c not in fixed for c in _required(pattern))


def _required(pattern: re.Pattern[Any]) -> frozenset[str]:
    """Characters every match of `pattern` holds: literals of its top-level sequence, of the groups
    and the repeats of at least once in it (letters left out: case may be ignored)."""
    found = _REQUIRED.get(pattern)
    if found is None:
        try:
            tree = _parser.parse(pattern.pattern, pattern.flags)
        except Exception:  # a private module: any change in it only loses the shortcut
            tree = None
        found = _REQUIRED[pattern] = frozenset(_literals(tree) if tree is not None else ())
    return found


def _literals(sequence: Any) -> Iterator[str]:
    for op, arg in sequence:
        if op is _constants.LITERAL:
            c = chr(arg)
            if c.isascii() and c.lower() == c.upper():
                yield c
        elif op is _constants.SUBPATTERN:
            yield from _literals(arg[-1])
        elif op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT) and arg[0] >= 1:
            yield from _literals(arg[2])


def _source(pattern: re.Pattern[Any]) -> str:
    src = pattern.pattern
    return src.decode("latin-1") if isinstance(src, bytes) else src


def _multiline(pattern: re.Pattern[Any]) -> re.Pattern[Any]:
    found = _MULTILINE.get(pattern)
    if found is None:
        found = _MULTILINE[pattern] = re.compile(pattern.pattern, pattern.flags | re.M)
    return found
