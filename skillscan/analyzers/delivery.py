"""Delivery hosts and shapes: what a URL points at (paste site, tunnel, raw IP, personal release, …).

The catalogue is data (`data/delivery_hosts.yaml`); this module classifies the URLs and host-like
shell arguments `urls` finds by it, so that "the vendor's own installer" and "a snippet on a paste
site" can be told apart by every engine in the same way (with what the skill declares:
declared_hosts, host_policy).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from skillscan.analyzers.urls import NUMERIC_HOST, UrlRef, ip_literal
from skillscan.errors import RuleError
from skillscan.rules import load_rule_data

DATA_FILE = Path(__file__).resolve().parent / "data" / "delivery_hosts.yaml"

_DOC_SUFFIXES = ("example.com", "example.org", "example.net", "example", "test", "invalid", "localhost")
DELIVERY_CLASSES = frozenset({"raw-ip", "paste", "tunnel", "shortener", "file-share", "dynamic-dns"})
_SEPARATED = "[-_0-9]*"  # what `_impersonates_platform` drops from a label


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
        if ":" in host or NUMERIC_HOST.match(host):
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

    @cached_property
    def unplain_lines(self) -> list[re.Pattern[str]]:
        """Patterns that find, in plain URLs (`urls.PLAIN_URL`) each put between newlines, in lower
        case, something on the line of each whose host `plain_host` may say False of (and of
        others: a screen). A host there follows `://` and ends, but for dots `parse_url` drops,
        before a port, a path or the newline. Each pattern starts with a literal: searched fast."""
        labels: frozenset[str] = self._listed_last_labels  # type: ignore[attr-defined]
        found = [  # (a plain URL's host holds no `:`)
            re.compile("://[0-9]"),  # a numeric host starts with a digit
            # the last label is the last of a listed suffix, or the only one
            re.compile("\\.(?:" + "|".join(map(re.escape, sorted(labels))) + ")\\.*(?=[:/\n])"),
            re.compile("://[^.:/\n]*\\.*(?=[:/\n])"),
        ]
        brand_re: re.Pattern[str] | None = self._brand_re  # type: ignore[attr-defined]
        if brand_re is not None:  # letters and `_SEPARATED`: no match spans a newline
            found.append(brand_re)
        return found

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
