"""Which of many literal gates a text opens, in one pass over it.

A gate lists literals (opened by any of them anywhere in the text) and words (opened by any of them
standing between non-alphanumeric characters). Texts are searched case-folded (`fold_case`), so a
gate built from a regex's lowercase literals opens exactly where its case-insensitive prefilter
would. One Aho-Corasick pass of YARA (a dependency already) finds every literal of every gate
at once, where a regex search per gate read the text once each.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Generic, TypeVar

import yara

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Gate:
    literals: frozenset[str] = frozenset()  # lowercase ASCII, anywhere
    words: frozenset[str] = frozenset()  # lowercase ASCII, no ASCII letter or digit on either side

    @classmethod
    def of(cls, literals: Iterable[str] = (), words: Iterable[str] = ()) -> Gate:
        return cls(frozenset(literals), frozenset(words))


class LiteralGates(Generic[K]):
    """Gates by key; a key without a gate (None) is open to every text."""

    def __init__(self, gates: Mapping[K, Gate | None]) -> None:
        always = frozenset(k for k, g in gates.items() if g is None)
        gated = {k: g for k, g in gates.items() if g is not None}
        strings = sorted(
            {(s, False) for g in gated.values() for s in g.literals}
            | {(s, True) for g in gated.values() for s in g.words}
        )
        for s, _ in strings:
            if not s or not s.isascii() or s != s.lower():
                raise ValueError(f"a gate literal is non-empty lowercase ASCII, got {s!r}")
        self._opens: dict[str, frozenset[K]] = {
            f"$s{i}": frozenset(k for k, g in gated.items() if s in (g.words if whole else g.literals))
            for i, (s, whole) in enumerate(strings)
        }
        self._source = _rule(strings)
        self.keys: frozenset[K] = frozenset(gates)
        self._always = always
        self._compiled: yara.Rules | None = None
        self._compiled_pid = -1

    def open(self, folded: str) -> Set[K]:
        """The gates `folded` (a `fold_case` text) opens; all of them if the search fails."""
        if not self._opens or not folded:
            return self._always
        try:
            # fast: each literal's first occurrence is enough to open its gates.
            matches = self._rules().match(data=folded.encode("utf-8", "surrogatepass"), fast=True)
        except yara.Error:
            return self.keys
        opened = set(self._always)
        for match in matches:
            for found in match.strings:
                opened |= self._opens[found.identifier]
        return opened

    def _rules(self) -> yara.Rules:
        # Compiled on first use in each process: libyara state is not shared across a fork.
        if self._compiled is None or self._compiled_pid != os.getpid():
            self._compiled = yara.compile(source=self._source)
            self._compiled_pid = os.getpid()
        return self._compiled


def _rule(strings: list[tuple[str, bool]]) -> str:
    """One rule holding every literal, each escaped byte by byte so none can break the syntax."""
    lines = [
        f'    $s{i} = "{_escape(s)}"' + (" fullword" if whole else "") for i, (s, whole) in enumerate(strings)
    ]
    return "rule gates {\n  strings:\n" + "\n".join(lines) + "\n  condition:\n    any of them\n}\n"


def _escape(literal: str) -> str:
    return "".join(c if c.isalnum() else f"\\x{ord(c):02x}" for c in literal)
