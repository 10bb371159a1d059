"""HTTP plumbing of the fake ClawHub: request/response records and ClawHub's answer helpers."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from skillscan.registry.fake_store import Account, FakeSkill, FakeStore

MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    segments: list[str]
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes = b""
    client: str = "127.0.0.1"
    account: Account | None = None

    def param(self, name: str) -> str | None:
        value = self.query.get(name)
        value = value.strip() if value is not None else None
        return value or None

    def owner(self) -> str | None:
        raw = self.param("ownerHandle") or self.param("owner")
        return raw.lstrip("@").strip().lower() or None if raw else None

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def text(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        status,
        message.encode("utf-8"),
        {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", **(headers or {})},
    )


def json_response(value: Any, status: int = 200) -> Response:
    body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return Response(status, body, {"Content-Type": "application/json", "Cache-Control": "no-store"})


def bearer(headers: Mapping[str, str]) -> str | None:
    raw = (headers.get("Authorization") or "").strip()
    if not raw.lower().startswith("bearer "):
        return None
    return raw[7:].strip() or None


def int_param(req: Request, name: str, default: int, low: int, high: int) -> int:
    raw = req.param(name)
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        value = default
    return max(low, min(high, value))


def encode_cursor(parts: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> list[Any] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, list) else None


@dataclass(frozen=True)
class Resolved:
    skill: FakeSkill | None = None
    error: Response | None = None


def resolve_skill(store: FakeStore, slug: str, owner: str | None, example: str, *, as_json: bool) -> Resolved:
    """Owner-qualified lookup: 404, 409 (JSON with matches, or ClawHub's plain-text variant)."""
    found = store.candidates(slug, owner)
    if not found:
        return Resolved(error=text(404, "Skill not found"))
    if len(found) > 1:
        return Resolved(error=ambiguous(slug.lower(), found, example, as_json=as_json))
    return Resolved(skill=found[0])


def ambiguous(slug: str, skills: list[FakeSkill], example: str, *, as_json: bool) -> Response:
    if not as_json:
        return text(
            409,
            f'Ambiguous skill slug "{slug}". Multiple publishers use this slug. '
            f"Retry with ownerHandle, for example: {example}.",
        )
    matches = [
        {
            "ownerHandle": s.owner,
            "slug": s.slug,
            "ref": f"{s.owner}/{s.slug}",
            "url": f"https://clawhub.ai/{s.owner}/skills/{s.slug}",
        }
        for s in sorted(skills, key=lambda s: s.owner)
    ]
    body = {
        "code": "AMBIGUOUS_SKILL_SLUG",
        "message": f'Found multiple skills with the slug "{slug}"; specify which one you want to install:',
        "slug": slug,
        "matches": matches,
    }
    return json_response(body, 409)
