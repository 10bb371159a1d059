"""URLs and host literals in text: where a URL or a curl-style `host/path` argument is, which host
it names (IP literals in every form included) and the domain that host was registered under.

The bottom of the host checks: the delivery catalogue (delivery), what a skill declares
(declared_hosts) and the trust of a fetched URL (host_policy) all read hosts through it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass

# Bounded: a URL longer than 2000 characters is cut, never scanned past.
URL_RE = re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>\"'`|\\\]\[(){}]{1,2000}")
# A URL whose host `parse_url` reads as group 1 (lower-cased, trailing dots dropped): no user or
# brackets, a port of digits at most, nothing around it for `strip` to remove but quotes at the
# end of the path.
PLAIN_URL = re.compile(
    r"(?:[Hh][Tt][Tt][Pp][Ss]?|[Ff][Tt][Pp])://([A-Za-z0-9][A-Za-z0-9.-]{0,199})(?::[0-9]{1,5})?(?:/\S*)?"
)
NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]{1,8}|\d{1,10})(?:\.(?:0x[0-9a-f]{1,8}|\d{1,10})){0,3}$")
_HOST_CHARS = re.compile(r"^[a-z0-9.\-_\[\]:]{1,253}$")
_BARE_HOST_ARG = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]{0,62})\.){1,8}[a-z]{2,24}(?::\d{1,5})?(?:[/?#]|$)", re.I
)
# Where the authority ends (RFC 3986), as curl reads it: at a path, a query or a fragment. Before
# `?` or `#` no `@` belongs to it: `https://evil.test?@github.com/` fetches from evil.test.
_AUTHORITY_END = re.compile(r"[/?#]")
# Hosting platforms whose sub-domains belong to different people.
_SHARED_SUFFIXES = frozenset(
    {
        "co.uk", "com.au", "co.jp", "com.br", "co.in", "co.kr", "com.cn", "com.tr", "co.za",
        "github.io", "gitlab.io", "vercel.app", "netlify.app", "pages.dev", "workers.dev",
        "herokuapp.com", "web.app", "firebaseapp.com", "glitch.me", "repl.co", "onrender.com",
        "fly.dev", "railway.app", "surge.sh", "azurewebsites.net", "blogspot.com", "wixsite.com",
        "ngrok-free.app", "ngrok.io", "trycloudflare.com", "loca.lt", "duckdns.org",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class UrlRef:
    """One URL (or host-like shell argument) found in text."""

    raw: str
    host: str  # lower case, no port, no trailing dot
    path: str  # path + query, may be empty
    start: int = 0  # offsets in the text it was found in
    end: int = 0

    @property
    def last_segment(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()


def parse_url(raw: str, *, allow_bare: bool = False, start: int = 0) -> UrlRef | None:
    """Parse an http(s)/ftp URL, or with `allow_bare` a scheme-less `host/path` as curl accepts it."""
    text = raw.strip().strip("\"'")
    m = re.match(r"(?i)^(?:https?|ftp)://", text)
    if m:
        rest = text[m.end() :]
    elif allow_bare and (_BARE_HOST_ARG.match(text) or NUMERIC_HOST.match(_authority(text).split(":")[0])):
        rest = text
    else:
        return None
    authority = _authority(rest)
    path = rest[len(authority) :]
    authority = authority.rsplit("@", 1)[-1]
    host = authority[1:].split("]", 1)[0] if authority.startswith("[") else authority.split(":", 1)[0]
    host = host.lower().rstrip(".")
    if not host or not _HOST_CHARS.match(host):
        return None
    return UrlRef(raw=raw, host=host, path=path, start=start, end=start + len(raw))


def _authority(rest: str) -> str:
    return _AUTHORITY_END.split(rest, maxsplit=1)[0]


def find_urls(text: str) -> Iterator[UrlRef]:
    for m in URL_RE.finditer(text):
        raw = m.group(0).rstrip(".,;:!?*_~")
        ref = parse_url(raw, start=m.start())
        if ref is not None:
            yield ref


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP a host literal denotes, including dotted, integer, hex and short forms (`0x7f.1`)."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    if not NUMERIC_HOST.match(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def registrable(host: str) -> str:
    """Approximate registrable domain: last two labels, or three under a shared suffix."""
    labels = host.split(".")
    if len(labels) <= 2:
        return host
    if ".".join(labels[-2:]) in _SHARED_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])
