"""The reputation seam: look up hashes (and optionally URLs) with an external service.

A lookup never fails a scan: every outcome — known, unknown, deferred by quota, failed — is data
that the analyzer turns into findings or report notes. Without an API key the null service is
used and no request is ever made.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from skillscan.hashing import sha256_hex


class LookupKind(StrEnum):
    FILE = "file"
    URL = "url"


class LookupStatus(StrEnum):
    FOUND = "found"  # the service knows the object: stats are its engines' votes
    UNKNOWN = "unknown"  # never seen by the service (data, not an error)
    DEFERRED = "deferred"  # quota exhausted or rate limited: retried later
    FAILED = "failed"  # outage, 5xx, bad answer: a report note, never a scan error


@dataclass(frozen=True, slots=True)
class LookupTarget:
    """One object to look up. `key` is the sha256 for files, the URL itself for URLs."""

    kind: LookupKind
    key: str
    path: str  # real path in the skill the finding points at ("." for the bundle ZIP)
    label: str  # human name for messages and notes
    data: bytes | None = field(default=None, repr=False)  # only kept for an opt-in upload
    # (owner, slug, version) of the skills that need this answer: rescanned when a deferred
    # lookup later finds something
    refs: tuple[tuple[str, str, str], ...] = ()

    @property
    def cache_key(self) -> str:
        # URLs can be long and hostile; their cache key is a digest
        key = self.key if self.kind is LookupKind.FILE else sha256_hex(self.key.encode())
        return f"{self.kind}:{key}"


@dataclass(frozen=True, slots=True)
class Reputation:
    """A cacheable answer: the service's engine statistics for one object, or that it is unknown."""

    kind: LookupKind
    key: str
    known: bool
    stats: Mapping[str, int] = field(default_factory=dict)
    link: str | None = None
    uploaded: bool = False  # unknown, so it was submitted for analysis (operator opt-in)

    def count(self, name: str) -> int:
        return int(self.stats.get(name, 0) or 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "key": self.key,
            "known": self.known,
            "stats": dict(self.stats),
            "link": self.link,
            "uploaded": self.uploaded,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Reputation:
        return cls(
            kind=LookupKind(d["kind"]),
            key=str(d["key"]),
            known=bool(d["known"]),
            stats={str(k): int(v) for k, v in (d.get("stats") or {}).items()},
            link=d.get("link"),
            uploaded=bool(d.get("uploaded", False)),
        )


@dataclass(frozen=True, slots=True)
class LookupResult:
    target: LookupTarget
    status: LookupStatus
    reputation: Reputation | None = None
    detail: str = ""  # why deferred or failed; never contains a secret
    cached: bool = False


class ReputationService(ABC):
    """Looks up many targets in one call. Implementations never raise for a single lookup."""

    name: str = "reputation"

    @property
    def enabled(self) -> bool:
        return True

    @abstractmethod
    def lookup(self, targets: Sequence[LookupTarget]) -> list[LookupResult]:
        """One result per target, in order."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""


class NullReputationService(ReputationService):
    """The default without an API key: no lookups, no requests, no errors."""

    name = "null"

    @property
    def enabled(self) -> bool:
        return False

    def lookup(self, targets: Sequence[LookupTarget]) -> list[LookupResult]:
        return []
