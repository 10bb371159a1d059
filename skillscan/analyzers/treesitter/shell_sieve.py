"""Which top-level statements of a shell text the shell threat checks analyse, and in what order
(`Sieve`): the statements `shell_gate` lets through are never walked, each distinct analysed one
is analysed once (`StatementMemo`), and a run of statements seen before that did nothing is
skipped whole.

Statements are reached through a tree cursor by byte (`spans`): the parts of the text the gate
finds nothing in cost no visit of the statements there.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from tree_sitter import Node, TreeCursor

from skillscan.analyzers.treesitter.scan_hits import MAX_MEMO_ENTRIES, StatementMemo
from skillscan.analyzers.treesitter.shell_gate import PIECE, Gate, Verdict, plain_verdict
from skillscan.analyzers.treesitter.threat_scan import MAX_VISITED, ShellScan


class Span(NamedTuple):
    """Whole top-level statements: bytes [start, end), first and last line (1-based), and the
    statements themselves when they were visited to find the span."""

    start: int
    end: int
    first_line: int
    last_line: int
    units: tuple[Node, ...] | None = None


def spans(root: Node, data: bytes, regions: Iterable[tuple[int, int]], size: int = PIECE) -> Iterator[Span]:
    """Runs of whole top-level statements of about `size` bytes that cover `regions`, in order and
    disjoint. In a tree without syntax errors a tree cursor finds the child at a byte in
    logarithmic time: the statements between are never visited one by one. `data` is the text the
    tree was parsed from."""
    if root.has_error:  # error recovery can leave the top level a flat list: see `_stepped`
        yield from _stepped(root, data, regions, size)
        return
    cursor = root.walk()
    done = 0  # end of the last span
    for start, end in regions:
        pos = max(start, done)
        while pos < end:
            first = _child_from(cursor, root, data, pos)
            if first is None:
                return
            if first.start_byte >= end:
                break
            last = _child_from(
                cursor, root, data, max(first.start_byte, min(end, first.start_byte + size) - 1)
            )
            if last is None:  # the rest of the file: its last child
                cursor.reset(root)
                cursor.goto_first_child_for_byte(first.start_byte)
                while cursor.goto_next_sibling():
                    pass
                last = cursor.node or first
            done = pos = last.end_byte
            yield Span(first.start_byte, last.end_byte, first.start_point[0] + 1, last.end_point[0] + 1)


def _stepped(root: Node, data: bytes, regions: Iterable[tuple[int, int]], size: int) -> Iterator[Span]:
    """`spans` over a top level whose children a cursor may find only by scanning them from the
    first (a flat list): runs are stepped through, and a region is jumped to only when it is
    farther from the last one than an eighth of the way there, so that the jumps cost at most
    about as much as stepping through every child would."""
    cursor = root.walk()
    if not cursor.goto_first_child():
        return
    node: Node | None = cursor.node
    for start, end in regions:
        if node is not None and node.end_byte <= start and start - node.end_byte > node.end_byte // 8:
            node = _child_from(cursor, root, data, start)
        while node is not None and node.end_byte <= start:
            node = cursor.node if cursor.goto_next_sibling() else None
        while node is not None and node.start_byte < end:
            first, units = node, []
            while True:
                if node.is_named:
                    units.append(node)
                last, node = node, cursor.node if cursor.goto_next_sibling() else None
                if node is None or node.start_byte >= end or node.end_byte - first.start_byte > size:
                    break
            yield Span(
                first.start_byte, last.end_byte, first.start_point[0] + 1, last.end_point[0] + 1, tuple(units)
            )


_SPACE = re.compile(rb"\s*")


def _child_from(cursor: TreeCursor, root: Node, data: bytes, pos: int) -> Node | None:
    """The first child of `root` that ends after byte `pos` (`goto_first_child_for_byte` finds
    nothing from whitespace between children: it is asked again from the next other byte)."""
    cursor.reset(root)
    if cursor.goto_first_child_for_byte(pos) is None:
        after = _SPACE.match(data, pos)
        nxt = after.end() if after else pos
        if nxt >= len(data):
            return None
        cursor.reset(root)
        if cursor.goto_first_child_for_byte(nxt) is None:  # not seen: look at every child
            cursor.reset(root)
            if not cursor.goto_first_child():
                return None
            while cursor.node is not None and cursor.node.end_byte <= pos:
                if not cursor.goto_next_sibling():
                    return None
    return cursor.node


def statements(root: Node, data: bytes, span: Span) -> Iterator[Node]:
    """The top-level statements (named children of `root`) of a span, in order (a cursor steps to
    the next child in constant time; `next_sibling` scans the parent from its start)."""
    if span.units is not None:
        yield from span.units
        return
    cursor = root.walk()
    node = _child_from(cursor, root, data, span.start)
    while node is not None and node.start_byte < span.end:
        if node.is_named:
            yield node
        node = cursor.node if cursor.goto_next_sibling() else None


class Sieve:
    """One scan's statements: `run` analyses (`analyse`) those that may matter, in order, until
    the scan's node budget is spent or its hits saturate; `pair_fetches` then analyses the statements let through whose
    downloads share a line with a file decode (`download-then-decode`).

    Texts are judged once: the gate's verdict per statement text (of trees without syntax errors,
    where `plain_verdict` is exact), statements whose analysis did nothing, and runs of statements
    (in a tree without syntax errors, where the same text parses the same) none of which did
    anything."""

    def __init__(self, scan: ShellScan, root: Node, analyse: Callable[[Node], None]) -> None:
        self.scan, self.root, self.analyse = scan, root, analyse
        self.data = root.text or b""
        self.gate = Gate(self.data)
        self.memo = StatementMemo(scan.hits, scan.replay)
        self.exact = not root.has_error
        self.verdicts: dict[bytes, Verdict] = {}  # by statement text, in trees without errors
        self.quiet: set[bytes] = set()  # statement texts whose analysis did nothing
        self.quiet_spans: set[bytes] = set()  # runs of statements of which none did anything
        self.span_verdicts: dict[bytes, Verdict] = {}
        self.fetching: list[Span] = []  # statements let through with downloads

    @property
    def spent(self) -> bool:
        """The node budget is spent, or a critical rule is listed in full (`Hits.saturated`)."""
        return self.scan.budget <= 0 or self.scan.hits.saturated is not None

    def run(self) -> None:
        for span in spans(self.root, self.data, self.gate.regions()):
            if self.spent:
                return
            text = self.data[span.start : span.end]
            if text in self.quiet_spans:
                continue
            exact = self.exact or (span.units is not None and not any(u.has_error for u in span.units))
            verdict = self.span_verdicts.get(text) if exact else None
            if verdict is None:
                verdict = plain_verdict(text, exact, self.gate.values)
                if exact and len(self.span_verdicts) < 1024:  # a flood repeats its runs of statements
                    self.span_verdicts[text] = verdict
            if verdict is Verdict.FETCHES:
                self.fetching.append(span)
            elif verdict is Verdict.ANALYSE:
                quiet = self._each(span, text)
                if quiet and self.exact and len(self.quiet_spans) < MAX_MEMO_ENTRIES:
                    self.quiet_spans.add(text)

    def _each(self, span: Span, text: bytes) -> bool:
        """Each statement of a span that may matter, each distinct one once (a repeat replays).
        True when none of them did anything."""
        quiet = True
        names: tuple[bytes, ...] | None = None  # the needles of the span, found when first needed
        for unit in statements(self.root, self.data, span):
            if self.spent:
                return False
            key = unit.text or b""
            if key in self.quiet:
                continue
            if self.memo.replay(key, unit):
                quiet = False
                continue
            exact = not unit.has_error
            verdict = self.verdicts.get(key) if exact else None
            if verdict is None:
                if not self.gate.forced(key):
                    if names is None:
                        names = self.gate.names_in(text)
                    verdict = None if self.gate.may_matter(key, names) else Verdict.INERT
                verdict = verdict or plain_verdict(key, exact, self.gate.values)
                if exact and len(self.verdicts) < MAX_MEMO_ENTRIES:
                    self.verdicts[key] = verdict
            quiet = exact and quiet
            if verdict is Verdict.ANALYSE:
                quiet = self._record(key, unit) and quiet
            elif verdict is Verdict.FETCHES:
                quiet = False
                line = unit.start_point[0] + 1
                self.fetching.append(Span(unit.start_byte, unit.end_byte, line, unit.end_point[0] + 1))
        return quiet

    def _record(self, key: bytes, unit: Node) -> bool:
        """Analyse a statement for the memo; True when it did nothing (no hit, no effect)."""
        did_nothing: list[bool] = []

        def analyse() -> None:
            self.analyse(unit)
            rec = self.scan.hits.recording
            did_nothing.append(rec is not None and not rec.hits and not rec.effects)

        self.memo.record(key, unit.start_point[0] + 1, analyse)
        if did_nothing == [True] and len(self.quiet) < MAX_MEMO_ENTRIES:
            self.quiet.add(key)
            return True
        return False

    def pair_fetches(self) -> None:
        lines = sorted({line for line, _ in self.scan.file_decodes} - self.scan.fetch_lines)
        if not lines:
            return
        budget, self.scan.budget = self.scan.budget, MAX_VISITED  # a few statements, not a flood
        for span in self.fetching:
            if not _meets(lines, span.first_line, span.last_line):
                continue
            for unit in statements(self.root, self.data, span):
                if _meets(lines, unit.start_point[0] + 1, unit.end_point[0] + 1):
                    self.analyse(unit)
        self.scan.budget = budget


def _meets(lines: list[int], first: int, last: int) -> bool:
    """Some line of the sorted `lines` is in [first, last]."""
    i = bisect_left(lines, first)
    return i < len(lines) and lines[i] <= last
