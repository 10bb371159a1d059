"""Which statements of a shell text the shell threat checks (`shell_threats`, `shell_exfil`,
`shell_writes`) must analyse, decided from bytes: a flood of statements no rule reads costs a few
passes over the text, not a walk of every statement's tree.

Each test is a necessary condition for a statement to produce a hit or a scan effect:

- `Gate.may_matter` (any text): it names a command some rule reads (`NAMES`), holds `>` (every
  write the rules judge is a `>` redirect), or holds `$` in a file that assigns variables (`$a$b`
  after `a=r b=m` is `rm` to `literal`). Names are searched with quotes, backslashes and `$`
  deleted, so `c''url`, `"r"m`, `r\\m` and `$'r'm` still read `curl` and `rm`: `peel` / `literal`
  build a command name only from the text as written minus those delimiters, plus the values of
  literal assignments (which need a `=` somewhere in the file); command substitutions are walked as
  commands of their own. The test is a substring search, so it also holds piece by piece: the text
  is cut at bytes no name contains and the deletion keeps (`Gate.regions`).
- `plain_verdict` (whole statements): text of plain words, pipes and separators only (no
  escape, quotes only around plain word bytes, redirects only of output thrown away, `$NAME`
  read as each value the file may give it (`Gate.values`) and as written (`shell_plain`): a
  command name is a word as written without its quotes, its last `/` part) whose
  only commands any rule reads are downloaders, decoders, `rm`, `chmod` / `chown` and copies, none
  of them with what those rules judge (an upload option or `@`, a decoder's input file, a base64
  word an `echo` could feed a decoder, a word `rm` must not delete: `rm_may_hit`, a mode reported:
  `mode_may_hit`, a destination judged: `dest_may_hit`). The downloads it lets through matter only
  to a decode on their line (`download-then-decode`): `FETCHES` says the caller must analyse them
  if one turns up. With an expansion, downloads and decoders are always analysed (their URLs,
  bodies and inputs are judged from variables too).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from enum import Enum

from skillscan.analyzers.treesitter.rm_targets import GLOB_WORDS, ROOT_WORDS, USER_DATA_WORDS
from skillscan.analyzers.treesitter.shell_plain import (
    AFTER_VALUE,
    PLAIN,
    VALUE,
    WORD,
    dressed,
    plain_words,
    readings,
)
from skillscan.analyzers.treesitter.shell_words import FETCHERS
from skillscan.analyzers.treesitter.shell_writes import DEST_MARKS
from skillscan.analyzers.treesitter.threat_scan import (
    CHMOD_SETUID,
    CHMOD_WIDE,
    DECODERS,
    DNS_TOOLS,
    MAILERS,
    NETCATS,
    REMOTE_COPY,
)

# Commands whose arguments a rule reads (`shell_threats._command`, `shell_exfil.command`); `mkfs*`
# is matched as a prefix.
PEELED = (
    NETCATS
    | FETCHERS
    | REMOTE_COPY
    | MAILERS
    | DNS_TOOLS
    | DECODERS
    | frozenset(
        {"socat", "crontab", "launchctl", "systemctl", "rm", "chmod", "chown", "dd", "diskutil", "shred",
         "truncate", "srm", "history", "tee", "cp", "mv", "install", "ln", "sed", "perl", "security"}
    )
)  # fmt: skip
# ... and the names pipeline rules look for besides those (`xargs curl`).
NAMES = PEELED | frozenset({"xargs", "mkfs"})
# What to search for: a name holding another name is found through it (`nc` finds `ncat`).
_NEEDLES = tuple(sorted(n.encode() for n in NAMES if not any(m != n and m in n for m in NAMES)))
_NAMES = frozenset(n.encode() for n in NAMES)
_DELETED = b"\\'\"$"  # quote and escape bytes `literal` drops between the letters of a word
# A byte no name contains and the deletion keeps: no name found in the whole text spans it.
_CUT = re.compile(rb"[^A-Za-z0-9._\-\\'\"$]")
PIECE = 4096  # bytes per piece `Gate.regions` tests
MAX_LOOKUP_BYTES = 2 << 20  # bytes `Gate.values` looks through, in all (a name costs the whole text)
_WORD_BYTES = frozenset(WORD)


class Gate:
    """`may_matter` over the parts of one shell text (`data`, the bytes its tree was parsed from)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.dollar = b"$" in data and b"=" in data  # names may be built from variables
        self._values: dict[bytes, frozenset[bytes] | None] = {}
        self._lookups = MAX_LOOKUP_BYTES // max(len(data), 1)  # each looks through the whole text
        self._found = _NEEDLES[0]  # the needle `may_matter` found last

    def values(self, name: bytes) -> frozenset[bytes] | None:
        """What `literal` may read `$name` as besides itself: the values of `name=` (or `name+=`)
        anywhere in the text (`shell_words.assignments` takes the first literal one; every
        assignment is spelled so), None when one is not plain word bytes up to a blank, separator,
        redirect or subshell end (`shell_plain.VALUE`), or when the text was looked through for
        too many names already."""
        if name not in self._values:
            if self._lookups <= 0:
                return None
            self._lookups -= 1
            found: set[bytes] = set()
            if name + b"=" in self.data or name + b"+=" in self.data:
                # each value, with the byte after it when that ends no plain value (a byte that is
                # no word byte, as the value takes them all); the pattern starts with the name,
                # so that the search skips to its bytes, and one group makes no tuple per match
                pattern = rb"%s(?<![A-Za-z0-9_]%s)\+?=(%s%s?)" % (name, name, VALUE, AFTER_VALUE)
                found = set(re.findall(pattern, self.data))
            known = all(not v or v[-1] in _WORD_BYTES for v in found)
            self._values[name] = frozenset(found) if known else None
        return self._values[name]

    def names_in(self, text: bytes) -> tuple[bytes, ...]:
        """The needles that occur in `text`: only they can occur in a part of it."""
        flat = text.translate(None, _DELETED)
        return tuple(n for n in _NEEDLES if n in flat)

    def forced(self, text: bytes) -> bool:
        """`text` may matter whatever names it holds: a redirect, or an expansion that may be a name."""
        return b">" in text or (self.dollar and b"$" in text)

    def may_matter(self, text: bytes, names: tuple[bytes, ...] = _NEEDLES) -> bool:
        """`names`: the needles of a text that holds `text` (`names_in`), when known."""
        if self.forced(text):
            return True
        flat = text.translate(None, _DELETED)
        if self._found in flat:  # a flood repeats its names: the last one found is tried first
            return True
        found = next((n for n in names if n in flat), None)
        if found is not None:
            self._found = found
        return found is not None

    def regions(self, piece: int = PIECE) -> Iterator[tuple[int, int]]:
        """Byte ranges (start, end), in order and disjoint, outside which no statement may matter.
        A flood repeats its pieces: each distinct one is tested once."""
        data, seen = self.data, dict[bytes, bool]()
        start, run = 0, None
        while start < len(data):
            m = _CUT.search(data, start + piece)
            end = m.start() + 1 if m else len(data)
            part = data[start:end]
            dirty = seen.get(part)
            if dirty is None:
                dirty = self.may_matter(part)
                if len(seen) < 1024:
                    seen[part] = dirty
            if dirty:
                run = (run[0] if run else start, end)
            elif run:
                yield run
                run = None
            start = end
        if run:
            yield run


