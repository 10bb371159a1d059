"""Delivery hosts and shapes: what a URL points at (paste site, tunnel, raw IP, personal release, …).

The catalogue is data (`data/delivery_hosts.yaml`); this module parses URLs and host-like shell
arguments, classifies them, and tells whether a host is one the skill itself declares (homepage,
install metadata, its owner's GitHub), so that "the vendor's own installer" and "a snippet on a
paste site" can be told apart by every engine in the same way.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Any

from skillscan.errors import RuleError
from skillscan.frontmatter import split_frontmatter
from skillscan.models import Skill
from skillscan.rules import load_rule_data

DATA_FILE = Path(__file__).resolve().parent / "data" / "delivery_hosts.yaml"

# Bounded: a URL longer than 2000 characters is cut, never scanned past.
URL_RE = re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>\"'`|\\\]\[(){}]{1,2000}")
# A URL whose host `parse_url` reads as group 1 (lower-cased, trailing dots dropped): no user,
# port or brackets, nothing around it for `strip` to remove but quotes at the end of the path.
_PLAIN_URL = re.compile(
    r"(?:[Hh][Tt][Tt][Pp][Ss]?|[Ff][Tt][Pp])://([A-Za-z0-9][A-Za-z0-9.-]{0,199})(?:/\S*)?"
)
_HOST_CHARS = re.compile(r"^[a-z0-9.\-_\[\]:]{1,253}$")
_NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]{1,8}|\d{1,10})(?:\.(?:0x[0-9a-f]{1,8}|\d{1,10})){0,3}$")
_BARE_HOST_ARG = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,62})\.){1,8}[a-z]{2,24}(?::\d{1,5})?(?:/|$)", re.I)
_DOC_SUFFIXES = ("example.com", "example.org", "example.net", "example", "test", "invalid", "localhost")
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
DELIVERY_CLASSES = frozenset({"raw-ip", "paste", "tunnel", "shortener", "file-share", "dynamic-dns"})
_SEPARATED = "[-_0-9]*"  # what `_impersonates_platform` drops from a label


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
    elif allow_bare and (
        _BARE_HOST_ARG.match(text) or _NUMERIC_HOST.match(text.split("/", 1)[0].split(":")[0])
    ):
        rest = text
    else:
        return None
    authority, sep, path = rest.partition("/")
    authority = authority.rsplit("@", 1)[-1]
    host = authority[1:].split("]", 1)[0] if authority.startswith("[") else authority.split(":", 1)[0]
    host = host.lower().rstrip(".")
    if not host or not _HOST_CHARS.match(host):
        return None
    return UrlRef(raw=raw, host=host, path=(sep + path) if sep else "", start=start, end=start + len(raw))


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
    if not _NUMERIC_HOST.match(host):
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


def _entry_matches(entry: str, host: str, path: str) -> bool:
    if "/" in entry:
        ehost, _, epath = entry.partition("/")
        return (host == ehost or host.endswith("." + ehost)) and path.lower().lstrip("/").startswith(epath)
    return host == entry or host.endswith("." + entry)


@dataclass(frozen=True)
class DeliveryCatalog:
    """The host classes of `delivery_hosts.yaml`."""

    classes: Mapping[str, tuple[str, ...]]  # class name -> host entries
    platform_brands: tuple[str, ...]
    brand_tool_words: frozenset[str]
    executable_extensions: frozenset[str]
    archive_extensions: frozenset[str]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DeliveryCatalog:
        special = {
            "platform_brands",
            "brand_tool_words",
            "executable_extensions",
            "archive_extensions",
        }
        classes: dict[str, tuple[str, ...]] = {}
        for key, value in data.items():
            if key in special:
                continue
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise RuleError(f"delivery hosts: {key!r} must be a list of host names")
            classes[key.replace("_", "-")] = tuple(v.strip().lower() for v in value)
        return cls(
            classes=classes,
            platform_brands=tuple(str(b).lower() for b in data.get("platform_brands", [])),
            brand_tool_words=frozenset(str(w).lower() for w in data.get("brand_tool_words", [])),
            executable_extensions=frozenset(str(e).lower() for e in data.get("executable_extensions", [])),
            archive_extensions=frozenset(str(e).lower() for e in data.get("archive_extensions", [])),
        )

    @classmethod
    def load(cls, path: Path | None = None) -> DeliveryCatalog:
        return _load_catalog(path or DATA_FILE)

    def __post_init__(self) -> None:
        # host suffix -> classes, and the few "host/path-prefix" entries: classification is a
        # handful of dictionary lookups per URL, whatever the size of the catalogue
        index: dict[str, set[str]] = {}
        with_path: list[tuple[str, str]] = []
        for name, entries in self.classes.items():
            for e in entries:
                if "/" in e:
                    with_path.append((e, name))
                else:
                    index.setdefault(e, set()).add(name)
        object.__setattr__(self, "_index", {k: frozenset(v) for k, v in index.items()})
        object.__setattr__(self, "_with_path", tuple(with_path))
        object.__setattr__(self, "_host_cache", {})
        # `plain_host`: every host suffix that can put a URL in a class, and the brands as one
        # pattern (a brand in a label with separators and digits removed: its letters in the host
        # with only those between them)
        listed = set(index) | {e.partition("/")[0] for e, _ in with_path} | {"localhost", "local"}
        object.__setattr__(self, "_listed_suffixes", frozenset(listed))
        object.__setattr__(self, "_listed_last_labels", frozenset(e.rpartition(".")[2] for e in listed))
        brands = sorted({b for b in self.platform_brands if b}, key=len, reverse=True)
        brand_re = (
            re.compile("|".join(_SEPARATED.join(map(re.escape, b)) for b in brands)) if brands else None
        )
        object.__setattr__(self, "_brand_re", brand_re)

    def plain_host(self, host: str) -> bool:
        """Whether `host` (lower case, as `parse_url` gives it) is certainly in no class that
        changes a URL's trust, whatever its path: not an IP, no listed suffix, no brand in any
        label. A screen for `HostPolicy.assess`: False only means "classify it"."""
        if ":" in host or _NUMERIC_HOST.match(host):
            return False
        if host[host.rfind(".") + 1 :] in self._listed_last_labels:  # type: ignore[attr-defined]
            # a listed suffix of the host ends with the host's last label
            listed: frozenset[str] = self._listed_suffixes  # type: ignore[attr-defined]
            suffix = host
            while True:
                if suffix in listed:
                    return False
                dot = suffix.find(".")
                if dot < 0:
                    break
                suffix = suffix[dot + 1 :]
        brand_re: re.Pattern[str] | None = self._brand_re  # type: ignore[attr-defined]
        return brand_re is None or brand_re.search(host) is None

    def classify(self, url: UrlRef) -> frozenset[str]:
        """Every class the URL belongs to (empty for an ordinary site)."""
        out = set(self._host_classes(url.host))
        host, path = url.host, url.path
        for entry, name in self._with_path:  # type: ignore[attr-defined]
            if _entry_matches(entry, host, path):
                out.add(name)
        if release_owner(url) is not None:
            out.add("github-release")
        ext = url.last_segment.rsplit(".", 1)[-1] if "." in url.last_segment else ""
        if ext in self.archive_extensions:
            out.add("archive")
        if ext in self.executable_extensions:
            out.add("executable")
        return frozenset(out)

    def _host_classes(self, host: str) -> frozenset[str]:
        cache: dict[str, frozenset[str]] = self._host_cache  # type: ignore[attr-defined]
        hit = cache.get(host)
        if hit is not None:
            return hit
        out: set[str] = set()
        ip = ip_literal(host)
        if ip is not None:
            if ip.is_loopback or (ip.is_private and not _is_documentation(ip)) or ip.is_link_local:
                out.add("local")
            elif not ip.is_unspecified:
                out.add("raw-ip")
        elif host == "localhost" or host.endswith(".localhost") or host.endswith(".local"):
            out.add("local")
        labels = host.split(".")
        index: dict[str, frozenset[str]] = self._index  # type: ignore[attr-defined]
        for i in range(len(labels)):
            out.update(index.get(".".join(labels[i:]), ()))
        if labels[-1] in _DOC_SUFFIXES or ".".join(labels[-2:]) in _DOC_SUFFIXES:
            out.add("documentation")
        if self._impersonates_platform(host) and "official-platform-domains" not in out:
            out.add("brand-impersonation")
        result = frozenset(out)
        if len(cache) < 50_000:
            cache[host] = result
        return result

    def is_delivery(self, url: UrlRef) -> bool:
        return bool(self.classify(url) & DELIVERY_CLASSES)

    def _impersonates_platform(self, host: str) -> bool:
        labels = host.split(".")
        # The brand must sit in the name the operator registered, not in a path or a TLD.
        for label in labels[:-1]:
            flat = re.sub(r"[-_0-9]", "", label)
            for brand in self.platform_brands:
                if brand not in flat:
                    continue
                before, _, after = flat.partition(brand)
                words = [w for w in (before, after) if w]
                if words and all(self._tool_word(w) for w in words):
                    return True
        return False

    def _tool_word(self, text: str) -> bool:
        if text in self.brand_tool_words:
            return True
        # "authtoolsetup", "cliinstaller": a run of tool words glued together.
        return any(
            text.startswith(w) and len(w) < len(text) and self._tool_word(text[len(w) :])
            for w in self.brand_tool_words
        )


@cache
def _load_catalog(path: Path) -> DeliveryCatalog:
    return DeliveryCatalog.from_mapping(load_rule_data(path, "delivery hosts", ()))


def _is_documentation(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    nets = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
    return ip.version == 4 and any(ip in ipaddress.ip_network(n) for n in nets)


def release_owner(url: UrlRef) -> str | None:
    """The account of a `github.com/<owner>/<repo>/releases/download/...` URL."""
    if url.host not in {"github.com", "www.github.com"}:
        return None
    parts = url.path.lstrip("/").split("/")
    if len(parts) >= 4 and parts[2] == "releases" and parts[3] == "download":
        return parts[0].lower()
    return None


_GITHUB_HOSTS = frozenset(
    {"github.com", "www.github.com", "raw.githubusercontent.com", "codeload.github.com"}
)


def _github_owner(url: UrlRef) -> str | None:
    parts = url.path.lstrip("/").split("/")
    if url.host in _GITHUB_HOSTS:
        return parts[0].lower() if parts and parts[0] else None
    if url.host.endswith(".github.io"):
        return url.host.split(".", 1)[0]
    return None


@dataclass(frozen=True)
class DeclaredHosts:
    """Hosts a skill names as its own: homepage, repository, install metadata, owner's GitHub."""

    domains: frozenset[str] = frozenset()
    github_owners: frozenset[str] = frozenset()
    subjects: frozenset[str] = frozenset()  # the tool the skill is named after ("dokku")

    def may_declare(self, host: str) -> bool:
        """False when `declares` is False for every URL on `host` (a screen: True means ask it):
        not a GitHub host, no label suffix among the domains (the host and its registrable domain
        are such suffixes), not named after a subject."""
        if host in _GITHUB_HOSTS or host.endswith(".github.io"):
            return True
        if self.domains:
            suffix = host
            while True:
                if suffix in self.domains:
                    return True
                dot = suffix.find(".")
                if dot < 0:
                    break
                suffix = suffix[dot + 1 :]
        return bool(self.subjects) and _flat(registrable(host).split(".", 1)[0]) in self.subjects

    def declares(self, url: UrlRef) -> bool:
        owner = _github_owner(url)
        if owner is not None:
            return owner in self.github_owners
        if url.host in self.domains or registrable(url.host) in self.domains:
            return True
        # A skill named after a tool fetching from that tool's own domain (dokku -> dokku.com).
        return _flat(registrable(url.host).split(".", 1)[0]) in self.subjects

    @classmethod
    def of(cls, skill: Skill) -> DeclaredHosts:
        """What a skill declares, from its parsed frontmatter, or (when the YAML does not parse,
        which ClawHub tolerates) from the raw frontmatter lines; its slug and name are subjects."""
        frontmatter: Mapping[str, Any] | None = skill.frontmatter
        if frontmatter is None:
            frontmatter = _lenient_frontmatter(skill)
        base = cls.from_skill(frontmatter, skill.identity.owner)
        names = {_flat(n) for n in (skill.identity.slug, skill.identity.name) if n}
        return replace(base, subjects=base.subjects | {n for n in names if len(n) >= 4})

    @classmethod
    def from_skill(cls, frontmatter: Mapping[str, Any] | None, owner: str | None = None) -> DeclaredHosts:
        domains: set[str] = set()
        owners: set[str] = {owner.lower()} if owner else set()
        for text in _declared_strings(frontmatter or {}):
            for token in re.split(r"[\s\"'(),;|&<>]+", text[:4000]):
                ref = parse_url(token, allow_bare=True)
                if ref is None or ip_literal(ref.host) is not None:
                    continue
                gh = _github_owner(ref)
                if gh is not None:
                    owners.add(gh)
                elif "." in ref.host:
                    domains.update({ref.host, registrable(ref.host)})
        name = (frontmatter or {}).get("name")
        subjects = {_flat(name)} if isinstance(name, str) and len(_flat(name)) >= 4 else set()
        return cls(domains=frozenset(domains), github_owners=frozenset(owners), subjects=frozenset(subjects))


