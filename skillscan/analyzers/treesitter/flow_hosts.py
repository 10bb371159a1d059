"""Which hosts the sends of a script can be given, read from its text before any taint: a
credential whose name names each host a send of it may go to (`sensitive.var_matches_host`) is
never reported, and its reads stay cold (`flow_demand.cold_reads`, `Heating.report_hosts`).

A destination is a string, a named constant or the first URL in the text of an expression
(`flow_model.dest_of`). Unless a script can build one out of pieces (`built_anywhere`; Python's
strings side by side are read from the tree, `FileIndex`'s "joined" bucket; plain strings added
together are read as the one string they make, here as in `dest_of`: `constants.strings_added`),
each host a destination names is written out in one string or URL of the text, and `parse_url`
finds it after `//` (a scheme) or `@` (a user), or first in a string, after the whitespace and
quotes it strips, holding a dot or starting with a digit (a host without a scheme:
`_BARE_HOST_ARG`, `NUMERIC_HOST`). So the hosts found there (`written_hosts`) are a superset of
those the sends are judged by. A string goes on to the next lines only with three quotes (an
escaped line break is a piece): then a bare host a line starts with is one too.

When no value is bound or passed on (`Heating.stays_put`), a send reports only what is read
inside it. If every line but the last also closes the brackets and strings it opens, a send and
what it reads share a line: the hosts written on the line of a read are all it can be reported to
(`line_reads`), however many other hosts the script names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from skillscan.analyzers.treesitter.constants import strings_added
from skillscan.analyzers.treesitter.flow_demand import single_reads
from skillscan.analyzers.treesitter.flow_model import PY, Lang
from skillscan.analyzers.treesitter.flow_screen import numbered_alike

# What a destination can be built from (`constants.resolve`): escapes, templates, joins and
# character codes; a string added to something (`+`: only strings added together are resolved,
# and the operand on the right is then a string, after spaces, brackets and comments); a reversal
# (`[::-1]`, read with its spaces removed).
_PIECES = (b"\\", b"`", b"join", b"chr", b"fromCharCode", b"fromhex")
_ADDED_STRING = re.compile(rb"\+(?:[\s()]|#[^\n]*|//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)*[rRbBuUfF]{0,2}['\"]")
_REVERSAL = re.compile(rb":[ ]*:[ ]*-[ ]*1")
_RUN = rb"([\w.\[\]-]+)"
_STRIPPED = rb"[\x09\x0b-\x0d\x1c-\x20'\"\x80-\xff]*+"  # what `parse_url` strips, a line break apart
_BARE = rb"([\w-]*+\.[\w.\[\]-]*+|[0-9][\w.\[\]-]*+)"
_AFTER_SCHEME = re.compile(rb"(?://|@)" + _RUN)
_FIRST_IN_STRING = (re.compile(rb"'" + _STRIPPED + _BARE), re.compile(rb'"' + _STRIPPED + _BARE))
_FIRST_ON_LINE = re.compile(rb"^" + _STRIPPED + _BARE, re.MULTILINE)
_LONG_URL = re.compile(rb"//[^\s'\"`{}$<>\\]{250}")  # past `_URL_IN_TEXT`'s bound a host may be cut
MAX_HOSTS = 50
MAX_LINES = 200  # distinct lines (digits as zeros) read one by one
_STRING = re.compile(rb"'[^'\n]*'|\"[^\"\n]*\"")
_BRACKETS = re.compile(rb"[()\[\]{}]")
_OPENER = {b")": b"(", b"]": b"[", b"}": b"{"}


def built_anywhere(data: bytes, summed: bytes | None = None) -> bool:
    """Whether the script may build a destination out of pieces (`_PIECES`, `_ADDED_STRING`,
    `_REVERSAL`). `summed`: its text with plain strings added together read as one
    (`strings_added`), where a string added to something else is looked for."""
    return (
        any(piece in data for piece in _PIECES)
        or _ADDED_STRING.search(data if summed is None else summed) is not None
        or _REVERSAL.search(data) is not None
    )


def written_hosts(data: bytes, lines: bytes) -> frozenset[str] | None:
    """Every host the sends of the script `data` can be given (a superset, where a host with a
    bracket stands for any: `plain_hosts`), or None when one may be built out of pieces (but
    strings side by side), a URL is too long to read whole or more than MAX_HOSTS are written.
    They are read in `lines`, the distinct lines of `data` with digits as zeros (`Screen.lines`,
    also cut at `;`, which neither a host nor what `parse_url` strips before one holds), and again
    in `data` when one holds a digit. Plain strings added together are read as the one string they
    make, in the distinct lines of `data` (a sum of them holds no line break; a string added on a
    later line is a piece: the distinct lines are in no order)."""
    summed, added = None, _ADDED_STRING.findall(data)
    if added:
        if any(b"\n" in a for a in added):
            return None
        summed = lines = strings_added(b"\n".join(numbered_alike(data)))
    if built_anywhere(data, summed) or _LONG_URL.search(data if summed is None else summed):
        return None
    found = _hosts_in(lines)
    if found is not None and any("0" in h for h in found):
        found = _hosts_in(data if summed is None else strings_added(data))
    return found


def send_hosts(
    written: Iterable[frozenset[str] | None], constant_hosts: Iterable[str], plain: Callable[[str], bool]
) -> frozenset[str] | None:
    """Every host a send of the scripts can be judged by: those `written` in each (`written_hosts`)
    and those of the named constants, when each is `plain_hosts`. None: not known, or not plain."""
    found: set[str] = set(constant_hosts)
    for hosts in written:
        if hosts is None:
            return None
        found |= hosts
    return frozenset(found) if len(found) <= MAX_HOSTS and plain_hosts(found, plain) else None


def plain_hosts(hosts: Iterable[str], plain: Callable[[str], bool]) -> bool:
    """Whether every host is `plain` (`DeliveryCatalog.plain_host`: in no class that makes it a
    place of exfiltration or of this machine) and holds no bracket (an IPv6 host is read inside
    its brackets)."""
    return all("[" not in h and "]" not in h and plain(h) for h in hosts)


def line_reads(data: bytes, lang: Lang) -> list[tuple[frozenset[str], bytes]] | None:
    """Per distinct line of the script that reads one variable at a time (`single_reads`), digits
    as zeros: the hosts written on it and the names of what it reads. None when a line but the
    last leaves a bracket or a string open, a destination may be built out of pieces, a host holds
    a digit or a URL is too long to read whole, or there are more than MAX_LINES distinct lines."""
    if built_anywhere(data):
        return None
    cut = data.rfind(b"\n")
    distinct = numbered_alike(data[:cut]) if cut >= 0 else set()
    if len(distinct) > MAX_LINES or not all(_closed(line, lang) for line in distinct):
        return None
    found: list[tuple[frozenset[str], bytes]] = []
    for line in distinct | numbered_alike(data[cut + 1 :]):
        names = [n for n in single_reads(line, lang).values() if n is not None]
        if not names:
            continue
        hosts = _hosts_in(line)
        if hosts is None or any("0" in h for h in hosts) or _LONG_URL.search(line):
            return None
        found.append((hosts, b"\n".join(names)))
    return found


def _hosts_in(text: bytes) -> frozenset[str] | None:
    """The hosts written in `text` (None: more than MAX_HOSTS); its long URLs are the caller's to
    rule out (`_LONG_URL`)."""
    found = set(_AFTER_SCHEME.findall(text))
    for pattern in _FIRST_IN_STRING:
        found.update(pattern.findall(text))
    if b"'''" in text or b'"""' in text:  # a string that goes on to the next lines
        found.update(_FIRST_ON_LINE.findall(text))
    hosts = {h.decode("ascii").lower().rstrip(".") for h in found}
    hosts.discard("")
    return frozenset(hosts) if len(hosts) <= MAX_HOSTS else None


def _closed(line: bytes, lang: Lang) -> bool:
    """Whether the line closes every string and bracket it opens (its comment apart): its strings
    are read from the left, as the parser does, and none may have three quotes (it would go on to
    the next lines). In JavaScript, no `/` may be left in its code: a regular expression can hold
    brackets."""
    if b"'''" in line or b'"""' in line:
        return False
    code = _STRING.sub(b"", line).split(b"#" if lang is PY else b"//", 1)[0]
    if b"'" in code or b'"' in code or (lang is not PY and b"/" in code):
        return False
    stack: list[bytes] = []
    for bracket in _BRACKETS.findall(code):
        if bracket in _OPENER:
            if not stack or stack.pop() != _OPENER[bracket]:
                return False
        else:
            stack.append(bracket)
    return not stack
