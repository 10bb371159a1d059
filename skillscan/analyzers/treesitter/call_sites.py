"""Calls of given names, found from the text first: where such a call can be, then which call is there.

A check that looks for calls of a few names (`exec`, `b64decode`, `child_process.exec`) must not
pay a tree look-up for each of the other calls of a 1 MB file. The text says where those names
occur as whole words (also in strings and comments: a superset), and what follows each one:

- a name followed by `)`, `,`, `.`, `=`, a quote … ends no callee (`then(eval)`, `x.exec.bind`);
- a callee followed by one plain quoted string and nothing else as its first argument
  (`exec('print(1)')`) has a constant first argument, which the sink checks never flag.

Only what is left is looked up in the tree (`CallSites`), and only as far as a check reads: a
check that stops early (a saturated rule) never pays for the rest of the file. Tree-sitter counts
UTF-8 bytes, the regex engine characters: offsets are converted on the way.

Each name is searched on its own: a search for one literal skips ahead in C, while an
alternation of fifty names is tried at every position (≈100 ms per MB, against 1-15 ms).
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import islice
from typing import AnyStr

from tree_sitter import Node

from skillscan.analyzers.treesitter.syntax_walk import MAX_DEPTH

# After a name: a character that cannot come between a callee and its arguments (only spaces,
# comments, `(`, a template, `<T>` type arguments or `?.(` can). Anything else keeps the place.
NOT_CALLED = r"""(?![ \t]*[)\]},;.:=+\-*%&|^~!>'"@])"""
_PLAIN = r"""(?:'[^'\\\r\n]*'|"[^"\\\r\n]*")"""
_SEP = r"[ \t\r\n]*"
_FIRST_ARGUMENT = rf"[\w.]+{_SEP},{_SEP}"


def _not_only(value: str, before: str = "") -> str:
    """Not a call whose argument (after `before`: `_FIRST_ARGUMENT` for the second) is `value` alone."""
    return rf"(?![ \t]*\({_SEP}{before}{value}{_SEP}[,)])"


# ... and the arguments, when the first or the second is a plain quoted string and nothing else
CONSTANT_FIRST = _not_only(_PLAIN)
CONSTANT_SECOND = _not_only(_PLAIN, _FIRST_ARGUMENT)
# ... or a bare (dotted) name or number: no constant either, so a value that is neither decoded
# nor a literal (for checks where only those count, in a file where nothing is decoded)
_BARE = r"[\w$.]+"
NAMED_FIRST = _not_only(rf"(?:{_PLAIN}|{_BARE})")
NAMED_SECOND = _not_only(rf"(?:{_PLAIN}|{_BARE})", _FIRST_ARGUMENT)


def present(text: str, names: Iterable[str]) -> list[str]:
    """The names that occur in `text` at all (a substring search each, in C; a name that contains
    a shorter one is only searched for when that one occurs)."""
    out: list[str] = []
    for key, longer in _cover(frozenset(names)):
        if key in text:
            out.append(key)
            out.extend(n for n in longer if n in text)
    return out


def cover(names: Iterable[AnyStr]) -> tuple[tuple[AnyStr, tuple[AnyStr, ...]], ...]:
    """The names by a shorter name each contains (itself if none): (shorter, its longer names).
    One search for each shorter name finds every place one of its longer names can be."""
    keys: dict[AnyStr, list[AnyStr]] = {}
    for n in sorted(names, key=lambda n: (len(n), n)):
        key = next((k for k in keys if k in n), None)
        if key is None:
            keys[n] = []
        else:
            keys[key].append(n)
    return tuple((k, tuple(longer)) for k, longer in keys.items())


