"""One search of a text for the literal prefilters of every rule condition at once.

Searching a file once per condition costs a full pass each; one pass over a trie-shaped
alternation of all their (lowercase ASCII) literals finds every literal in every piece (line),
resuming one character after each hit so overlapping literals are all seen. The set of literals in
a piece tells which prefilters it passes. A piece dense with hits has the rest of its literals
listed by one C-level pass (a look-ahead at every offset), so Python work per piece stays bounded:
a line repeating a word 10,000 times costs little more than a line holding it once.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from skillscan.analyzers.regex_prefilter import Prefilter

DENSE = 32  # hits in one piece after which the rest of its literals are listed in one pass


class LiteralIndex:
    def __init__(self, prefilters: Iterable[Prefilter]) -> None:
        self._slots: dict[Prefilter, int] = {}
        for pf in prefilters:
            if pf.folded and pf not in self._slots:
                self._slots[pf] = len(self._slots)
        by_literal: dict[str, set[int]] = {}
        for pf, slot in self._slots.items():
            for literal in pf.literals:
                by_literal.setdefault(literal, set()).add(slot)
        # The hit at a position is one literal; any other literal there is a prefix of it or has
        # it as a prefix, so the hit stands for the prefilters of all of those.
        self._owners = {
            hit: tuple(sorted({s for lit, slots in by_literal.items() if _related(hit, lit) for s in slots}))
            for hit in by_literal
        }
        trie = trie_pattern(set(by_literal))
        self._pattern = re.compile(trie) if by_literal else None
        self._every = re.compile(f"(?=({trie}))")  # the literal starting at each offset
        self._slots_of: dict[frozenset[str], tuple[int, ...]] = {}

    def slot(self, prefilter: Prefilter) -> int | None:
        """The prefilter's place in `scan` results, or None when this index does not search it."""
        return self._slots.get(prefilter)

    def scan(self, folded: str, starts: list[int]) -> list[list[int]]:
        """For each slot, the ascending indices of the pieces of `folded` (a case-folded text whose
        pieces begin at `starts`) that hold one of its literals."""
        found: list[list[int]] = [[] for _ in self._slots]
        if self._pattern is None:
            return found
        search, every = self._pattern.search, self._every.findall
        pos = 0
        while (m := search(folded, pos)) is not None:
            piece = bisect.bisect_right(starts, m.start()) - 1
            end = starts[piece + 1] - 1 if piece + 1 < len(starts) else len(folded)
            literals = {m.group()}
            at, hits = m.start() + 1, 1
            while (m := search(folded, at, end)) is not None:
                literals.add(m.group())
                at, hits = m.start() + 1, hits + 1
                if hits == DENSE:
                    literals.update(every(folded, at, end))
                    break
            for slot in self._slots_for(frozenset(literals)):
                found[slot].append(piece)
            pos = end + 1
        return found

    def _slots_for(self, literals: frozenset[str]) -> tuple[int, ...]:
        slots = self._slots_of.get(literals)
        if slots is None:
            if len(self._slots_of) > 4096:  # pieces of hostile files are all different
                self._slots_of.clear()
            joined = set().union(*(self._owners[x] for x in literals))
            slots = self._slots_of[literals] = tuple(sorted(joined))
        return slots


def _related(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def trie_pattern(words: set[str]) -> str:
    """An alternation that branches one character at a time, so the engine tests each character
    of the text against a handful of first characters, not every literal in turn."""
    groups: dict[str, set[str]] = {}
    for w in words:
        groups.setdefault(w[:1], set()).add(w[1:])
    optional = groups.pop("", None) is not None
    alternatives = [re.escape(ch) + trie_pattern(rest) for ch, rest in sorted(groups.items())]
    if not alternatives:
        return ""
    body = alternatives[0] if len(alternatives) == 1 and not optional else f"(?:{'|'.join(alternatives)})"
    return f"{body}?" if optional else body
