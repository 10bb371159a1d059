"""Trust of a fetched URL for one skill: a delivery host (delivery catalogue) is the worst, a host
the skill declares (declared_hosts), a well-known installer or the platform the best, any other
host in between. What every download-and-execute check grades its hits by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from skillscan.analyzers.declared_hosts import DeclaredHosts
from skillscan.analyzers.delivery import DELIVERY_CLASSES, DeliveryCatalog
from skillscan.analyzers.urls import PLAIN_URL, UrlRef, parse_url


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
        """`trust` of each target, in one call (a flood of statements fetching URLs)."""
        return [self.trust(t) for t in targets]

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
