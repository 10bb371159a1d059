"""Trust of a fetched URL for one skill: a delivery host (delivery catalogue) is the worst, a host
the skill declares (declared_hosts), a well-known installer or the platform the best, any other
host in between. What every download-and-execute check grades its hits by.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property

from skillscan.analyzers.declared_hosts import DeclaredHosts
from skillscan.analyzers.delivery import DELIVERY_CLASSES, DeliveryCatalog
from skillscan.analyzers.urls import PLAIN_URL, UrlRef, parse_url

_BULK = 16  # targets graded one by one below this
# PLAIN_URL on each line of targets joined by newlines (none of its classes holds a newline)
_PLAIN_LINES = re.compile("\n" + PLAIN_URL.pattern + "(?=\n)")
_NEWLINE = re.compile("\n")


class Trust(IntEnum):
    """How much a fetched URL can be trusted, worst last."""

    DECLARED = 0  # the skill's own host, a well-known vendor installer, the platform, localhost
    UNDECLARED = 1  # an ordinary host the skill does not declare
    DELIVERY = 2  # raw IP, paste site, tunnel, shortener, file drop, dynamic DNS, impersonation


@dataclass(frozen=True)
class HostPolicy:
    """Trust of fetched URLs for one skill: the catalogue plus what the skill declares."""

    catalog: DeliveryCatalog
    declared: DeclaredHosts = field(default_factory=DeclaredHosts)

    def assess(self, url: UrlRef) -> Trust:
        if self._plain(url.host):
            return Trust.UNDECLARED  # what `assess_in_full` comes to for such a host
        return self.assess_in_full(url)

    def assess_in_full(self, url: UrlRef) -> Trust:
        """The trust of a URL read from its classes and the skill's declarations, no screen."""
        classes = self.catalog.classify(url)
        if classes & DELIVERY_CLASSES or "brand-impersonation" in classes:
            return Trust.DELIVERY
        if classes & {"well-known-installers", "official-platform-domains", "local"}:
            return Trust.DECLARED
        return Trust.DECLARED if self.declared.declares(url) else Trust.UNDECLARED

    def trust(self, target: str) -> Trust | None:
        """The trust `worst((target,))` gives (None: not a URL), without building the URL when it
        is a plain `scheme://host/path` on a plain host."""
        m = PLAIN_URL.fullmatch(target)
        if m is not None and self._plain(m.group(1).lower().rstrip(".")):  # the host as `parse_url` reads it
            return Trust.UNDECLARED
        found = self.worst((target,))
        return found[0] if found is not None else None

    def trusts(self, targets: Iterable[str]) -> list[Trust | None]:
        """`trust` of each target, in one call (a flood of statements fetching URLs): the plain
        URLs are screened together (each put between newlines, searched by patterns that find
        something on the line of every one whose host `_plain` may reject) and only the lines
        found, and the other targets, are assessed one by one."""
        targets = list(targets)
        framed = "\n" + "\n".join(targets) + "\n"
        if len(targets) < _BULK or framed.count("\n") != len(targets) + 1:
            return [self.trust(t) for t in targets]
        out: list[Trust | None] = [Trust.UNDECLARED] * len(targets)
        if _PLAIN_LINES.subn("", framed)[1] != len(targets):  # a match is one whole line
            found = {m.start() for m in _PLAIN_LINES.finditer(framed)}
            at = 0  # the newline before each line
            for n, target in enumerate(targets):
                if at not in found:  # not a plain URL: assessed alone
                    out[n] = self.trust(target)
                at += len(target) + 1
        lines = framed.lower()  # hosts are read in lower case
        flagged = [m.start() for pattern in self._screens for m in pattern.finditer(lines)]
        if flagged:
            newlines = [m.start() for m in _NEWLINE.finditer(lines)]
            for n in {bisect_right(newlines, at) - 1 for at in flagged}:
                if n < len(targets):  # not the last newline
                    out[n] = self.trust(targets[n])
        return out

    @cached_property
    def _screens(self) -> list[re.Pattern[str]]:
        return self.catalog.unplain_lines + self.declared.declaring_lines()

    def _plain(self, host: str) -> bool:
        """No catalogue class and no declaration of the skill can touch this host."""
        return self.catalog.plain_host(host) and not self.declared.may_declare(host)

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