class Verdict(Enum):
    ANALYSE = "analyse"
    INERT = "inert"  # no hit, no effect
    FETCHES = "fetches"  # no hit; its downloads pair with a decode on their line


_PLAIN = bytes(sorted(set(PLAIN)))
_LIGHT = frozenset(n.encode() for n in FETCHERS | {"base64", "base32", "basenc", "xxd", "uudecode"})
_FETCHERS = frozenset(n.encode() for n in FETCHERS)
_DECODERS = _LIGHT - _FETCHERS
_SPACED = bytes.maketrans(b"\t\n|;&", b" " * 5)  # words of plain text, separated by spaces
_PARTS = bytes.maketrans(b"\t\n|;&=/", b" " * 7)  # ... and cut at `=` and `/` (a path's last part)
# What `shell_exfil._curl_parts` / `_stdin_sink` read as a body or an upload (`@` is tested apart),
# searched in the words spaced out, with a space in front and at the end.
_SENDS = re.compile(rb" (?:-[A-Za-z]{0,5}[dFT] |--(?:data|json|form|upload|post|body))")
# A word `shell_exfil._decoded_literal` could decode (`_B64`; plain words hold no spaces).
_B64_WORD = re.compile(rb"[A-Za-z0-9+/=]{12,}")
# A decoder with an operand in its own command (a file it decodes, `decodes_file`): in a tree
# without syntax errors `|`, `;` and `&` end a command; a newline may not (tree-sitter-bash joins
# some lines into one command, with or without a syntax error).
_DECODER_FILE = {n: re.compile(re.escape(n) + rb"(?:\s+-[^\s|;&]*)*\s+[^\s|;&-]") for n in _DECODERS}
# A word `shell_threats._rm` deletes with a rule: in a tree without syntax errors each argument of
# plain text is one of the `spaced` words (error recovery can cut one: `~C:` read as `C:`).
_RM_WORDS = frozenset(w.encode() for w in ROOT_WORDS | USER_DATA_WORDS)
# ... and what the rest of `_rm` reads (`LOGS` matches only paths holding one of the first two).
_RM_MARKS = (b"/var/log", b"_history", b"--no-preserve-root")
_PERMISSIONS = frozenset({b"chmod", b"chown"})  # `_permissions` reads nothing of `chown`
# A word `_permissions` reports as chmod's mode (setuid/setgid, world-writable), in the words
# spaced out with a space in front; without one chmod raises nothing.
_MODE = re.compile(rb" (?:%s|%s)(?![^ ])" % (CHMOD_SETUID.encode(), CHMOD_WIDE.encode()))
# Commands whose last word (`_command`) is judged as a file written (`shell_writes.written`).
_COPIES = frozenset({b"cp", b"mv", b"install", b"ln"})
# A word `shell_threats._rm` reads as a recursive flag (`-r`, `-fR`, `--recursive`)
_RECURSIVE = re.compile(rb" -(?:-recursive |[a-zA-Z]{0,4}[rR])")


