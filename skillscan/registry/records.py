"""Typed views of ClawHub's JSON answers (clawhub-api.md §1.6), parsed defensively.

A registry is an untrusted peer: every field is type-checked here, so a malformed answer becomes
one `RegistryProtocolError` at the boundary instead of a `KeyError` deep inside a caller. Each
record keeps the raw object for fields we do not model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from skillscan.registry.errors import RegistryProtocolError
from skillscan.registry.outcomes import FileDigest

_HEX = frozenset("0123456789abcdef")


def as_object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RegistryProtocolError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


def _str(obj: Mapping[str, Any], key: str, what: str, *, optional: bool = False) -> str | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise RegistryProtocolError(f"{what}: field {key!r} must be a string")
    return value


def _req_str(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = _str(obj, key, what)
    assert value is not None
    return value


def _int(obj: Mapping[str, Any], key: str, what: str, *, optional: bool = True) -> int | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RegistryProtocolError(f"{what}: field {key!r} must be a number")
    return int(value)


def _version_of(value: Any, what: str) -> tuple[str | None, int | None]:
    if value is None:
        return None, None
    obj = as_object(value, what)
    return _str(obj, "version", what, optional=True), _int(obj, "createdAt", what)


def _tags(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    obj = as_object(value, what)
    return {str(k): v for k, v in obj.items() if isinstance(v, str)}


@dataclass(frozen=True, slots=True)
class Discovery:
    api_base: str
    auth_base: str | None
    min_cli_version: str | None
    registry: str | None

    @classmethod
    def parse(cls, data: Any) -> Discovery:
        obj = as_object(data, "discovery")
        return cls(
            api_base=_req_str(obj, "apiBase", "discovery"),
            auth_base=_str(obj, "authBase", "discovery", optional=True),
            min_cli_version=_str(obj, "minCliVersion", "discovery", optional=True),
            registry=_str(obj, "registry", "discovery", optional=True),
        )


@dataclass(frozen=True, slots=True)
class SkillSummary:
    """A `GET /api/v1/skills` item. Carries no owner: resolve it with the skill detail."""

    slug: str
    display_name: str | None
    summary: str | None
    created_at: int | None
    updated_at: int | None
    latest_version: str | None
    latest_created_at: int | None
    tags: dict[str, str]
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, data: Any) -> SkillSummary:
        what = "skill list item"
        obj = as_object(data, what)
        latest, latest_at = _version_of(obj.get("latestVersion"), what)
        return cls(
            slug=_req_str(obj, "slug", what),
            display_name=_str(obj, "displayName", what, optional=True),
            summary=_str(obj, "summary", what, optional=True),
            created_at=_int(obj, "createdAt", what),
            updated_at=_int(obj, "updatedAt", what),
            latest_version=latest,
            latest_created_at=latest_at,
            tags=_tags(obj.get("tags"), what),
            raw=obj,
        )


@dataclass(frozen=True, slots=True)
class SearchResult:
    slug: str
    display_name: str | None
    owner: str | None
    version: str | None
    score: float
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, data: Any) -> SearchResult:
        what = "search result"
        obj = as_object(data, what)
        score = obj.get("score")
        return cls(
            slug=_req_str(obj, "slug", what),
            display_name=_str(obj, "displayName", what, optional=True),
            owner=_str(obj, "ownerHandle", what, optional=True),
            version=_str(obj, "version", what, optional=True),
            score=float(score) if isinstance(score, int | float) and not isinstance(score, bool) else 0.0,
            raw=obj,
        )


@dataclass(frozen=True, slots=True)
class Moderation:
    is_suspicious: bool
    is_malware_blocked: bool
    verdict: str
    reason_codes: tuple[str, ...]
    summary: str | None

    @classmethod
    def parse(cls, data: Any) -> Moderation | None:
        if data is None:
            return None
        obj = as_object(data, "moderation")
        codes = obj.get("reasonCodes")
        return cls(
            is_suspicious=obj.get("isSuspicious") is True,
            is_malware_blocked=obj.get("isMalwareBlocked") is True,
            verdict=str(obj.get("verdict") or "clean"),
            reason_codes=tuple(c for c in codes if isinstance(c, str)) if isinstance(codes, list) else (),
            summary=_str(obj, "summary", "moderation", optional=True),
        )


@dataclass(frozen=True, slots=True)
class SkillDetail:
    """`GET /api/v1/skills/{slug}`: the owner handle and the latest version."""

    slug: str
    display_name: str | None
    owner: str | None
    owner_user_id: str | None
    created_at: int | None
    updated_at: int | None
    latest_version: str | None
    latest_created_at: int | None
    tags: dict[str, str]
    moderation: Moderation | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, data: Any) -> SkillDetail:
        what = "skill detail"
        obj = as_object(data, what)
        skill = as_object(obj.get("skill"), f"{what}.skill")
        owner_obj = obj.get("owner")
        owner = user_id = None
        if owner_obj is not None:
            o = as_object(owner_obj, f"{what}.owner")
            owner = _str(o, "handle", f"{what}.owner", optional=True)
            uid = o.get("userId")
            user_id = str(uid) if uid is not None else None
        latest, latest_at = _version_of(obj.get("latestVersion"), f"{what}.latestVersion")
        return cls(
            slug=_req_str(skill, "slug", what),
            display_name=_str(skill, "displayName", what, optional=True),
            owner=owner.strip().lstrip("@").lower() if owner else None,
            owner_user_id=user_id,
            created_at=_int(skill, "createdAt", what),
            updated_at=_int(skill, "updatedAt", what),
            latest_version=latest,
            latest_created_at=latest_at,
            tags=_tags(skill.get("tags"), what),
            moderation=Moderation.parse(obj.get("moderation")),
            raw=obj,
        )


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """A `GET /api/v1/skills/{slug}/versions` item."""

    version: str
    created_at: int | None
    changelog: str | None

    @classmethod
    def parse(cls, data: Any) -> VersionInfo:
        what = "version list item"
        obj = as_object(data, what)
        return cls(
            version=_req_str(obj, "version", what),
            created_at=_int(obj, "createdAt", what),
            changelog=_str(obj, "changelog", what, optional=True),
        )


def _file(data: Any) -> FileDigest:
    what = "version file"
    obj = as_object(data, what)
    sha = _req_str(obj, "sha256", what).lower()
    if len(sha) != 64 or not set(sha) <= _HEX:
        raise RegistryProtocolError(f"{what}: sha256 of {obj.get('path')!r} is not 64 hex digits")
    size = _int(obj, "size", what, optional=False)
    assert size is not None
    if size < 0:
        raise RegistryProtocolError(f"{what}: negative size")
    return FileDigest(
        path=_req_str(obj, "path", what),
        size=size,
        sha256=sha,
        content_type=_str(obj, "contentType", what, optional=True),
    )


@dataclass(frozen=True, slots=True)
class VersionDetail:
    """`GET /api/v1/skills/{slug}/versions/{version}`: the published file hashes and security."""

    slug: str
    version: str
    created_at: int | None
    files: tuple[FileDigest, ...]
    security: Mapping[str, Any] | None
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def security_status(self) -> str | None:
        status = self.security.get("status") if self.security else None
        return status if isinstance(status, str) else None

    @property
    def sha256hash(self) -> str | None:
        value = self.security.get("sha256hash") if self.security else None
        return value if isinstance(value, str) else None

    @classmethod
    def parse(cls, data: Any) -> VersionDetail:
        what = "version detail"
        obj = as_object(data, what)
        skill = as_object(obj.get("skill"), f"{what}.skill")
        version = as_object(obj.get("version"), f"{what}.version")
        files = version.get("files")
        if not isinstance(files, list):
            raise RegistryProtocolError(f"{what}: 'files' must be a list")
        security = version.get("security")
        return cls(
            slug=_req_str(skill, "slug", what),
            version=_req_str(version, "version", what),
            created_at=_int(version, "createdAt", what),
            files=tuple(_file(f) for f in files),
            security=as_object(security, f"{what}.security") if security is not None else None,
            raw=obj,
        )


@dataclass(frozen=True, slots=True)
class ResolveResult:
    slug: str
    match: str | None
    latest_version: str | None

    @classmethod
    def parse(cls, data: Any) -> ResolveResult:
        what = "resolve"
        obj = as_object(data, what)
        match, _ = _version_of(obj.get("match"), f"{what}.match")
        latest, _ = _version_of(obj.get("latestVersion"), f"{what}.latestVersion")
        return cls(slug=_req_str(obj, "slug", what), match=match, latest_version=latest)


@dataclass(frozen=True, slots=True)
class SecurityVerdict:
    """One item of `clawhub.skill.security-verdicts.v1`; per-item errors never fail the call."""

    slug: str
    version: str | None
    ok: bool
    decision: str | None
    reasons: tuple[str, ...]
    status: str | None
    error_code: str | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, data: Any) -> SecurityVerdict:
        what = "security verdict"
        obj = as_object(data, what)
        security = obj.get("security")
        status = security.get("status") if isinstance(security, Mapping) else None
        error = obj.get("error")
        reasons = obj.get("reasons")
        return cls(
            slug=str(obj.get("slug") or obj.get("requestedSlug") or ""),
            version=_str(obj, "version", what, optional=True)
            or _str(obj, "requestedVersion", what, optional=True),
            ok=obj.get("ok") is True,
            decision=_str(obj, "decision", what, optional=True),
            reasons=tuple(r for r in reasons if isinstance(r, str)) if isinstance(reasons, list) else (),
            status=status if isinstance(status, str) else None,
            error_code=str(error.get("code")) if isinstance(error, Mapping) and error.get("code") else None,
            raw=obj,
        )
