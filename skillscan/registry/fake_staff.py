"""Token-only endpoints of the fake ClawHub: verdict posting (moderation) and the bulk export."""

from __future__ import annotations

import json
from typing import Any

from skillscan.registry import fake_views as views
from skillscan.registry.fake_http import Request, Response, decode_cursor, encode_cursor, json_response, text
from skillscan.registry.fake_store import FakeSkill, FakeStore
from skillscan.registry.zipbuild import build_zip

VERDICTS = frozenset({"clean", "suspicious", "malicious"})


class StaffApi:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _version_target(
        self, req: Request, slug: str, version: str
    ) -> tuple[FakeSkill | None, Response | None]:
        found = self.store.candidates(slug, req.owner())
        if not found:
            return None, text(404, "Skill not found")
        if len(found) > 1:
            return None, text(409, f'Ambiguous skill slug "{slug}". Retry with ownerHandle.')
        if version not in found[0].versions:
            return None, text(404, "Version not found")
        return found[0], None

    def post_moderation(self, req: Request, slug: str, version: str) -> Response:
        """Records the verdict a scanner posts (staff token). The skill's state is not changed:
        moderation decisions stay with the test (`/_admin/moderation`)."""
        if req.account is None:
            return text(401, "Unauthorized")
        if not req.account.is_staff:
            return text(403, "Moderator role required.")
        skill, error = self._version_target(req, slug, version)
        if error or skill is None:
            return error or text(404, "Skill not found")
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            return text(400, "Invalid JSON")
        if not isinstance(body, dict):
            return text(400, "Invalid JSON")
        if body.get("verdict") not in VERDICTS:
            return text(400, "Invalid verdict")
        entry = {"receivedAt": self.store.now_ms(), "by": req.account.handle, "body": body}
        count = self.store.record_post(skill, version, entry)
        return json_response(
            {"ok": True, "slug": skill.slug, "ownerHandle": skill.owner, "version": version, "count": count}
        )

    def get_moderation(self, req: Request, slug: str, version: str) -> Response:
        """Test hook: everything posted for this version, oldest first, and the latest body."""
        skill, error = self._version_target(req, slug, version)
        if error or skill is None:
            return error or text(404, "Skill not found")
        with self.store.lock:
            items = list(self.store.posts.get((skill.sid, version), []))
        return json_response(
            {
                "slug": skill.slug,
                "ownerHandle": skill.owner,
                "version": version,
                "items": items,
                "latest": items[-1]["body"] if items else None,
            }
        )

    def export(self, req: Request) -> Response:
        """`GET /api/v1/skills/export`: latest files of skills updated in [startDate, endDate]."""
        if req.account is None:
            return text(401, "Unauthorized")
        try:
            start, end = int(req.param("startDate") or ""), int(req.param("endDate") or "")
        except ValueError:
            return text(400, "Missing or invalid startDate/endDate")
        try:
            limit = max(1, min(250, int(req.param("limit") or 250)))
        except ValueError:
            limit = 250
        chosen = sorted(
            (s for s in self.store.listed_skills() if start <= s.updated_at <= end),
            key=lambda s: (s.updated_at, s.slug, s.owner),
        )
        if cursor := req.param("cursor"):
            parts = decode_cursor(cursor)
            if not parts or parts[0] != "export":
                return text(400, "Invalid cursor")
            after = tuple(parts[1])
            chosen = [s for s in chosen if (s.updated_at, s.slug, s.owner) > after]
        page, more = chosen[:limit], len(chosen) > limit
        entries, manifest, errors = self._export_entries(page)
        entries["_manifest.json"] = json.dumps(manifest, indent=2).encode()
        if errors:
            entries["_errors.json"] = json.dumps(errors, indent=2).encode()
        last = page[-1] if page else None
        next_cursor = (
            encode_cursor(["export", [last.updated_at, last.slug, last.owner]]) if more and last else ""
        )
        return Response(
            200,
            build_zip(entries),
            {
                "Content-Type": "application/zip",
                "X-Next-Cursor": next_cursor,
                "X-Has-More": "true" if more else "false",
                "X-Total-Returned": str(len(page)),
                "X-Date-Range": f"{start}-{end}",
                "X-Export-Errors": str(len(errors)),
            },
        )

    def _export_entries(
        self, skills: list[FakeSkill]
    ) -> tuple[dict[str, bytes], list[dict[str, Any]], list[dict[str, Any]]]:
        entries: dict[str, bytes] = {}
        manifest: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for s in skills:
            v = s.latest
            if v is None:
                continue
            block = views.download_block(s, v)
            if block:
                errors.append({"publisher": s.owner, "slug": s.slug, "error": block[1]})
                continue
            root = f"{s.owner}/{s.slug}/"
            for f in v.files:
                entries[root + f.path] = self.store.file_bytes(s, v, f)
            meta = {
                "slug": s.slug,
                "displayName": s.display_name,
                "sourceRef": "public-clawhub",
                "version": v.version,
                "createdAt": s.created_at,
                "updatedAt": s.updated_at,
                "stats": {"downloads": s.downloads, "stars": s.stars},
                "owner": {"handle": s.owner, "displayName": s.owner},
            }
            entries[root + "_export_skill_meta.json"] = json.dumps(meta, indent=2).encode()
            manifest.append(
                {
                    "publisher": s.owner,
                    "slug": s.slug,
                    "sourceRef": "public-clawhub",
                    "version": v.version,
                    "displayName": s.display_name,
                    "createdAt": s.created_at,
                    "updatedAt": s.updated_at,
                    "stats": meta["stats"],
                    "fileCount": len(v.files),
                }
            )
        return entries, manifest, errors
