"""ClawHub HTTP client (clawhub-api.md §1): reads, paging, owner-qualified lookups, verified downloads.

Reads raise typed `RegistryHTTPError`s (409 → `AmbiguousSlugError` listing the publishers);
`download()` never raises for an answer about the skill itself: it returns a typed outcome
(`skillscan.registry.outcomes`) that the caller stores. The bearer token lives only in the
session header; `repr()` and every error text leave it out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from skillscan.config import Limits, Settings
from skillscan.hashing import sha256_hex
from skillscan.registry.answers import ambiguity, handoff, read_outcome, unavailable
from skillscan.registry.errors import (
    RegistryError,
    RegistryHTTPError,
    RegistryProtocolError,
    RegistryUnavailableError,
    ResponseTooLargeError,
    error_for_status,
)
from skillscan.registry.http import Answer, RetryPolicy, Transport
from skillscan.registry.integrity import IntegrityError, verify_bundle
from skillscan.registry.outcomes import (
    Downloaded,
    DownloadOutcome,
    IntegrityFailure,
    NotFound,
    TooLarge,
    VersionRef,
)
from skillscan.registry.records import (
    Discovery,
    ResolveResult,
    SearchResult,
    SecurityVerdict,
    SkillDetail,
    SkillSummary,
    VersionDetail,
    VersionInfo,
    as_object,
)

MAX_JSON_BYTES = 16 * 1024 * 1024


class ClawHubClient:
    """One registry, one `requests` session. Download threads may share a client: requests go
    through urllib3's thread-safe connection pool and the client keeps no per-call state."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float = 30.0,
        policy: RetryPolicy | None = None,
        max_download_bytes: int = 64 * 1024 * 1024,
        download_deadline_s: float = 300.0,
        limits: Limits | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.transport = transport or Transport(base_url, token=token, timeout_s=timeout_s, policy=policy)
        self.base_url = self.transport.base_url
        self.max_download_bytes = max_download_bytes
        self.download_deadline_s = download_deadline_s
        self.limits = limits or Limits()

    @classmethod
    def from_settings(
        cls, settings: Settings, registry_url: str | None = None, **kwargs: Any
    ) -> ClawHubClient:
        policy = RetryPolicy(
            max_attempts=settings.registry_max_attempts, max_sleep_s=settings.registry_max_retry_sleep_s
        )
        kwargs.setdefault("policy", policy)
        return cls(
            registry_url or settings.registry_url,
            token=settings.clawhub_token,
            timeout_s=settings.registry_timeout_s,
            max_download_bytes=settings.registry_max_download_bytes,
            limits=settings.limits,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"ClawHubClient({self.base_url!r}, token={'set' if self.transport.has_token else 'none'})"

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> ClawHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------------

    def _get_json(self, path: str, what: str, params: Mapping[str, Any] | None = None) -> Any:
        answer = self.transport.request("GET", path, what, params=params, max_bytes=MAX_JSON_BYTES)
        return self._json_or_raise(answer, what)

    def _json_or_raise(self, answer: Answer, what: str) -> Any:
        if answer.status != 200:
            raise self._error(answer, what)
        try:
            return json.loads(answer.body)
        except ValueError as e:
            raise RegistryProtocolError(
                f"{what}: answer is not JSON ({answer.content_type or 'no type'})"
            ) from e

    def _error(self, answer: Answer, what: str) -> RegistryHTTPError:
        if answer.status == 409:
            return ambiguity(answer, what, self.transport.scrub(answer.text()))
        return error_for_status(what, answer.status, self.transport.scrub(answer.text()))

    # -- reads ----------------------------------------------------------------------------------

    def discover(self) -> Discovery:
        return Discovery.parse(self._get_json("/.well-known/clawhub.json", "discovery"))

    def search(self, query: str, *, limit: int = 10, non_suspicious_only: bool = False) -> list[SearchResult]:
        params = {"q": query, "limit": limit, "nonSuspiciousOnly": "true" if non_suspicious_only else None}
        data = as_object(self._get_json("/api/v1/search", "search", params), "search")
        results = data.get("results")
        if not isinstance(results, list):
            raise RegistryProtocolError("search: 'results' must be a list")
        return [SearchResult.parse(r) for r in results]

    def list_page(
        self,
        *,
        sort: str = "updated",
        cursor: str | None = None,
        limit: int = 200,
        non_suspicious_only: bool = False,
    ) -> tuple[list[SkillSummary], str | None]:
        params = {
            "sort": sort,
            "cursor": cursor,
            "limit": limit,
            "nonSuspiciousOnly": "true" if non_suspicious_only else None,
        }
        data = as_object(self._get_json("/api/v1/skills", "list skills", params), "list skills")
        return [SkillSummary.parse(i) for i in _items(data, "list skills")], _cursor(data, "list skills")

    def iter_skills(
        self,
        *,
        sort: str = "updated",
        limit: int = 200,
        non_suspicious_only: bool = False,
        max_pages: int = 100_000,
    ) -> Iterator[SkillSummary]:
        """Every listed skill, following `nextCursor` until null (short pages do not mean the end)."""
        cursor: str | None = None
        seen_cursors: set[str] = set()
        for _ in range(max_pages):
            items, cursor = self.list_page(
                sort=sort, cursor=cursor, limit=limit, non_suspicious_only=non_suspicious_only
            )
            yield from items
            if cursor is None:
                return
            if cursor in seen_cursors:
                raise RegistryProtocolError("list skills: registry returned a cursor it already returned")
            seen_cursors.add(cursor)
        raise RegistryProtocolError(f"list skills: more than {max_pages} pages")

    def skill(self, slug: str, *, owner: str | None = None) -> SkillDetail:
        params = {"ownerHandle": owner}
        return SkillDetail.parse(self._get_json(f"/api/v1/skills/{_seg(slug)}", "skill detail", params))

    def version_page(
        self, slug: str, *, owner: str | None = None, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[VersionInfo], str | None]:
        params = {"ownerHandle": owner, "cursor": cursor, "limit": limit}
        data = as_object(
            self._get_json(f"/api/v1/skills/{_seg(slug)}/versions", "versions", params), "versions"
        )
        return [VersionInfo.parse(i) for i in _items(data, "versions")], _cursor(data, "versions")

    def iter_versions(
        self, slug: str, *, owner: str | None = None, max_pages: int = 10_000
    ) -> Iterator[VersionInfo]:
        """Versions newest first (createdAt desc), every page."""
        cursor: str | None = None
        seen_cursors: set[str] = set()
        for _ in range(max_pages):
            items, cursor = self.version_page(slug, owner=owner, cursor=cursor)
            yield from items
            if cursor is None:
                return
            if cursor in seen_cursors:
                raise RegistryProtocolError("versions: registry returned a cursor it already returned")
            seen_cursors.add(cursor)
        raise RegistryProtocolError(f"versions: more than {max_pages} pages")

    def version(self, slug: str, version: str, *, owner: str | None = None) -> VersionDetail:
        path = f"/api/v1/skills/{_seg(slug)}/versions/{_seg(version)}"
        return VersionDetail.parse(self._get_json(path, "version detail", {"ownerHandle": owner}))

    def resolve(self, slug: str, fingerprint: str, *, owner: str | None = None) -> ResolveResult:
        params = {"slug": slug, "hash": fingerprint, "ownerHandle": owner}
        return ResolveResult.parse(self._get_json("/api/v1/resolve", "resolve", params))

    def security_verdicts(self, items: Sequence[VersionRef]) -> list[SecurityVerdict]:
        body = {
            "items": [
                {"slug": r.slug, "version": r.version, **({"ownerHandle": r.owner} if r.owner else {})}
                for r in items
            ]
        }
        answer = self.transport.request(
            "POST",
            "/api/v1/skills/-/security-verdicts",
            "security verdicts",
            json_body=body,
            max_bytes=MAX_JSON_BYTES,
        )
        data = as_object(self._json_or_raise(answer, "security verdicts"), "security verdicts")
        return [SecurityVerdict.parse(i) for i in _items(data, "security verdicts")]

    def whoami(self) -> str | None:
        """The token's user handle (401 → `RegistryAuthError`)."""
        data = as_object(self._get_json("/api/v1/whoami", "whoami"), "whoami")
        user = data.get("user")
        handle = user.get("handle") if isinstance(user, Mapping) else None
        return handle if isinstance(handle, str) else None

    def post_moderation(
        self, slug: str, version: str, body: Mapping[str, Any], *, owner: str | None = None
    ) -> Any:
        """Staff: post a verdict to `POST /api/v1/skills/{slug}/versions/{version}/moderation`."""
        path = f"/api/v1/skills/{_seg(slug)}/versions/{_seg(version)}/moderation"
        answer = self.transport.request(
            "POST",
            path,
            "post moderation",
            params={"ownerHandle": owner},
            json_body=dict(body),
            max_bytes=MAX_JSON_BYTES,
        )
        return self._json_or_raise(answer, "post moderation")

    # -- download -------------------------------------------------------------------------------

    def download(
        self, slug: str, *, owner: str | None = None, version: str | None = None, tag: str | None = None
    ) -> DownloadOutcome:
        """Fetch one version's bundle and verify it against the published hashes.

        Returns a typed outcome for every answer about the skill. Raises `AmbiguousSlugError`
        when `owner` is needed, and `RegistryError` for answers that are about the request
        itself (400/401, a malformed JSON answer).
        """
        ref = VersionRef(owner, slug, version)
        try:
            if owner is None or version is None:
                detail = self.skill(slug, owner=owner)
                owner = detail.owner or owner
                version = version or (detail.tags.get(tag) if tag else detail.latest_version)
                ref = VersionRef(owner, slug, version)
                if version is None:
                    return NotFound(ref, f"no published version{f' tagged {tag!r}' if tag else ''}")
            vdetail = self.version(slug, version, owner=owner)
        except RegistryError as e:
            return read_outcome(ref, e)
        return self._fetch_bundle(ref, vdetail)

    def _fetch_bundle(self, ref: VersionRef, vdetail: VersionDetail) -> DownloadOutcome:
        params = {"slug": ref.slug, "version": ref.version, "ownerHandle": ref.owner}
        try:
            answer = self.transport.request(
                "GET",
                "/api/v1/download",
                "download",
                params=params,
                max_bytes=self.max_download_bytes,
                deadline_s=self.download_deadline_s,
            )
        except ResponseTooLargeError as e:
            return TooLarge(ref, str(e), limit=e.limit, received=e.received, declared=e.declared)
        except RegistryUnavailableError as e:
            return unavailable(ref, e)
        if answer.status != 200:
            return read_outcome(ref, self._error(answer, "download"), answer)
        if answer.content_type == "application/json" or answer.body[:1] == b"{":
            return handoff(ref, answer)
        zip_sha = sha256_hex(answer.body)
        try:
            verified = verify_bundle(
                answer.body, vdetail.files, self.limits, slug=ref.slug, version=ref.version
            )
        except IntegrityError as e:
            return IntegrityFailure(ref, e.summary, problems=e.problems, zip_sha256=zip_sha)
        return Downloaded(
            ref,
            zip_bytes=answer.body,
            zip_sha256=zip_sha,
            files=verified.files,
            fingerprint=verified.fingerprint,
            published_at=vdetail.created_at,
            upstream_status=vdetail.security_status,
            upstream_sha256hash=vdetail.sha256hash,
        )


def _items(data: Mapping[str, Any], what: str) -> list[Any]:
    items = data.get("items")
    if not isinstance(items, list):
        raise RegistryProtocolError(f"{what}: 'items' must be a list")
    return items


def _cursor(data: Mapping[str, Any], what: str) -> str | None:
    cursor = data.get("nextCursor")
    if cursor is not None and not isinstance(cursor, str):
        raise RegistryProtocolError(f"{what}: 'nextCursor' must be a string or null")
    return cursor or None


def _seg(value: str) -> str:
    """One URL path segment: a slug or version can never add a path level."""
    return quote(value, safe="")