def spaced(text: bytes) -> bytes:
    """The words of plain statements separated by single kinds of space, one space on each side."""
    return b" " + text.translate(_SPACED) + b" "


def rm_may_hit(words: bytes) -> bool:
    """Whether an `rm` among plain statements (`plain_verdict`, their `spaced` words) may raise a
    hit: some word of them, wherever it stands, is one `_rm` judges. Its other effects are none (no
    state, no pipeline or upload rule reads `rm`)."""
    if any(m in words for m in _RM_MARKS) or not _RM_WORDS.isdisjoint(words.split(b" ")):
        return True
    # a glob the shell expands to such a word (`rm_targets.expansions`), judged only for a
    # recursive delete (`shell_threats._rm`)
    if (b"*" not in words and b"?" not in words) or _RECURSIVE.search(words) is None:
        return False
    return any(p.search(words) is not None for p in GLOB_WORDS)


def mode_may_hit(words: bytes) -> bool:
    """Whether a `chmod` among plain statements (their `spaced` words) may raise a hit: some word
    is a mode it reports."""
    return _MODE.search(words) is not None


def dest_may_hit(text: bytes) -> bool:
    """Whether a copy (`_COPIES`) among plain statements may raise a hit: some word holds what a
    destination `written` judges must hold (`DEST_MARKS`). Copies have no other effect."""
    return any(m in text for m in DEST_MARKS)


def plain_verdict(
    text: bytes, exact: bool = True, values: Callable[[bytes], frozenset[bytes] | None] | None = None
) -> Verdict:
    """What one or more whole statements can contribute, when that is decidable from their words.
    `exact`: their trees hold no ERROR or MISSING node (else a decoder's operands are not found
    by the words around it, nor may an `rm`'s be, nor where a quote or a redirect ends).
    `values`: what a variable may hold (`Gate.values`); without it an expansion is analysed."""
    if not exact and dressed(text):
        return Verdict.ANALYSE
    texts = readings(text, values)
    if texts is None:
        return Verdict.ANALYSE
    if len(texts) == 1 and texts[0] is text:
        return _verdict(text, exact)
    if any(_verdict(t, exact, variables=True) is not Verdict.INERT for t in texts):
        return Verdict.ANALYSE
    return Verdict.INERT


def _verdict(text: bytes, exact: bool, variables: bool = False) -> Verdict:
    """`plain_verdict` of one reading; `variables`: it was read through expansions (downloads and
    decoders are then analysed)."""
    plain = plain_words(text)
    if plain is None or plain.translate(None, _PLAIN) or b"mkfs" in plain:
        return Verdict.ANALYSE
    text = plain  # the words the rules read: quotes removed, output thrown away blanked out
    words = spaced(text)
    parts = text.translate(_PARTS).split()  # a command name is a word, or a path's last part
    named = _NAMES.intersection(parts)
    if variables and not named.isdisjoint(_LIGHT):
        return Verdict.ANALYSE
    if b"rm" in named:
        if not exact or rm_may_hit(words):
            return Verdict.ANALYSE
        named = named - {b"rm"}
    if not named.isdisjoint(_PERMISSIONS):
        if not exact or (b"chmod" in named and mode_may_hit(words)):
            return Verdict.ANALYSE
        named = named - _PERMISSIONS
    if not named.isdisjoint(_COPIES):
        if not exact or dest_may_hit(text):
            return Verdict.ANALYSE
        named = named - _COPIES
    if not named:
        return Verdict.INERT
    if not named <= _LIGHT:
        return Verdict.ANALYSE
    fetches = not named.isdisjoint(_FETCHERS)
    if fetches and (b"@" in text or _SENDS.search(words)):
        return Verdict.ANALYSE
    for name in named & _DECODERS:
        if not exact or _DECODER_FILE[name].search(text):
            return Verdict.ANALYSE
        split = words.split() if b"/" in text or b"=" in text else parts
        if max(map(len, split)) >= 12 and any(len(w) >= 12 and _B64_WORD.fullmatch(w) for w in split):
            return Verdict.ANALYSE
    return Verdict.FETCHES if fetches else Verdict.INERT
