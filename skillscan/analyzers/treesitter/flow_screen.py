"""Where in a script a credential flow can start or end, read off its text before any node is.

The flow checks ask the syntax tree only about calls and statements near a place the source text
allows: a name that can end the callee of a network send or of a shell call, an environment read,
a string that can name a secret path, a keychain command. The searches run over the script's
UTF-8 bytes (tree-sitter's offsets), one literal at a time (a literal is skipped to in C; an
alternation of many is tried at every position).

Every screen is a superset: it may keep places that turn out to be nothing, never drop one the
full analysis would act on. A callee leaf is dropped only when the text right before it rules its
receiver out (`os.environ.get` is no HTTP client), read on the same line and without comments,
continuations or non-ASCII characters in between, whatever the grammar makes of them; a shell
call only when its first argument, right after it, starts with a plain name (`exec(base64.…)`),
which no constant resolves from (`constants.resolve`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from functools import cache, cached_property, lru_cache
from typing import Any, TypeVar

from skillscan.analyzers.treesitter.call_sites import cover
from skillscan.analyzers.treesitter.flow_receivers import SHELL_RECEIVERS, Receivers
from skillscan.analyzers.treesitter.sensitive import PATH_WORDS, fold_case

T = TypeVar("T")

_ID = rb"A-Za-z0-9_$"
_SP = rb"[ \t\f\v]"  # spaces the callee text keeps apart from its words on one line


Trie = dict[str, "Trie"]


def _alternatives(words: Iterable[str], folded: bool) -> bytes:
    """The words reversed, as a trie of alternatives (one branch tried per first letter)."""
    trie: Trie = {}
    for w in words:
        node = trie
        for ch in (w.lower() if folded else w)[::-1]:
            node = node.setdefault(ch, {})
        node[""] = {}
    body = _trie(trie)
    return b"(?i:" + body + b")" if folded else body


def _trie(node: Trie) -> bytes:
    branches = [re.escape(ch.encode()) + _trie(sub) for ch, sub in sorted(node.items()) if ch]
    if not branches:
        return b""
    body = b"(?:" + b"|".join(branches) + b")"
    return body + b"?" if "" in node else body


@cache
def leaf_pattern(leaf: str, receivers: Receivers) -> re.Pattern[bytes]:
    """`leaf` as a whole name in the *reversed* text, not right before a character that cannot
    follow a callee (`.`, `,`, `)` …), unless what stands right before it (read
    forward in the reversed text) shows a receiver `receivers` rules out: an identifier that is not
    one of its names, a receiver not ending in a name at all (`f().get`, `'x'.get`, `a[0].get`), or
    no receiver (`return post(…)`) when a bare leaf does not count. Whatever else stands there
    (a newline, a comment, a backslash, a non-ASCII character, a digit) keeps the place."""
    rev = re.escape(leaf[::-1].encode())
    # a whole name, not followed by what cannot come between a callee and its arguments
    head = rev + rb"(?<![" + _ID + rb".,;)\]}:=]" + rev + rb")(?![A-Za-z_$])"
    if receivers.any:
        return re.compile(head)
    dot = _SP + rb"*\.\??" + _SP + rb"*"
    names = [_alternatives(ws, f) for ws, f in ((receivers.names, False), (receivers.folded, True)) if ws]
    known = rb"(?!(?:" + b"|".join(names) + rb")[0-9]*(?![" + _ID + rb"]))" if names else b""
    ruled_out = [
        dot + known + rb"[" + _ID + rb"]",  # another name
        dot + rb"[^" + _ID + rb"/\\\x80-\xff \t\f\v\r\n?]",  # no name: a bracket, a quote, an operator
    ]
    if not receivers.bare:
        ruled_out += [
            _SP + rb"*(?:[^" + _ID + rb".\\/#\x80-\xff \t\f\v\r\n]|\Z)",  # `(post(`, `= got(`
            _SP + rb"+[" + _ID + rb"]",  # a keyword before it: `return post(`, `new got(`
        ]
    return re.compile(head + rb"(?!" + b"|".join(ruled_out) + rb")")


# A first argument no constant can be resolved from: a plain name (not `chr`, `String`, `bytes`,
# not a string prefix, not a keyword argument), a number, or none.
_UNRESOLVABLE_FIRST = (
    rb"(?!" + _SP + rb"*\([ \t\f\v\r\n]*(?:"
    rb"(?!(?:chr|String|bytes)(?![" + _ID + rb"]))[A-Za-z_$][" + _ID + rb"]*+"
    rb"(?!" + _SP + rb"*=(?!=))(?![\"'`])|[0-9]|\)))"
)


@cache
def _shell_forward(leaf: str) -> re.Pattern[bytes]:
    """`leaf` with a first argument that may be a constant command; group `known` when it follows
    one of its receivers written plainly (`subprocess.run`): no need to read back for those."""
    word = re.escape(leaf.encode())
    known = b"|".join(
        rb"(?<=" + r + rb"\." + word + rb")(?<![A-Za-z_$]" + r + rb"\." + word + rb")"
        for r in sorted(re.escape(r.encode()) for r in SHELL_RECEIVERS[leaf].names)
    )
    return re.compile(
        word + rb"(?<![A-Za-z_$]" + word + rb")(?![" + _ID + rb"])" + _UNRESOLVABLE_FIRST
        + rb"(?:(?:" + known + rb")(?P<known>)|)"
    )  # fmt: skip


PLAIN = rb"[^()\"'`/\\#]"  # code outside strings, comments, escapes, templates and parentheses
# A string whose end a pattern finds where the parser does: no escape, template, line break, brace
# (an f-string's expression may hold quotes) or quote of its own kind, and no quote right after it
# (`'''` opens a long string).
_STRING = rb"(?:'[^'`\\\n{]*'|\"[^\"`\\\n{]*\")(?![\'\"])"


def call_pattern(string: bytes) -> bytes:
    """A callee leaf (group `leaf`) and an argument list after it of plain code and `string`
    literals, parentheses nested at most three deep."""
    atom = rb"(?:" + PLAIN + rb"++|" + string + rb")"
    return (
        rb"(?P<leaf>[" + _ID + rb"]+)[ \t\f\v\r\n]*\((?:" + atom + rb"|\((?:" + atom + rb"|\(" + atom
        + rb"*\))*\))*\)"
    )  # fmt: skip


# A call with such an argument list: matched at a leaf, its end is the call's end.
PLAIN_CALL = re.compile(call_pattern(_STRING))


@lru_cache(maxsize=1024)  # names come from the scanned files (tainted names, aliases): bounded
def _word(name: bytes) -> re.Pattern[bytes]:
    w = re.escape(name)
    return re.compile(w + rb"(?<![\w$]" + w + rb")(?![\w$])")


@cache
def _literal(word: bytes, tail: bytes = b"") -> re.Pattern[bytes]:
    return re.compile(re.escape(word) + tail)


# Digits as zeros: lines that differ only in their numbers (a flood's counter) are read once.
_ZEROS = bytes.maketrans(b"123456789", b"000000000")


def digits_as_zeros(text: bytes) -> bytes:
    return text.translate(_ZEROS)


def numbered_alike(text: bytes) -> set[bytes]:
    """The distinct lines of `text`, digits as zeros."""
    return set(digits_as_zeros(text).split(b"\n"))


def _present(data: bytes, words: Iterable[str]) -> list[str]:
    """The words that may occur in `data` (digits as zeros: `Screen.lines`), a longer word only
    looked for when a shorter one it contains may."""
    out: list[str] = []
    for key, longer in _cover(frozenset(words)):
        if digits_as_zeros(key) in data:
            out.append(key.decode())
            out.extend(w.decode() for w in longer if digits_as_zeros(w) in data)
    return out


@lru_cache(maxsize=256)
def _cover(words: frozenset[str]) -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    return cover([w.encode() for w in words])


# The words a secret path needs (`sensitive.PATH_WORDS`), searched in case-folded text, and
# backslashes (an escape can spell a word or a separator). Two words, common in code, count only
# where their patterns can use them, next to a quote, a separator, a space, an interpolation or an
# escape: ".env" (only `(?:^|/)\.env(?:\.…)?$`, not `process.env`) and "environ" (only
# `/proc/…/environ$`, not `os.environ`).
_BEFORE = rb"(?<![^\"'`/\\\s{}]"
_AFTER = {b".env": rb"(?=[.\"'`\\\s{}$]|\Z)", b"environ": rb"(?=[\"'`\\\s{}$]|\Z)"}


# Shorter words some path words share, searched for instead of them (a search each costs a pass
# over the text; an occurrence of the longer word is one of the shorter).
# (Not " data": `data=` in code would mark every send of a file.)
_SHARED = (b"credentials", b"local ", b"wallet", b"keychain", b"claw")


@cache
def _secret_words() -> tuple[tuple[bytes, bytes], ...]:
    words = sorted({w.encode() for w in PATH_WORDS or ()}, key=lambda w: (len(w), w))
    kept: list[bytes] = []
    for w in words:
        if not any(k in w for k in kept) and not any(c in w for c in _SHARED):
            kept.append(w)
    kept += [c for c in _SHARED if any(c in w for w in words)]
    tail = {w: _BEFORE + re.escape(w) + b")" + after for w, after in _AFTER.items()}
    return (*((w, tail.get(w, b"")) for w in kept), (b"\\", b""))


_KEYCHAIN = re.compile(
    rb"security[\"',\s]{1,6}(?:find-generic-password|find-internet-password|dump-keychain)"
)


class Screen:
    """Screens over one script's source: sorted UTF-8 byte offsets, each screen searched once per
    extent (`end`: the byte a prefix of the script stops at, None for all of it)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.ascii = text.isascii()
        self.data = text.encode("utf-8", "replace")  # as parsed (`parsing.parse`)
        self._found: dict[tuple[object, ...], list[int]] = {}
        self._present: dict[tuple[frozenset[str], int | None], list[str]] = {}
        self._facts: dict[str, Any] = {}

    @cached_property
    def reversed(self) -> bytes:
        return self.data[::-1]

    def fact(self, name: str, of: Callable[[str], T], lines: bool = False) -> T:
        """`of(text)`, worked out once per text (the whole file's, for every prefix of it); with
        `lines`, of its distinct lines, digits as zeros (for what no match spanning lines and no
        digit decides)."""
        if name not in self._facts:
            self._facts[name] = of(self._lines_text if lines else self.text)
        found: T = self._facts[name]
        return found

    @cached_property
    def _lines_text(self) -> str:
        return self.lines.decode("utf-8", "replace")

    def _stop(self, end: int | None) -> int:
        return len(self.data) if end is None else min(end, len(self.data))

    @cached_property
    def lines(self) -> bytes:
        """The distinct lines of the source (also cut at `;`), digits as zeros, once each, joined by
        line breaks: a word without `;` or a line break occurs in the source only if it occurs
        here with its digits as zeros (and a word without digits, if and only if), with only a `;`
        next to it turned into a break (a file of one statement repeated, or repeated with a
        counter, is one line)."""
        return b"\n".join(numbered_alike(self.data.replace(b";", b"\n")))

    def _searched(self, end: int | None) -> bytes:
        """What to look for words in, digits as zeros: the distinct lines of the whole source, or a
        prefix of it."""
        return self.lines if end is None or end >= len(self.data) else digits_as_zeros(self.data[:end])

    def present(self, words: Iterable[str], end: int | None = None) -> list[str]:
        """The words that may occur (before `end`): all that do, and those that differ from one
        that does only in their digits."""
        key = (frozenset(words), end)
        found = self._present.get(key)
        if found is None:
            found = self._present[key] = _present(self._searched(end), key[0])
        return found

    def leaves(self, table: dict[str, Receivers], key: object, end: int | None = None) -> list[int]:
        """Start offsets of the names of `table` (known as `key`) that can end a callee it
        accepts, before `end`."""
        found = self._found.get(("leaves", key, end))
        if found is not None:
            return found
        n, rev, found = len(self.data), self.reversed, []
        first = n - self._stop(end)  # the prefix, in the reversed text
        for leaf in self.present(table, end):
            found += [n - m.end() for m in leaf_pattern(leaf, table[leaf]).finditer(rev, first)]
        found.sort()
        self._found[("leaves", key, end)] = found
        return found

    def shell_leaves(self, end: int | None = None) -> list[int]:
        """Start offsets of the callee leaves of possible shell calls whose first argument may be
        a constant command (that first: it rules out most; then what stands before each)."""
        found = self._found.get(("shell", end))
        if found is None:
            n, rev, stop, found = len(self.data), self.reversed, self._stop(end), []
            for leaf in self.present(SHELL_RECEIVERS, end):
                # the usual receivers are read forward; what else stands before a leaf, backward
                before, size = leaf_pattern(leaf, SHELL_RECEIVERS[leaf]), len(leaf)
                found += [
                    m.start()
                    for m in _shell_forward(leaf).finditer(self.data, 0, stop)
                    if m.group(1) is not None or before.match(rev, n - m.start() - size)
                ]
            found.sort()
            self._found[("shell", end)] = found
        return found

    def env(self, end: int | None = None) -> list[int]:
        """Offsets of "env" (`os.environ`, `getenv`, `process.env`)."""
        found = self._found.get(("env", end))
        if found is None:
            found = [m.start() for m in _literal(b"env").finditer(self.data, 0, self._stop(end))]
            self._found[("env", end)] = found
        return found

    def secret(self, end: int | None = None) -> list[int]:
        """Offsets of the words a secret path needs (any case) and of backslashes."""
        found = self._found.get(("secret", end))
        if found is not None:
            return found
        if self.ascii:
            lines = self._searched(end).lower()
            # a word with neighbours to check is first looked for with them in the distinct lines
            # (where a `;` beside it reads as a line break: at worst it is then searched for)
            present = [
                (word, tail)
                for word, tail in _secret_words()
                if (zeroed := digits_as_zeros(word)) in lines
                and (not tail or _literal(zeroed, tail).search(lines))
            ]
            folded = self.data[: self._stop(end)].lower() if present else b""
            found = [m.start() for word, tail in present for m in _literal(word, tail).finditer(folded)]
        elif end is not None:  # a prefix: the whole text's, cut (folding it again would cost as much)
            whole = self.secret()
            found = whole[: bisect_left(whole, self._stop(end))]
        else:  # case-fold as the path patterns compare, then count bytes
            distinct = fold_case(self._searched(end).decode("utf-8", "replace"))
            occurring = {
                word.decode() for word, _ in _secret_words() if digits_as_zeros(word).decode() in distinct
            }
            text = fold_case(self.text) if occurring else ""
            chars = [
                m.start()
                for word, tail in _secret_words()
                if word.decode() in occurring
                for m in re.compile(re.escape(word.decode()) + tail.decode("latin-1")).finditer(text)
            ]
            found = byte_offsets(self.text, chars)
        found.sort()
        self._found[("secret", end)] = found
        return found

    def keychain(self, end: int | None = None) -> list[int]:
        """Offsets of keychain commands (`security find-generic-password`)."""
        if b"security" not in self._searched(end):
            return []
        return [m.start() for m in _KEYCHAIN.finditer(self.data, 0, self._stop(end))]

    def words(self, names: Iterable[str], end: int | None = None) -> list[int]:
        """Offsets of `names` as whole words (also in strings and comments), before `end`."""
        out: list[int] = []
        stop = self._stop(end)
        for name in _present(self._searched(end), names):
            out += [m.start() for m in _word(name.encode()).finditer(self.data, 0, stop)]
        out.sort()
        return out


