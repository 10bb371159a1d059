"""Translate ClawHub answers into typed errors and download outcomes (clawhub-api.md §1.4, §1.6)."""

from __future__ import annotations

import json

from skillscan.hashing import sha256_hex
from skillscan.registry.errors import (
    AmbiguousSlugError,
    RegistryError,
    RegistryForbiddenError,
    RegistryGoneError,
    RegistryHTTPError,
    RegistryNotFoundError,
    RegistryPendingError,
    RegistryUnavailableError,
    SlugMatch,
)
from skillscan.registry.http import Answer, RetryPolicy, retry_delay
from skillscan.registry.outcomes import (
    BlockedUpstream,
    DownloadOutcome,
    GitHubBacked,
    IntegrityFailure,
    NotFound,
    PendingUpstreamScan,
    Removed,
    Unavailable,
    VersionRef,
)


def read_outcome(ref: VersionRef, error: RegistryError, answer: Answer | None = None) -> DownloadOutcome:
    """Map an error about the skill to its stored outcome; re-raise errors about the request."""
    if isinstance(error, RegistryUnavailableError):
        return unavailable(ref, error)
    if isinstance(error, AmbiguousSlugError):
        raise error
    if isinstance(error, RegistryForbiddenError):
        return BlockedUpstream(ref, error.message)
    if isinstance(error, RegistryPendingError):
        wait = retry_delay(answer.headers, 1, RetryPolicy(), 0.0) if answer is not None else None
        return PendingUpstreamScan(ref, error.message, retry_after_s=wait[0] if wait and wait[1] else None)
    if isinstance(error, RegistryGoneError):
        return Removed(ref, error.message)
    if isinstance(error, RegistryNotFoundError):
        return NotFound(ref, error.message)
    if isinstance(error, RegistryHTTPError) and error.status >= 500:
        return Unavailable(ref, str(error), status=error.status, attempts=1)
    raise error


def unavailable(ref: VersionRef, e: RegistryUnavailableError) -> Unavailable:
    return Unavailable(
        ref,
        e.detail,
        status=e.status,
        attempts=e.attempts,
        retry_after_s=e.retry_after_s,
        rate_limited=e.rate_limited,
    )


def handoff(ref: VersionRef, answer: Answer) -> DownloadOutcome:
    """GitHub-backed skills answer JSON instead of a ZIP (clawhub-api.md §1.6.12)."""
    try:
        data = json.loads(answer.body)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("repo"), str):
        return IntegrityFailure(
            ref,
            f"expected a ZIP, got {answer.content_type or 'an untyped body'}",
            zip_sha256=sha256_hex(answer.body),
        )

    def text(key: str) -> str:
        value = data.get(key)
        return value if isinstance(value, str) else ""

    return GitHubBacked(
        ref,
        f"GitHub-backed skill: {text('repo')}@{text('commit')[:12]} (not scannable from the registry)",
        repo=text("repo"),
        commit=text("commit"),
        path=text("path"),
        content_hash=text("contentHash"),
        archive_url=text("archiveUrl"),
    )


def ambiguity(answer: Answer, what: str, message: str) -> AmbiguousSlugError:
    """409 comes as JSON `{code: AMBIGUOUS_SKILL_SLUG, message, slug, matches}` or as plain text."""
    slug = ""
    matches: tuple[SlugMatch, ...] = ()
    try:
        data = json.loads(answer.body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        slug = str(data.get("slug") or "")
        message = str(data.get("message") or message)[:300]
        raw = data.get("matches")
        if isinstance(raw, list):
            matches = tuple(
                SlugMatch(
                    owner=str(m.get("ownerHandle") or ""),
                    slug=str(m.get("slug") or slug),
                    ref=str(m.get("ref") or ""),
                    url=str(m.get("url") or ""),
                )
                for m in raw
                if isinstance(m, dict) and m.get("ownerHandle")
            )
    return AmbiguousSlugError(what, slug, message, matches)
