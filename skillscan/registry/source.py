"""`clawhub:[@owner/]slug[@version]` scan sources: resolve, download, verify, unpack in memory."""

from __future__ import annotations

import re
from dataclasses import dataclass

from skillscan.config import Settings
from skillscan.errors import RegistryError
from skillscan.models import Skill
from skillscan.registry.clawhub import ClawHubClient
from skillscan.registry.outcomes import Downloaded, DownloadOutcome, VersionRef

PREFIX = "clawhub:"
# Lenient on purpose (legacy slugs, `v1.2.3` versions) but never a path separator or whitespace.
_REF = re.compile(
    r"^(?:@?(?P<owner>[A-Za-z0-9][A-Za-z0-9._-]{0,99})/)?"
    r"(?P<slug>[A-Za-z0-9][A-Za-z0-9._-]{0,199}?)"
    r"(?:@(?P<version>[0-9A-Za-z][0-9A-Za-z.+_-]{0,99}))?$"
)


class RegistryOutcomeError(RegistryError):
    """The registry did not hand over a scannable bundle; `outcome` says why (and can be stored)."""

    def __init__(self, outcome: DownloadOutcome) -> None:
        self.outcome = outcome
        hint = " (retry later)" if outcome.retryable else ""
        super().__init__(f"{outcome.describe()}{hint}")


@dataclass(frozen=True, slots=True)
class ClawHubRef:
    owner: str | None
    slug: str
    version: str | None

    @property
    def ref(self) -> VersionRef:
        return VersionRef(self.owner, self.slug, self.version)


def is_clawhub_ref(value: str) -> bool:
    return value.startswith(PREFIX)


def parse_clawhub_ref(value: str) -> ClawHubRef:
    """Parse `clawhub:[@owner/]slug[@version]` (owner and slug are case-insensitive on ClawHub)."""
    body = value[len(PREFIX) :] if value.startswith(PREFIX) else value
    m = _REF.match(body.strip())
    if not m:
        raise RegistryError(f"not a ClawHub reference: {value!r} (expected clawhub:[@owner/]slug[@version])")
    owner = m.group("owner")
    return ClawHubRef(owner.lower() if owner else None, m.group("slug").lower(), m.group("version"))


def fetch_clawhub_ref(ref: str, settings: Settings, client: ClawHubClient | None = None) -> DownloadOutcome:
    """The typed outcome of downloading a reference (for callers that store non-scans too)."""
    parsed = parse_clawhub_ref(ref)
    if client is not None:
        return client.download(parsed.slug, owner=parsed.owner, version=parsed.version)
    with ClawHubClient.from_settings(settings) as own:
        return own.download(parsed.slug, owner=parsed.owner, version=parsed.version)


def load_clawhub_ref(ref: str, settings: Settings, client: ClawHubClient | None = None) -> Skill:
    """Download and verify a ClawHub version, then unpack it with `bundle.load_zip_bytes`.

    Raises `RegistryOutcomeError` (a `RegistryError`) for every outcome that is not a verified
    download, `AmbiguousSlugError` when the slug needs an owner, `RegistryError` otherwise.
    """
    outcome = fetch_clawhub_ref(ref, settings, client)
    if not isinstance(outcome, Downloaded):
        raise RegistryOutcomeError(outcome)
    return outcome.to_skill(settings.limits)
