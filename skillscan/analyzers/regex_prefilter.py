"""Literal prefilters: strings one of which every match of a rule regex must contain.

Rule regexes run line by line, and most lines hold none of the words a regex needs. One search of
a whole file for those words (a single pass in C) picks out the few lines worth the real regex.
The words are read off Python's own parse tree, so a prefilter can only let extra lines through,
never drop a line the regex would match. Matching is case-insensitive, which only widens it.

Python's engine skips ahead fast only for a case-sensitive pattern, so ASCII literals are searched
lowercased in a case-folded copy of the text (`fold_case`), which matches exactly what IGNORECASE
would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the parser behind re.compile
from typing import Any

from skillscan.normalize import ASCII_FOLD

MAX_STRINGS = 64  # largest set of alternative strings tracked for one part of a pattern
MAX_CLASS = 16  # a character class of at most this many characters counts as alternatives
MIN_USEFUL = 3  # shorter ASCII strings (a lone "e") occur on nearly every line: no use

_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", object())}
_ZERO_WIDTH = {sre_parse.AT, sre_parse.ASSERT, sre_parse.ASSERT_NOT}
_EMPTY = frozenset({""})


@dataclass(frozen=True)
class Prefilter:
    literals: frozenset[str]  # lowercase when `folded`; empty for the any-non-ASCII filter
    pattern: re.Pattern[str]  # the literals as one alternation
    folded: bool  # ASCII literals: search `fold_case(text)`, not `text`
    non_ascii: bool = False  # every match holds a non-ASCII character (none in an ASCII text)

    def search(self, text: str, folded: str, pos: int) -> re.Match[str] | None:
        return self.pattern.search(folded if self.folded else text, pos)


@dataclass(frozen=True)
class _Info:
    exact: frozenset[str] | None  # every string the part can match, when there are few
    required: frozenset[str] | None  # every match contains one of these (None: nothing known)
    non_ascii: bool = False  # every match contains a non-ASCII character

    def needs(self) -> frozenset[str] | None:
        """What any match must contain, or None when nothing (or the empty string) is known."""
        found = self.exact if self.exact is not None else self.required
        return None if not found or "" in found else found


_UNKNOWN = _Info(None, None)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def literal_prefilter(pattern: str) -> Prefilter | None:
    """A case-insensitive alternation of literals that every match of `pattern` contains (else any
    non-ASCII character, when every match has one), or None when nothing useful is known."""
    info = _sequence(sre_parse.parse(pattern))
    needs = info.needs()
    if needs is None or any("\n" in s or (len(s) < MIN_USEFUL and s.isascii()) for s in needs):
        return Prefilter(frozenset(), _NON_ASCII, folded=False, non_ascii=True) if info.non_ascii else None
    folded = all(s.isascii() for s in needs)
    literals = frozenset(s.lower() for s in needs) if folded else needs
    alternation = "|".join(map(re.escape, sorted(literals, key=lambda s: (-len(s), s))))
    flags = 0 if folded else re.IGNORECASE
    return Prefilter(literals, re.compile(alternation, flags), folded, info.non_ascii)


def _score(strings: frozenset[str] | None) -> tuple[int, int]:
    if not strings or "" in strings:
        return (0, 0)
    return (min(map(len, strings)), -len(strings))


def _sequence(items: Any) -> _Info:
    """Consecutive exact parts multiply into longer strings; the best run (or the best required
    set of an inexact part) is what the whole sequence requires."""
    best: frozenset[str] | None = None
    run = _EMPTY
    exact_all = True
    non_ascii = False
    for item in items:
        info = _node(*item)
        non_ascii = non_ascii or info.non_ascii
        if info.exact is not None and len(run) * len(info.exact) <= MAX_STRINGS:
            run = frozenset(a + b for a in run for b in info.exact)
            continue
        exact_all = False
        best = max(best, run, key=_score)
        if info.exact is not None:
            run = info.exact
        else:
            best = max(best, info.required, key=_score)
            run = _EMPTY
    if exact_all:
        return _Info(run, None, non_ascii)
    return _Info(None, max(best, run, key=_score), non_ascii)


def _node(op: Any, av: Any) -> _Info:
    if op is sre_parse.LITERAL:
        return _Info(frozenset({chr(av)}), None, _non_ascii(av, av))
    if op in _ZERO_WIDTH:
        return _Info(_EMPTY, None)
    if op is sre_parse.IN:
        return _char_class(av)
    if op is sre_parse.SUBPATTERN:
        return _sequence(av[-1])
    if op is getattr(sre_parse, "ATOMIC_GROUP", None):
        return _sequence(av)
    if op is sre_parse.BRANCH:
        return _branch([_sequence(b) for b in av[1]])
    if op in _REPEATS:
        return _repeat(av[0], av[1], _sequence(av[2]))
    return _UNKNOWN  # any character, categories, back-references: no literal known


def _char_class(items: Any) -> _Info:
    chars: set[str] = set()
    listable, non_ascii = True, True
    for op, av in items:
        if op is sre_parse.LITERAL:
            chars.add(chr(av))
            non_ascii = non_ascii and _non_ascii(av, av)
        elif op is sre_parse.RANGE:
            if av[1] - av[0] < MAX_CLASS:
                chars.update(chr(c) for c in range(av[0], av[1] + 1))
            else:
                listable = False
            non_ascii = non_ascii and _non_ascii(*av)
        else:  # negation, categories
            return _UNKNOWN
    if listable and len(chars) <= MAX_CLASS:
        return _Info(frozenset(chars), None, non_ascii)
    return _Info(None, None, non_ascii)


def _non_ascii(lo: int, hi: int) -> bool:
    """Whether characters lo..hi are all non-ASCII, even under IGNORECASE."""
    return lo > 0x7F and not any(lo <= c <= hi for c in ASCII_FOLD)


def _branch(branches: list[_Info]) -> _Info:
    if all(b.exact is not None for b in branches):
        union = frozenset().union(*(b.exact for b in branches if b.exact is not None))
        if len(union) <= MAX_STRINGS:
            return _Info(union, None)
    non_ascii = all(b.non_ascii for b in branches)
    needs = [b.needs() for b in branches]
    if any(n is None for n in needs):
        return _Info(None, None, non_ascii)
    return _Info(None, frozenset().union(*(n for n in needs if n is not None)), non_ascii)


def _repeat(lo: int, hi: int, body: _Info) -> _Info:
    if body.exact is not None and hi <= 3:
        strings, level = set(_EMPTY if lo == 0 else ()), _EMPTY
        for count in range(1, hi + 1):
            level = frozenset(a + b for a in level for b in body.exact)
            if len(strings) + len(level) > MAX_STRINGS:
                break
            if count >= lo:
                strings |= level
        else:
            return _Info(frozenset(strings), None, body.non_ascii and lo >= 1)
    if lo == 0:
        return _UNKNOWN
    return _Info(None, body.needs(), body.non_ascii)
