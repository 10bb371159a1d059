"""Test hooks of the fake ClawHub, callable in-process or over HTTP under `/_admin/`.

| method + path | body | effect |
|---|---|---|
| `POST /_admin/faults` | `{kind, count, status, retry_after, delay_s, path, method, body}` | queue failures |
| `DELETE /_admin/faults` | | drop queued failures |
| `POST /_admin/tamper` | `{slug, owner?, version?, path, text? \\| data_b64?}` | serve altered bytes |
| `POST /_admin/publish` | `{slug, version, owner?, files: {path: text}, files_b64?, displayName?, summary?, createdAt?}` | new version now |
| `POST /_admin/moderation` | `{"<[owner/]slug[@version]>": state}` | set moderation |
| `POST /_admin/rate-limit` | `{read?, write?, download?, export?, window_s?}` (`{}` = off) | rate limits |
| `POST /_admin/tokens` | `{"<token>": {handle, role}}` | accept bearer tokens |
| `GET /_admin/requests` | `?clear=1` | requests seen (method, path, query, status) |
| `GET /_admin/state` | | counts |
| `POST /_admin/reset` | | back to the seeded state and starting rate limits, hooks cleared |
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from skillscan.registry.fake_faults import Fault, FaultQueue, RateLimiter, RateLimits
from skillscan.registry.fake_http import Request, Response, json_response, text
from skillscan.registry.fake_seed import DEFAULT_OWNER, apply_moderation
from skillscan.registry.fake_store import Account, FakeFile, FakeSkill, FakeStore, FakeStoreError, FakeVersion


class Admin:
    def __init__(self, store: FakeStore, faults: FaultQueue, limiter: RateLimiter) -> None:
        self.store = store
        self.faults = faults
        self.limiter = limiter
        self._initial_limits = limiter.limits  # what `reset()` returns to
        self.log: deque[dict[str, Any]] = deque(maxlen=20_000)
        self._log_lock = threading.Lock()

    # -- in-process API -------------------------------------------------------------------------

    def inject(self, kind: str = "error", **options: Any) -> None:
        self.faults.add(Fault.parse({"kind": kind, **options}))

    def tamper(
        self,
        slug: str,
        path: str,
        data: bytes | None = None,
        *,
        owner: str | None = None,
        version: str | None = None,
    ) -> None:
        skill = self._one(slug, owner)
        target = version or (skill.latest.version if skill.latest else "")
        self.store.tamper(skill, target, path, data)

    def publish(
        self,
        slug: str,
        version: str,
        files: Mapping[str, bytes | str],
        *,
        owner: str | None = None,
        display_name: str | None = None,
        summary: str | None = None,
        created_at: int | None = None,
        changelog: str = "",
    ) -> FakeSkill:
        blobs = tuple(
            FakeFile.from_bytes(p, d.encode("utf-8") if isinstance(d, str) else d)
            for p, d in sorted(files.items())
        )
        stamp = created_at if created_at is not None else self.store.now_ms()
        v = FakeVersion(version, stamp, blobs, changelog=changelog, origin="runtime")
        return self.store.add_version(
            (owner or DEFAULT_OWNER).lstrip("@").lower(),
            slug.lower(),
            v,
            display_name=display_name,
            summary=summary,
        )

    def set_moderation(self, config: Mapping[str, Any]) -> list[str]:
        return apply_moderation(self.store, config)

    def set_rate_limits(self, limits: RateLimits) -> None:
        self.limiter.configure(limits)

    def add_token(self, token: str, handle: str, role: str = "user") -> None:
        with self.store.lock:
            self.store.accounts[token] = Account(handle.lower(), role)

    def requests(self, clear: bool = False) -> list[dict[str, Any]]:
        with self._log_lock:
            items = list(self.log)
            if clear:
                self.log.clear()
        return items

    def record(self, req: Request, status: int) -> None:
        with self._log_lock:
            self.log.append(
                {"method": req.method, "path": req.path, "query": dict(req.query), "status": status}
            )

    def reset(self) -> None:
        self.faults.clear()
        self.limiter.configure(self._initial_limits)
        self.store.reset()
        self.requests(clear=True)

    def state(self) -> dict[str, Any]:
        with self.store.lock:
            skills = list(self.store.skills.values())
            tampered = len(self.store.tampered)
            posts = sum(len(v) for v in self.store.posts.values())
        return {
            "skills": len(skills),
            "versions": sum(len(s.versions) for s in skills),
            "faults_pending": self.faults.pending(),
            "tampered_files": tampered,
            "moderation_posts": posts,
            "rate_limits": self.limiter.limits.__dict__,
        }

    def _one(self, slug: str, owner: str | None) -> FakeSkill:
        found = self.store.candidates(slug, owner.lstrip("@").lower() if owner else None)
        if len(found) != 1:
            raise FakeStoreError(f"{slug!r}: {'ambiguous, give owner' if found else 'no such skill'}")
        return found[0]

    # -- HTTP -----------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        action = req.segments[1] if len(req.segments) > 1 else ""
        try:
            body = req.json() if req.body else {}
        except (ValueError, UnicodeDecodeError):
            return text(400, "Invalid JSON")
        try:
            return self._dispatch(req.method, action, body, req)
        except (FakeStoreError, ValueError, TypeError, KeyError, binascii.Error) as e:
            return text(400, f"{type(e).__name__}: {e}")

    def _dispatch(self, method: str, action: str, body: Any, req: Request) -> Response:
        if method == "GET" and action == "state":
            return json_response(self.state())
        if action == "requests" and method in ("GET", "DELETE"):
            clear = method == "DELETE" or req.param("clear") in ("1", "true")
            return json_response({"items": self.requests(clear=clear)})
        if method == "POST" and action == "reset":
            self.reset()
            return json_response({"ok": True})
        if action == "faults" and method == "DELETE":
            self.faults.clear()
            return json_response({"ok": True})
        if method != "POST":
            return text(404, "Not found")
        if action == "faults":
            for item in body if isinstance(body, list) else [body]:
                self.faults.add(Fault.parse(item))
            return json_response({"ok": True, "pending": self.faults.pending()})
        if action == "tamper":
            raw = base64.b64decode(body["data_b64"]) if "data_b64" in body else None
            data = body["text"].encode("utf-8") if "text" in body else raw
            self.tamper(
                body["slug"], body["path"], data, owner=body.get("owner"), version=body.get("version")
            )
            return json_response({"ok": True})
        if action == "publish":
            files: dict[str, bytes | str] = dict(body.get("files") or {})
            files.update({p: base64.b64decode(d) for p, d in (body.get("files_b64") or {}).items()})
            skill = self.publish(
                body["slug"],
                body["version"],
                files,
                owner=body.get("owner"),
                display_name=body.get("displayName"),
                summary=body.get("summary"),
                created_at=body.get("createdAt"),
                changelog=body.get("changelog", ""),
            )
            v = skill.versions[body["version"]]
            return json_response(
                {
                    "ok": True,
                    "owner": skill.owner,
                    "slug": skill.slug,
                    "version": v.version,
                    "createdAt": v.created_at,
                }
            )
        if action == "moderation":
            return json_response({"ok": True, "warnings": self.set_moderation(body)})
        if action == "rate-limit":
            self.set_rate_limits(RateLimits.parse(body))
            return json_response({"ok": True})
        if action == "tokens":
            for token, acct in body.items():
                self.add_token(token, acct.get("handle", "user"), acct.get("role", "user"))
            return json_response({"ok": True})
        return text(404, "Not found")