def assigned(data: bytes, positions: list[int]) -> list[int]:
    """The positions right after an `=` that assigns (not `==`, `!=`, `<=`, `>=`), blanks, line
    breaks and opening parentheses apart: where an assigned value starts."""
    out: list[int] = []
    for p in positions:
        k = p - 1
        while k >= 0 and data[k] in _BLANKS:
            k -= 1
        if k >= 0 and data[k] == _EQUALS and (k == 0 or data[k - 1] not in _COMPARISONS):
            out.append(p)
    return out


_BLANKS = frozenset(b" \t\r\n\\(")  # blanks, line breaks, a continuation, an opening parenthesis
_EQUALS = ord("=")
_COMPARISONS = frozenset(b"=!<>")


def byte_offsets(text: str, chars: list[int]) -> list[int]:
    """UTF-8 byte offsets of character offsets of `text`: the bytes before each counted piece by
    piece between the offsets, or, for many offsets, its offset plus the extra bytes of the
    non-ASCII characters before it (by bisection)."""
    if len(chars) <= 1000:
        order = sorted(set(chars))
        at: dict[int, int] = {}
        done = offset = 0
        for c in order:
            offset += len(text[done:c].encode("utf-8", "replace"))
            done = c
            at[c] = offset
        return [at[c] for c in chars]
    wide, extra, total = [], [], 0  # non-ASCII character offsets, extra bytes up to and with each
    for m in _NON_ASCII.finditer(text):
        wide.append(m.start())
        total += len(m.group().encode("utf-8", "replace")) - 1
        extra.append(total)
    return [c + (extra[k - 1] if (k := bisect_left(wide, c)) else 0) for c in chars]


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