def _lenient_frontmatter(skill: Skill) -> dict[str, Any] | None:
    """Top-level `key: value` lines of SKILL.md's frontmatter, for the declaring keys only."""
    md = next((f for f in skill.real_files if f.path.upper() == "SKILL.MD" and f.text), None)
    if md is None or md.text is None:
        return None
    raw, _start, _closed = split_frontmatter(md.text[:200_000])
    if raw is None:
        return None
    out: dict[str, Any] = {}
    for line in raw.split("\n")[:500]:
        key, sep, value = line.partition(":")
        key = key.strip().strip("'\"").lower()
        if sep and line[:1].strip() and (key in _DECLARING_KEYS or key == "name"):
            out[key] = value.strip().strip("'\"")
    return out


def _flat(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_DECLARING_KEYS = frozenset(
    {"homepage", "repository", "repo", "source", "url", "website", "metadata", "install"}
)


def _declared_strings(node: Any, key: str = "", depth: int = 0) -> Iterable[str]:
    """String values under keys that declare where the skill comes from (never `description`)."""
    if depth > 8:
        return
    if isinstance(node, Mapping):
        for k, v in node.items():
            k = str(k).lower()
            if k in {"description", "summary"}:
                continue
            if depth == 0 and k not in _DECLARING_KEYS:
                continue
            yield from _declared_strings(v, k, depth + 1)
    elif isinstance(node, list):
        for v in node[:200]:
            yield from _declared_strings(v, key, depth + 1)
    elif isinstance(node, str):
        yield node


class Trust(IntEnum):
    """How much a fetched URL can be trusted, worst last."""

    DECLARED = 0  # the skill's own host, a well-known vendor installer, the platform, localhost
    UNDECLARED = 1  # an ordinary host the skill does not declare
    DELIVERY = 2  # raw IP, paste site, tunnel, shortener, file drop, dynamic DNS, impersonation


@dataclass(frozen=True)
class HostPolicy:
    """Trust of fetched URLs for one skill: the catalogue plus what the skill declares."""

    catalog: DeliveryCatalog
    declared: DeclaredHosts = DeclaredHosts()

    def assess(self, url: UrlRef) -> Trust:
        if self.catalog.plain_host(url.host) and not self.declared.may_declare(url.host):
            return Trust.UNDECLARED  # what the classes and the declared hosts below come to
        classes = self.catalog.classify(url)
        if classes & DELIVERY_CLASSES or "brand-impersonation" in classes:
            return Trust.DELIVERY
        if classes & {"well-known-installers", "official-platform-domains", "local"}:
            return Trust.DECLARED
        return Trust.DECLARED if self.declared.declares(url) else Trust.UNDECLARED

    def trust(self, target: str) -> Trust | None:
        """The trust `worst((target,))` gives (None: not a URL), without building the URL when it
        is a plain `scheme://host/path` on a plain host."""
        m = _PLAIN_URL.fullmatch(target)
        if m is not None:
            host = m.group(1).lower().rstrip(".")  # as `parse_url` reads it
            if self.catalog.plain_host(host) and not self.declared.may_declare(host):
                return Trust.UNDECLARED
        found = self.worst((target,))
        return found[0] if found is not None else None

    def trusts(self, targets: Iterable[str]) -> list[Trust | None]:
        """`trust` of each target, in one call (a flood of statements fetching URLs)."""
        plain, may_declare = self.catalog.plain_host, self.declared.may_declare
        out: list[Trust | None] = []
        for target in targets:
            m = _PLAIN_URL.fullmatch(target)
            if m is not None:
                host = m.group(1).lower().rstrip(".")
                if plain(host) and not may_declare(host):
                    out.append(Trust.UNDECLARED)
                    continue
            out.append(self.trust(target))
        return out

    def worst(self, targets: Iterable[str]) -> tuple[Trust, UrlRef] | None:
        """The least trusted of several fetch targets (URLs or curl-style bare hosts)."""
        best: tuple[Trust, UrlRef] | None = None
        for t in targets:
            ref = parse_url(t, allow_bare=True)
            if ref is None:
                continue
            trust = self.assess(ref)
            if best is None or trust > best[0]:
                best = (trust, ref)
        return best
