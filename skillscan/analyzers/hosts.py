"""Hygiene engine "hosts": private endpoints, personal paths and live-looking secrets.

These findings say the author shipped something of their own environment (a tailnet address,
`/Users/<name>`, an API key). They are reported at low/medium severity and never decide a
verdict alone. Real files are scanned once; of the virtual files only decoded payloads and archive
members are scanned (code blocks are substrings of their markdown file, already covered).
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillscan.analyzers.delivery import DeliveryCatalog
from skillscan.analyzers.interface import Analyzer
from skillscan.analyzers.secrets import SecretPatterns, find_secrets, redact
from skillscan.analyzers.urls import find_urls
from skillscan.errors import RuleError
from skillscan.models import (
    AnalysisResult,
    Finding,
    RuleMeta,
    Skill,
    SkillFile,
    VirtualOrigin,
)
from skillscan.rules import load_rule_data, metas_from_specs

DEFAULT_RULES_FILE = Path(__file__).resolve().parent / "data" / "hosts.yaml"
MAX_TEXT_CHARS = 4 * 1024 * 1024  # larger text is left to YARA (bytes)
MAX_FINDINGS_PER_RULE_FILE = 5  # one noisy file must not bury the report
MAX_CANDIDATES = 2000  # regex hits examined per pattern and file; bounds the per-hit Python work
_CAPTURE_CLASSES = frozenset({"capture", "tunnel"})
# Virtual files whose text is not a substring of a real file (code blocks and normalized copies are).
_NEW_CONTENT = frozenset({VirtualOrigin.DECODED, VirtualOrigin.ARCHIVE})

# A digit first (with the look-behind after it) lets the engine skip to digits instead of trying
# the look-behind at every offset: the same matches, about three times faster.
_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\w]|\.\d|/\d)")
# Private DNS suffixes are found first (a literal '.' prefix keeps the scan fast); the host name is
# then read backwards from each one with str.rstrip, never with a regex that may start anywhere.
# The suffixes share their first letters (local|lan, internal|intranet): factored, each '.' costs
# one letter test instead of seven.
_PRIVATE_TLD = re.compile(
    r"(?i)\.(?P<tld>l(?:ocal|an)|int(?:ernal|ranet)|corp|home\.arpa|ts\.net)(?![\w\-]|\.[a-z0-9])"
)
_HOST_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
_LABELS = re.compile(
    r"(?i)(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.){0,5}[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
)
_MAX_HOST = 120
_HOME_UNIX = re.compile(r"/(?:Users|home)/(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]{1,40})(?=/)")
_HOME_WIN = re.compile(r":(?:\\\\|\\|/)Users(?:\\\\|\\|/)(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]{1,40})(?=\\|/)")
_NOT_BEFORE_HOME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/-")
_DOC_NETS = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "0.0.0.0/8")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_LINK_LOCAL = ipaddress.ip_network("169.254.0.0/16")
_METADATA_IPS = frozenset({"169.254.169.254", "100.100.100.200", "169.254.170.2"})
_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.internal"})
# A private-DNS name is only a host when something connects to it.
_HOST_CONTEXT = re.compile(
    r"(?:://|\b(?:ssh|scp|sftp|rsync|mosh)\s{1,4}(?:-\S{1,20}\s{1,4}){0,3}(?:[\w.\-]{1,32}@)?"
    r"|\bhost[\"']?\s{0,3}[:=]\s{0,3}[\"']?)$",
    re.I,
)


@dataclass(frozen=True, slots=True)
class _Hit:
    rule_id: str
    start: int
    end: int
    shown: str  # text to show in the evidence instead of the raw match (redacted secrets)


class HostsAnalyzer(Analyzer):
    name = "hosts"

    def __init__(self, rules_file: Path | None = None, catalog: DeliveryCatalog | None = None) -> None:
        data = _load(rules_file or DEFAULT_RULES_FILE)
        self._catalog = catalog or DeliveryCatalog.load()
        self._meta = metas_from_specs("hosts", data["rules"], str(rules_file or DEFAULT_RULES_FILE))
        self._secrets = SecretPatterns.build(
            data["secret_patterns"], data["secret_names"], data["placeholder_words"]
        )
        missing = set(data["secret_patterns"]) - set(self._meta)
        if missing:
            raise RuleError(f"hosts: secret patterns without rule metadata: {sorted(missing)}")
        self._generic_users = frozenset(u.lower() for u in data["generic_users"])
        self._generic_hosts = frozenset(h.lower() for h in data["generic_hosts"])
        self._placeholders = tuple(w.lower() for w in data["placeholder_words"])

    def rules(self) -> Sequence[RuleMeta]:
        return tuple(self._meta.values())

    def analyze(self, skill: Skill) -> AnalysisResult:
        findings: list[Finding] = []
        seen: set[tuple[str, str, int | None]] = set()
        for f in skill.files:
            if f.text is None or (f.virtual is not None and f.virtual not in _NEW_CONTENT):
                continue
            text = f.text[:MAX_TEXT_CHARS]
            findings.extend(self._scan_file(f, text, seen, _is_markdown(f)))
        return AnalysisResult(findings=tuple(findings))

    def _scan_file(
        self, f: SkillFile, text: str, seen: set[tuple[str, str, int | None]], markdown: bool
    ) -> list[Finding]:
        lines = _LineIndex(text)
        per_rule: dict[str, int] = {}
        out: list[Finding] = []
        for hit in self._hits(text, markdown):
            if per_rule.get(hit.rule_id, 0) >= MAX_FINDINGS_PER_RULE_FILE:
                continue
            line = f.real_line(lines.line_of(hit.start))
            key = (hit.rule_id, f.real_path, line)
            if key in seen:
                continue
            seen.add(key)
            per_rule[hit.rule_id] = per_rule.get(hit.rule_id, 0) + 1
            meta = self._meta[hit.rule_id]
            out.append(
                Finding(
                    rule_id=meta.id,
                    analyzer=self.name,
                    category=meta.category,
                    severity=meta.severity,
                    path=f.real_path,
                    line=line,
                    message=f"{meta.description} ({hit.shown})",
                    evidence=lines.evidence(hit.start, hit.end, hit.shown),
                    confidence=meta.confidence,
                    status=meta.status,
                )
            )
        return out

    def _hits(self, text: str, markdown: bool) -> Iterator[_Hit]:
        if not markdown:  # prose about tunnels is the prompt rules' business; code and config are ours
            yield from self._capture_hits(text)
        yield from self._ip_hits(text)
        yield from self._hostname_hits(text)
        yield from self._home_hits(text)
        for s in find_secrets(text, self._secrets):
            yield _Hit(s.rule_id, s.start, s.end, redact(s.secret))

    def _capture_hits(self, text: str) -> Iterator[_Hit]:
        """A request-capture inbox or a personal tunnel hard-coded as an endpoint in code or config."""
        if "://" not in text:
            return
        for url in itertools.islice(find_urls(text), MAX_CANDIDATES):
            if not self._catalog.classify(url) & _CAPTURE_CLASSES:
                continue
            if any(w in url.host for w in self._placeholders):
                continue
            yield _Hit("capture-endpoint", url.start, url.end, url.host)

    def _ip_hits(self, text: str) -> Iterator[_Hit]:
        for m in _capped(_IPV4.finditer(text)):
            raw = m.group(0)
            try:
                ip = ipaddress.IPv4Address(raw)
            except ValueError:
                continue
            if raw in _METADATA_IPS:
                yield _Hit("cloud-metadata-endpoint", m.start(), m.end(), raw)
                continue
            if ip.is_loopback or any(ip in n for n in _DOC_NETS) or raw.endswith((".0", ".255")):
                continue
            if _version_context(text, m.start()):
                continue
            if ip in _CGNAT:
                yield _Hit("cgnat-host", m.start(), m.end(), raw)
            elif ip in _LINK_LOCAL:
                yield _Hit("link-local-host", m.start(), m.end(), raw)
            elif ip.is_private:
                yield _Hit("private-network-host", m.start(), m.end(), raw)

    def _hostname_hits(self, text: str) -> Iterator[_Hit]:
        for m in _capped(_PRIVATE_TLD.finditer(text)):
            window = text[max(0, m.start() - _MAX_HOST) : m.start()]
            labels = window[len(window.rstrip(_HOST_CHARS)) :].lstrip(".-")
            name = _LABELS.fullmatch(labels) if labels else None
            if name is None:
                continue
            start = m.start() - len(labels)
            if start > 0 and text[start - 1] in "_\\":
                continue
            host = (labels + m.group(0)).lower()
            if host in _METADATA_HOSTS:
                yield _Hit("cloud-metadata-endpoint", start, m.end(), host)
                continue
            first = host.split(".", 1)[0]
            base = host.rsplit(".", 2 if host.endswith((".ts.net", ".home.arpa")) else 1)[0]
            if first in self._generic_hosts or base in self._generic_hosts:
                continue
            if any(w in host for w in self._placeholders):
                continue
            tld = m.group("tld").lower()
            if tld != "ts.net" and not _HOST_CONTEXT.search(text[max(0, start - 40) : start]):
                continue
            yield _Hit("internal-hostname", start, m.end(), host)

    def _home_hits(self, text: str) -> Iterator[_Hit]:
        for rx, windows in ((_HOME_UNIX, False), (_HOME_WIN, True)):
            for m in _capped(rx.finditer(text)):
                start = m.start() - 1 if windows else m.start()
                if windows and (start < 0 or not text[start].isalpha()):
                    continue  # C:\Users\… needs its drive letter
                before = text[start - 1] if start > 0 else ""
                if before and before in _NOT_BEFORE_HOME:
                    continue  # part of a URL path or a longer path, not a home directory
                name = m.group("name")
                low = name.lower()
                if low in self._generic_users or any(w in low for w in self._placeholders):
                    continue
                yield _Hit("user-home-path", start, m.end(), text[start : m.end()])


def _is_markdown(f: SkillFile) -> bool:
    return f.real_path.lower().endswith((".md", ".markdown", ".mdx")) and f.virtual is None


def _capped(matches: Iterator[re.Match[str]]) -> Iterator[re.Match[str]]:
    return itertools.islice(matches, MAX_CANDIDATES)


def _version_context(text: str, start: int) -> bool:
    """`v10.2.0.1`, `version 10.0.0.3`: a four-part version number, not an address."""
    before = text[max(0, start - 10) : start].lower()
    return before.endswith(("v", "version ", "version=", "version: ", "@"))


_NEWLINE = re.compile("\n")


class _LineIndex:
    """Offsets to lines, built on first use: most files have no finding at all."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._line_starts: list[int] | None = None

    @property
    def _starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = [0, *(m.end() for m in _NEWLINE.finditer(self._text))]
        return self._line_starts

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)

    def evidence(self, start: int, end: int, shown: str) -> str:
        i = self.line_of(start) - 1
        line_start = self._starts[i]
        line_end = self._starts[i + 1] - 1 if i + 1 < len(self._starts) else len(self._text)
        line = self._text[line_start:line_end]
        s, e = start - line_start, min(end - line_start, len(line))
        line = line[:s] + shown + line[e:]
        lo = max(0, s - 80)
        return line[lo : lo + 200].strip()


_DATA_KEYS = (
    "rules",
    "secret_patterns",
    "secret_names",
    "placeholder_words",
    "generic_users",
    "generic_hosts",
)


def _load(path: Path) -> dict[str, Any]:
    return load_rule_data(path, "hosts", _DATA_KEYS)
