"""What fetching one skill version from ClawHub ended as: a typed outcome the caller can store.

Only `Downloaded` carries a bundle to scan. Every other outcome says why not, and whether asking
again later can change the answer (`retryable`), so nothing is ever silently skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from skillscan.models import SkillIdentity

if TYPE_CHECKING:
    from skillscan.config import Limits
    from skillscan.models import Skill


class OutcomeKind(StrEnum):
    DOWNLOADED = "downloaded"
    BLOCKED = "blocked-upstream"  # 403: flagged malicious or hidden by a moderator
    PENDING = "pending-upstream-scan"  # 423: the registry's own review is running
    REMOVED = "removed"  # 410: removed by a moderator, or the version was revoked
    NOT_FOUND = "not-found"  # 404
    GITHUB = "github-backed"  # JSON handoff instead of a ZIP
    INTEGRITY = "integrity-failure"  # bytes do not match the version's published hashes
    TOO_LARGE = "too-large"  # bundle bigger than the download bound
    UNAVAILABLE = "unavailable"  # rate-limited, 5xx or network failure after every retry


@dataclass(frozen=True, slots=True)
class VersionRef:
    """Owner-qualified identity of one version (ClawHub's dedupe key, clawhub-api.md §1.8)."""

    owner: str | None
    slug: str
    version: str | None = None

    def __str__(self) -> str:
        owner = f"@{self.owner}/" if self.owner else ""
        version = f"@{self.version}" if self.version else ""
        return f"{owner}{self.slug}{version}"

    @property
    def source(self) -> str:
        """The scan source string for this version, as `skillscan scan` accepts it."""
        return f"clawhub:{self}"

    def to_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "slug": self.slug, "version": self.version}


@dataclass(frozen=True, slots=True)
class FileDigest:
    """A file as the registry lists it for a version (path, size, lowercase hex sha256)."""

    path: str
    size: int
    sha256: str
    content_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256, "contentType": self.content_type}


@dataclass(frozen=True)
class Outcome:
    """Base of every outcome. `message` is the registry's text or our own one-line explanation."""

    kind: ClassVar[OutcomeKind]
    retryable: ClassVar[bool] = False

    ref: VersionRef
    message: str = ""

    @property
    def scannable(self) -> bool:
        return False

    def describe(self) -> str:
        text = f"{self.ref}: {self.kind}"
        return f"{text}: {self.message}" if self.message else text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record for a store; never includes bundle bytes."""
        return {
            "kind": str(self.kind),
            "retryable": self.retryable,
            **self.ref.to_dict(),
            "message": self.message,
            **self._extra(),
        }

    def _extra(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Downloaded(Outcome):
    """A bundle whose every file matched the version's published sha256 and bundle fingerprint."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.DOWNLOADED

    zip_bytes: bytes = field(default=b"", repr=False)
    zip_sha256: str = ""
    files: tuple[FileDigest, ...] = ()
    fingerprint: str = ""
    published_at: int | None = None  # version createdAt, ms
    upstream_status: str | None = None  # the registry's security snapshot status, if any
    upstream_sha256hash: str | None = None  # sha256 the registry recorded for its ZIP

    @property
    def scannable(self) -> bool:
        return True

    @property
    def identity(self) -> SkillIdentity:
        return SkillIdentity(
            owner=self.ref.owner, slug=self.ref.slug, version=self.ref.version, fingerprint=self.fingerprint
        )

    @property
    def matches_upstream_hash(self) -> bool | None:
        """Whether our ZIP's sha256 equals the registry's `sha256hash` (informational: ClawHub
        computes it without its generated skill-card.md, so a mismatch alone is not tampering)."""
        if not self.upstream_sha256hash:
            return None
        return self.upstream_sha256hash == self.zip_sha256

    def to_skill(self, limits: Limits) -> Skill:
        """Unpack the verified bundle in memory (bundle's limits apply) for the analyzers."""
        from skillscan.bundle import load_zip_bytes

        return load_zip_bytes(self.zip_bytes, self.ref.source, limits, identity=self.identity)

    def _extra(self) -> dict[str, Any]:
        return {
            "zip_sha256": self.zip_sha256,
            "zip_size": len(self.zip_bytes),
            "fingerprint": self.fingerprint,
            "published_at": self.published_at,
            "upstream_status": self.upstream_status,
            "upstream_sha256hash": self.upstream_sha256hash,
            "files": [f.to_dict() for f in self.files],
        }


@dataclass(frozen=True)
class BlockedUpstream(Outcome):
    kind: ClassVar[OutcomeKind] = OutcomeKind.BLOCKED
    status: int = 403


@dataclass(frozen=True)
class PendingUpstreamScan(Outcome):
    kind: ClassVar[OutcomeKind] = OutcomeKind.PENDING
    retryable: ClassVar[bool] = True
    retry_after_s: float | None = None

    def _extra(self) -> dict[str, Any]:
        return {"retry_after_s": self.retry_after_s}


@dataclass(frozen=True)
class Removed(Outcome):
    kind: ClassVar[OutcomeKind] = OutcomeKind.REMOVED


@dataclass(frozen=True)
class NotFound(Outcome):
    kind: ClassVar[OutcomeKind] = OutcomeKind.NOT_FOUND


@dataclass(frozen=True)
class GitHubBacked(Outcome):
    """The registry hands off to GitHub: recorded, but not scannable from the registry."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.GITHUB
    repo: str = ""
    commit: str = ""
    path: str = ""
    content_hash: str = ""
    archive_url: str = ""

    def _extra(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "commit": self.commit,
            "path": self.path,
            "content_hash": self.content_hash,
            "archive_url": self.archive_url,
        }


@dataclass(frozen=True)
class IntegrityFailure(Outcome):
    """The bytes served do not match the hashes the registry published for the version."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.INTEGRITY
    problems: tuple[str, ...] = ()
    zip_sha256: str = ""

    def _extra(self) -> dict[str, Any]:
        return {"problems": list(self.problems), "zip_sha256": self.zip_sha256}


@dataclass(frozen=True)
class TooLarge(Outcome):
    kind: ClassVar[OutcomeKind] = OutcomeKind.TOO_LARGE
    limit: int = 0
    received: int = 0
    declared: int | None = None

    def _extra(self) -> dict[str, Any]:
        return {"limit": self.limit, "received": self.received, "declared": self.declared}


@dataclass(frozen=True)
class Unavailable(Outcome):
    kind: ClassVar[OutcomeKind] = OutcomeKind.UNAVAILABLE
    retryable: ClassVar[bool] = True
    status: int | None = None
    attempts: int = 0
    retry_after_s: float | None = None
    rate_limited: bool = False

    def _extra(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "attempts": self.attempts,
            "retry_after_s": self.retry_after_s,
            "rate_limited": self.rate_limited,
        }


DownloadOutcome = (
    Downloaded
    | BlockedUpstream
    | PendingUpstreamScan
    | Removed
    | NotFound
    | GitHubBacked
    | IntegrityFailure
    | TooLarge
    | Unavailable
)