@lru_cache(maxsize=256)  # name sets come from files too (aliases, bound names): bounded
def _cover(names: frozenset[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return cover(names)


@lru_cache(maxsize=1024)
def _pattern(name: str, tail: str) -> re.Pattern[str]:
    # the literal first, so that the search skips to it in C; the boundary before it is looked back at
    word = re.escape(name)
    return re.compile(rf"{word}(?<![\w$]{word})(?![\w$]){tail}")


def _starts(text: str, name: str, tail: str, limit: int | None) -> list[int]:
    found = _pattern(name, tail).finditer(text)
    return [m.start() for m in (found if limit is None else islice(found, limit + 1))]


def _to_bytes(text: str, starts: list[int]) -> list[int]:
    """Character offsets (in order) as UTF-8 byte offsets."""
    if text.isascii():
        return starts
    out, chars, offset = [], 0, 0
    for start in starts:
        offset += len(text[chars:start].encode("utf-8", "replace"))
        chars = start
        out.append(offset)
    return out


def word_spans(
    text: str, names: Iterable[str], tail: str = "", limit: int | None = None
) -> list[tuple[int, int, str]] | None:
    """Byte spans of the whole-word occurrences of `names` followed by what `tail` (a lookahead)
    allows, in order (all at once: `Words` reads them as far as asked); None when there are more
    than `limit`."""
    spans: list[tuple[int, int, str]] = []
    for name in present(text, names):
        starts = _to_bytes(text, _starts(text, name, tail, None if limit is None else limit - len(spans)))
        size = len(name.encode("utf-8"))
        spans += ((s, s + size, name) for s in starts)
        if limit is not None and len(spans) > limit:
            return None
    spans.sort()
    return spans


def any_word(text: str, names: Iterable[str], tail: str = "") -> bool:
    """Whether one of `names` occurs as a whole word followed by what `tail` allows."""
    return any(_pattern(n, tail).search(text) for n in present(text, names))


def word_starts(
    text: str, names: Iterable[str], tail: str = "", limit: int | None = None
) -> list[int] | None:
    """The start bytes of `word_spans`; None when there are more than `limit`."""
    starts: list[int] = []
    for name in present(text, names):
        starts += _starts(text, name, tail, None if limit is None else limit - len(starts))
        if limit is not None and len(starts) > limit:
            return None
    starts.sort()
    return _to_bytes(text, starts)


def _tagged(matches: Iterator[re.Match[str]], role: int) -> Iterator[tuple[re.Match[str], int]]:
    return ((m, role) for m in matches)


class Words:
    """Whole-word occurrences of names in a text, in order, as UTF-8 byte spans (`starts`, `ends`,
    `names`, `roles`), read from the text only as far as asked (`read_to`, `first_from`). `groups`
    are (names, lookahead) pairs; an occurrence's role is the bit set of the groups that find it."""

    def __init__(self, text: str, groups: Sequence[tuple[Iterable[str], str]]) -> None:
        streams = [
            _tagged(_pattern(n, tail).finditer(text), 1 << g)
            for g, (names, tail) in enumerate(groups)
            for n in present(text, names)
        ]
        self._stream: Iterator[tuple[re.Match[str], int]] = heapq.merge(*streams, key=lambda p: p[0].start())
        self._ascii = text.isascii()
        self._text = text
        self._chars = self._bytes = 0  # last converted offset, in characters and in bytes
        self._raw: tuple[int, int, str, int] | None = None  # pulled from the stream, not yet merged
        self._next: tuple[int, int, str, int] | None = None  # the next occurrence, not yet stored
        self._exhausted = False
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.names: list[str] = []
        self.roles: list[int] = []

    @property
    def done(self) -> bool:
        return self._next is None and self._raw is None and self._exhausted

    def _pull(self) -> tuple[int, int, str, int] | None:
        for m, role in self._stream:
            start, end = m.start(), m.end()
            if not self._ascii:
                self._bytes += len(self._text[self._chars : start].encode("utf-8", "replace"))
                self._chars = start
                start, end = self._bytes, self._bytes + len(m.group().encode("utf-8", "replace"))
            return start, end, m.group(), role
        self._exhausted = True
        return None

    def _peek(self) -> tuple[int, int, str, int] | None:
        """The next occurrence (a word found by several groups is one occurrence)."""
        if self._next is None:
            found = self._raw or self._pull()
            self._raw = None
            while found is not None:
                other = self._pull()
                if other is None or other[0] != found[0]:
                    self._raw = other
                    break
                found = (*found[:3], found[3] | other[3])
            self._next = found
        return self._next

    def _store(self) -> bool:
        found = self._peek()
        if found is None:
            return False
        self._next = None
        self.starts.append(found[0])
        self.ends.append(found[1])
        self.names.append(found[2])
        self.roles.append(found[3])
        return True

    def read_to(self, until: int | None) -> None:
        """Read every occurrence that starts before byte `until` (None: all of them)."""
        while (found := self._peek()) is not None and (until is None or found[0] < until):
            self._store()

    def first_from(self, pos: int) -> int | None:
        """The index of the first occurrence that starts at byte `pos` or later, if any."""
        while not self.starts or self.starts[-1] < pos:
            if not self._store():
                return None
        return bisect_left(self.starts, pos)


def callee_end(call: Node) -> int:
    func = call.child_by_field_name("function") or call.child_by_field_name("constructor")
    return func.end_byte if func is not None else -1


class CallSites:
    """The walked calls whose callee (function or constructor) ends where one of `words` ends,
    in document order, found by one lazy sweep over the calls: each call is looked at once, and
    only a call with one of the words inside it has its callee read. A callee ends at a word's end
    only if the word is its last name (`a.b.exec`, `exec`): the words are whole words."""

    def __init__(self, nodes: Sequence[Node], calls: Sequence[int], words: Words) -> None:
        self._nodes = nodes
        self._calls = calls  # indices in `nodes`, in document order
        self._words = words
        self._next = 0
        self._by_end: dict[int, int] = {}  # end byte -> index of the word, for the words read
        self._indexed = 0
        self.found: list[tuple[Node, int]] = []  # (call, index of its name in `words`), in order

    @property
    def done(self) -> bool:
        return self._next >= len(self._calls)

    def advance(self, until: int | None = None, one: bool = False) -> None:
        """Look at the calls that start before byte `until` (None: all), or only up to the next
        site found when `one`."""
        nodes, calls, words, by_end = self._nodes, self._calls, self._words, self._by_end
        found = len(self.found)
        while self._next < len(calls):
            call = nodes[calls[self._next]]
            start = call.start_byte
            if until is not None and start >= until:
                return
            self._next += 1
            k = words.first_from(start)
            if k is None:  # no word at or after this call: no site left
                self._next = len(calls)
                return
            end = call.end_byte
            if words.starts[k] >= end:
                continue
            words.read_to(end)
            for j in range(self._indexed, len(words.starts)):
                by_end[words.ends[j]] = j
            self._indexed = len(words.starts)
            leaf = by_end.get(callee_end(call))
            if leaf is not None:
                self.found.append((call, leaf))
                if one and len(self.found) > found:
                    return


MAX_START_WORDS = 32  # names a call may start with; past that many, every call is read


def callee_starts(
    root: Node, types: frozenset[str], words: Sequence[tuple[int, int, str]], budget: int
) -> list[int] | None:
    """Start bytes of the calls (of `types`) whose callee ends where one of `words` ends. Such a
    call is the innermost call around the word, so each word costs one descent from the root to
    it (`child_with_descendant`: logarithmic in a node's width); None when the descents would read
    more than `budget` nodes. Calls deeper than the walk goes (`syntax_walk.MAX_DEPTH`) are
    left out, as the walk leaves them out."""
    out: set[int] = set()
    steps = 0
    for start, end, _ in words:
        word = root.named_descendant_for_byte_range(start, end)
        if word is None:
            continue
        node: Node | None = root
        call: Node | None = None
        for _ in range(MAX_DEPTH):
            if node is None or node == word:
                break
            node = node.child_with_descendant(word)
            steps += 1
            if steps > budget:
                return None
            if node is not None and node.type in types:
                call = node
        if call is not None and callee_end(call) == end:
            out.add(call.start_byte)
    return sorted(out)


def call_starts(
    text: str,
    root: Node,
    calls: int,
    types: frozenset[str],
    ending: Iterable[str],
    starting: Iterable[str],
    tail: str,
) -> list[int] | None:
    """Where the calls of `types` that can be flagged start (`calls`: how many the walk holds).
    Such a call's callee ends with one of `ending`, followed by what `tail` allows: when those
    places are few, each is placed by a descent (`callee_starts`); else the calls that start with
    one of those names (a callee that is just the name) or with one of `starting` (the first name
    of any other callee: a superset) are taken. None: read every call (more places than calls)."""
    live = word_starts(text, ending, tail, limit=calls)
    if live is None:
        return None
    if len(live) <= calls // 32:  # a descent reads ~10-30 nodes
        found = callee_starts(root, types, word_spans(text, ending, tail) or [], budget=calls)
        if found is not None:
            return found
    first = frozenset(starting)
    more = word_starts(text, first, limit=calls) if len(first) <= MAX_START_WORDS else None
    if more is None:
        return None
    return sorted(set(live).union(more)) if more else live
