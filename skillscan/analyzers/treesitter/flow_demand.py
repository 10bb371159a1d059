"""Which secrets the sends of one language can report, decided from their text before any taint.

A send reports one environment variable, a config field, a `.env` value or the agent's memory only
when it goes to a host (an exfil or ordinary one: `Findings._judge`) or looks up a host name built
from it; the whole environment, a secret file and the keychain are reported wherever they go. A
send whose arguments cannot name a host is *blind* to the single secrets: a call whose argument list
holds no URL, no string a host can be built from (a dot, a colon, a slash, or only hex digits: `"5"`
is an IP), no character-code builder (`chr`, `fromCharCode`, `fromhex`) and no named constant
holding a host, and which is no DNS lookup of a name built from data (a `+` or a `}` in its
arguments). When every send of a language is blind, the environment reads that can only yield one
variable (`single_reads`: `os.environ.get(…)`, `os.environ["K"]`, `getenv(…)`, `process.env.K`,
`process["env"]["K"]`) are left cold: the rounds follow only what counts wherever it goes.

Without such a DNS lookup among the sends, one variable counts only when its name is a credential's
(`sensitive.is_credential_env`): the reads of other names (`os.environ["HOME"]`, `process.env.PORT`)
are left cold too (`Demand.CREDENTIALS`), which also keeps them from hiding a credential read beside
them (a value is reported by the first of its worst secrets). So are the credentials whose names
name every host a send can report them to, when the text tells those hosts (`flow_hosts`:
`TAVILY_API_KEY` sent only to `api.tavily.com`).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from enum import Enum

from skillscan.analyzers.treesitter.flow_env import ALL_OF
from skillscan.analyzers.treesitter.flow_model import PY, Lang
from skillscan.analyzers.treesitter.flow_screen import (
    PLAIN,
    PLAIN_CALL,
    call_pattern,
    digits_as_zeros,
)
from skillscan.analyzers.treesitter.sensitive import any_credential_env, is_credential_env, var_matches_host
from skillscan.analyzers.urls import parse_url


class Demand(Enum):
    """Which environment reads the sends of a language can report."""

    ALL = "all"  # a DNS lookup reports any variable: every read is followed
    CREDENTIALS = "credentials"  # one variable only under a credential's name
    WHOLE = "whole"  # every send is blind: only all of the environment counts


DNS_LEAVES = ("gethostbyname", "getaddrinfo", "resolve", "query", "lookup", "resolve4", "resolveTxt")
_DNS_LEAVES = frozenset(leaf.encode() for leaf in DNS_LEAVES)
_SP = rb"[ \t]*"
_ALL_OF = tuple(sorted(key.encode() for key in ALL_OF))  # keys that hand out all of the environment
_ALL_OF_KEY = rb"(?:" + b"|".join(_ALL_OF) + rb")(?![\w$])"
_ONE = rb"(?!" + _ALL_OF_KEY + rb")"


def _named(tag: bytes) -> bytes:
    """A string literal naming the variable read, as written (group `name` + `tag`)."""
    return rb"(?P<q%s>['\"])(?P<name%s>[^'\"`\\\n]*)(?P=q%s)" % (tag, tag, tag)


def _argument(tag: bytes) -> bytes:
    """`("NAME"` as a first argument, when the variable is so written."""
    return rb"(?:" + _SP + rb"\(" + _SP + _named(tag) + rb"(?=" + _SP + rb"[,)]))?"


_KEY = rb"\[" + _SP + rb"(?!['\"]" + _ALL_OF_KEY + rb")" + _named(b"k") + _SP + rb"\]"
# At the "env" of a mark: a read of one variable. Python: `environ.get(` (or setdefault, pop),
# `environ["K"]`, `getenv(`; JavaScript: `env.K`, `env?.K`, `env["K"]`, `["env"].K`, `["env"]["K"]`.
_PY_SINGLE = re.compile(  # one literal start: the text is searched for "env", not tried at every byte
    rb"env(?:iron" + _SP + rb"(?:\." + _SP + rb"(?:get|setdefault|pop)(?![\w$])" + _argument(b"a") + rb"|" + _KEY
    + rb")|(?<=getenv)(?=" + _SP + rb"\()" + _argument(b"g") + rb")"
)  # fmt: skip
# `getattr(os, "getenv")`: a reader of one variable (its "env" and its `getattr`), never all of it.
_PY_READER = re.compile(
    rb"getattr" + _SP + rb"\(" + _SP + rb"[\w$.]+" + _SP + rb"," + _SP + rb"(?P<r>['\"])get(?P<env>env)(?P=r)"
    + _SP + rb"\)"
)  # fmt: skip
_JS_SINGLE = re.compile(
    rb"env(?:['\"]" + _SP + rb"\])?" + _SP
    + rb"(?:\??\." + _SP + _ONE + rb"(?P<prop>[A-Za-z_$][\w$]*)|(?:\?\.)?" + _KEY + rb")"
)  # fmt: skip
# `const {KEY: k, OTHER} = process.env` (reversed, to search from "env"): each name is bound one
# variable (`flow_env.pattern_sources`); not with a rest element, a quoted or computed key, a key
# that hands out all of it, or a default value.
_DESTRUCTURED_REVERSED = re.compile(
    rb"vne(?<![\w$]vne)" + _SP + rb"\." + _SP + rb"ssecorp(?![\w$])[ \t\r\n]*=[ \t\r\n]*"
    rb"\}(?P<pattern>[\w$ \t\r\n:,{}]{0,2000}?)\{[ \t\r\n]+(?:tsnoc|tel|rav)(?![\w$])"
)
_ALL_OF_REVERSED = re.compile(rb"(?<![\w$])(?:" + b"|".join(key[::-1] for key in _ALL_OF) + rb")(?![\w$])")

# A string no host can be built from, alone or joined to others: no dot, colon, slash or brace in
# it, and empty or holding a character no number is written with (`"5"` is an IP); and as
# `flow_screen.PLAIN_CALL` reads strings, no quote right after it.
_FREE_CHAR = rb"[^'\"`\\\n./:{]"
_FREE_BODY = rb"(?:[0-9a-fA-FxX]*+[^'\"`\\\n./:{0-9a-fA-FxX]" + _FREE_CHAR + rb"*+)?"
_FREE_STRING = rb"(?:'" + _FREE_BODY + rb"'|\"" + _FREE_BODY + rb"\")(?!['\"])"
# A send whose argument list holds only plain code and such strings; or one the file ends in (cut
# short: an unclosed list, maybe an unclosed string).
_BLIND_CALL = re.compile(call_pattern(_FREE_STRING))
_BLIND_END = re.compile(
    rb"(?P<leaf>[\w$]+)[ \t\f\v\r\n]*\((?:" + PLAIN + rb"++|" + _FREE_STRING + rb"|[()])*+(?:['\"]"
    + _FREE_CHAR + rb"*+)?\Z"
)  # fmt: skip
# A leaf that is no callee here (`axios?.post(…)` at `axios`, `f(post)`): what follows it cannot
# start an argument list, a comment or a continuation. The call around it has a leaf of its own.
_NOT_CALLED = re.compile(rb"[\w$]++[ \t\f\v\r\n]*+(?=[^ \t\f\v\r\n])(?![(`/#\\]|\?\.[ \t\f\v\r\n]*[(/])")
_BUILDER_WORDS = (b"chr", b"fromCharCode", b"fromhex")
_BUILDERS = re.compile(b"|".join(_BUILDER_WORDS))
_NAME = re.compile(rb"[\w$]+")
_BUILT = re.compile(rb"[+}]")  # what a host name built from data needs (`flow_syntax.built_hostname`)
_NOT_NAME = re.compile(rb"[^\w$]+")
MAX_NAMES = 200  # host constants searched for in the sends; with more, any send may name one
MAX_PAIRS = 2000  # credentials' names matched against hosts (`var_matches_host`) at once


def single_reads(data: bytes, lang: Lang) -> dict[int, bytes | None]:
    """The offsets of "env" (and of `getattr`) at which the environment is read one variable at a
    time, each with the text naming the variables read there (None: not known from the text). The
    nodes around such a place yield one variable, a reader of one, or nothing, never the whole
    environment (a name standing for it is marked where it occurs: `Unit.env_marks`)."""
    found: dict[int, bytes | None] = {}
    for m in (_PY_SINGLE if lang is PY else _JS_SINGLE).finditer(data):
        named = m.lastgroup  # the name group closes last (its quote is matched by reference)
        found[m.start()] = m.group(named) if named is not None else None
    if lang is PY and b"getattr" in data:
        found.update((p, None) for m in _PY_READER.finditer(data) for p in (m.start(), m.start("env")))
    if lang is not PY and b"process" in data:
        backward, size, whole = data[::-1], len(data), any(key in data for key in _ALL_OF)
        for m in _DESTRUCTURED_REVERSED.finditer(backward):
            pattern = m.group("pattern")
            if not (whole and _ALL_OF_REVERSED.search(pattern)):  # a key that hands out all of it
                found[size - m.start() - 3] = pattern[::-1]
    return found


def dns_sends(data: bytes, leaves: list[int]) -> bool:
    """Whether a send at `leaves` may be a DNS lookup of a name built from a secret (which reports
    any variable: `flow_syntax.built_hostname` needs a `+` or a `}` before the domain)."""
    for p in leaves:
        w = _NAME.match(data, p)
        if w is not None and w.group() in _DNS_LEAVES:
            m = PLAIN_CALL.match(data, p)
            if m is None or _BUILT.search(data, p, m.end()):
                return True
    return False


def cold_reads(
    reads: dict[int, bytes | None], demand: Demand, hosts: frozenset[str] | None = None
) -> set[int]:
    """The single reads (`single_reads`) that can be left cold under `demand`, a send reporting
    them only to `hosts` (None: to any host; `Heating.report_hosts`)."""
    if demand is Demand.WHOLE:
        return set(reads)
    if demand is Demand.ALL:
        return set()
    known = {p: names for p, names in reads.items() if names is not None}
    # digits decide no credential's name, nor whether it names a host without digits
    numbered = hosts is None or not any(c.isdigit() for h in hosts for c in h)
    found = reported(credential_names(b"\n".join(known.values()), numbered), hosts)
    if not found:
        return set(known)  # no name among them all a send can report
    return {p for p, names in known.items() if not any(n in found for n in _names(names, numbered))}


def _names(text: bytes, numbered: bool) -> list[str]:
    """The names in `text` (ASCII: other bytes part them), with `numbered` digits as zeros."""
    return [n.decode() for n in _NOT_NAME.split(digits_as_zeros(text) if numbered else text)]


def credential_names(text: bytes, numbered: bool = False) -> set[str]:
    """The distinct names in `text` (names apart) that are credentials' (`is_credential_env`); with
    `numbered`, digits as zeros."""
    names = set(_names(text, numbered))
    if not any_credential_env("\n".join(names)):
        return set()  # (one search for them all)
    return {name for name in names if is_credential_env(name)}


def reported(credentials: set[str], hosts: frozenset[str] | None) -> set[str]:
    """The `credentials` a send to `hosts` may report: those whose names do not name each of them
    (`var_matches_host`); all of them for any host (None) or past MAX_PAIRS names and hosts."""
    if hosts is None or len(credentials) * len(hosts) > MAX_PAIRS:
        return credentials
    return {name for name in credentials if not all(var_matches_host(name, h) for h in hosts)}


def host_constants(constants: dict[str, str]) -> dict[str, str]:
    """The named constants a send could take its destination from (`flow_model.dest_of`), each
    with the host it names."""
    return {name: ref.host for name, value in constants.items() if (ref := parse_url(value, allow_bare=True))}


def blind_sends(data: bytes, leaves: list[int], hosts: Collection[str]) -> bool:
    """Whether every send at `leaves` (callee leaves where a send can be) is blind to single secrets:
    no DNS lookup, and an argument list that cannot name a host (`_BLIND_CALL`, no builder, no
    constant of `hosts`)."""
    if len(hosts) > MAX_NAMES:
        return False
    words = b"|".join(re.escape(h.encode()) for h in hosts)
    named = re.compile(rb"(?<![\w$])(?:" + words + rb")(?![\w$])") if hosts else None
    builders = any(word in data for word in _BUILDER_WORDS)

    def names_host(start: int, end: int) -> bool:
        return bool(builders and _BUILDERS.search(data, start, end)) or bool(
            named is not None and named.search(data, start, end)
        )

    call, not_called = _BLIND_CALL.match, _NOT_CALLED.match
    for k, p in enumerate(leaves):
        m = call(data, p)
        if m is None:
            if not_called(data, p):
                continue
            if _BLIND_END.match(data, p) is None:
                return False
            # the rest of the file is plain code and such strings: every send left is read at once
            names = {w.group() for q in leaves[k:] if (w := _NAME.match(data, q)) is not None}
            built = bool(names & _DNS_LEAVES) and _BUILT.search(data, p) is not None
            return not (built or names_host(p, len(data)))
        if (m.group("leaf") in _DNS_LEAVES and _BUILT.search(data, p, m.end())) or names_host(p, m.end()):
            return False
    return True
