"""The public ClawHub v1 endpoints the fake serves (clawhub-api.md §1.5, §6)."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from itertools import takewhile
from typing import Any

from skillscan.registry import fake_views as views
from skillscan.registry.fake_http import (
    Request,
    Response,
    decode_cursor,
    encode_cursor,
    int_param,
    json_response,
    resolve_skill,
    text,
)
from skillscan.registry.fake_store import FakeSkill, FakeStore, FakeVersion, semver_key

_SORT_ALIASES = {
    "updated": "updated",
    "recommended": "updated",
    "default": "updated",
    "createdat": "createdAt",
    "created-at": "createdAt",
    "newest": "createdAt",
    "downloads": "downloads",
    "installs": "downloads",
    "install": "downloads",
    "installscurrent": "downloads",
    "installs-current": "downloads",
    "installsalltime": "downloads",
    "installs-all-time": "downloads",
    "stars": "stars",
    "rating": "stars",
    "name": "name",
    "trending": "trending",
}
_SORT_KEYS: dict[str, Callable[[FakeSkill], tuple[Any, ...]]] = {
    "updated": lambda s: (-s.updated_at, s.slug, s.owner),
    "createdAt": lambda s: (-s.created_at, s.slug, s.owner),
    "downloads": lambda s: (-s.downloads, s.slug, s.owner),
    "trending": lambda s: (-s.downloads, s.slug, s.owner),
    "stars": lambda s: (-s.stars, s.slug, s.owner),
    "name": lambda s: (s.slug, s.owner),
}
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_HASH = re.compile(r"^[a-f0-9]{64}$")


class PublicApi:
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self._sorted: dict[str, tuple[int, list[tuple[Any, ...]], list[FakeSkill]]] = {}

    # -- listing ---------------------------------------------------------------------------------

    def _sorted_listing(self, sort: str) -> tuple[list[tuple[Any, ...]], list[FakeSkill]]:
        gen = self.store.generation
        cached = self._sorted.get(sort)
        if cached and cached[0] == gen:
            return cached[1], cached[2]
        key = _SORT_KEYS[sort]
        ranked = sorted(((key(s), s) for s in self.store.listed_skills()), key=lambda p: p[0])
        keys, skills = [k for k, _ in ranked], [s for _, s in ranked]
        self._sorted[sort] = (gen, keys, skills)
        return keys, skills

    def list_skills(self, req: Request) -> Response:
        raw_sort = req.param("sort")
        sort = _SORT_ALIASES.get(raw_sort.lower()) if raw_sort else "updated"
        if sort is None:
            return text(400, "Invalid sort query parameter")
        prefix = req.param("prefix")
        if prefix is not None:
            if len(prefix) > 96 or not _PREFIX.match(prefix) or (raw_sort and sort != "name"):
                return text(400, "Invalid prefix query parameter")
            sort = "name"
        limit = int_param(req, "limit", 25, 1, 200)
        keys, skills = self._sorted_listing(sort)
        start = bisect_left(keys, (prefix,)) if prefix else 0
        cursor = req.param("cursor") if sort != "trending" else None
        if cursor:
            parts = decode_cursor(cursor)
            if not parts or parts[0] != sort or len(parts) != 2 or not isinstance(parts[1], list):
                return text(400, "Invalid cursor")
            start = bisect_right(keys, tuple(parts[1]))
        window = skills[start : start + limit]
        if prefix:  # name order keeps a prefix contiguous: stop at the first slug outside it
            window = list(takewhile(lambda s: s.slug.startswith(prefix), window))
        after = start + len(window)
        more = after < len(skills) and (not prefix or skills[after].slug.startswith(prefix))
        end_key = keys[after - 1] if window else None
        items = [
            s for s in window if not (_non_suspicious(req) and s.moderation in ("suspicious", "malicious"))
        ]
        next_cursor = (
            encode_cursor([sort, list(end_key)]) if more and end_key and sort != "trending" else None
        )
        return json_response({"items": [views.list_item(s) for s in items], "nextCursor": next_cursor})

    def search(self, req: Request) -> Response:
        query = (req.param("q") or "").lower()
        mode = req.param("mode")
        if mode is not None and mode not in ("exact",):
            return text(400, "Invalid search mode")
        if not query:
            return json_response({"results": []})
        limit = int_param(req, "limit", 10, 1, 100)
        scored = []
        for s in self.store.listed_skills():
            if _non_suspicious(req) and s.moderation in ("suspicious", "malicious"):
                continue
            score = _score(s, query, exact=mode == "exact")
            if score > 0:
                scored.append((score, s))
        scored.sort(key=lambda p: (-p[0], p[1].slug, p[1].owner))
        return json_response({"results": [views.search_result(s, sc) for sc, s in scored[:limit]]})

    # -- one skill -------------------------------------------------------------------------------

    def _skill(self, req: Request, slug: str) -> tuple[FakeSkill | None, Response | None]:
        example = f"/api/v1/skills/{slug}?ownerHandle=<owner>"
        found = resolve_skill(self.store, slug, req.owner(), example, as_json=True)
        if found.error or found.skill is None:
            return None, found.error
        block = views.skill_block(found.skill)
        return (None, text(*block)) if block else (found.skill, None)

    def _version(
        self, skill: FakeSkill, req: Request, name: str | None = None
    ) -> tuple[FakeVersion | None, Response | None]:
        wanted = name or req.param("version")
        tag = req.param("tag")
        if wanted:
            v = skill.versions.get(wanted)
        elif tag:
            v = skill.versions.get(views._tags(skill).get(tag, ""))
        else:
            v = skill.latest
        if v is None:
            return None, text(404, "Version not found")
        if v.soft_deleted:
            return None, text(410, "Version not available")
        return v, None

    def detail(self, req: Request, slug: str) -> Response:
        skill, error = self._skill(req, slug)
        return error or json_response(views.detail(skill))  # type: ignore[arg-type]

    def versions(self, req: Request, slug: str) -> Response:
        skill, error = self._skill(req, slug)
        if error or skill is None:
            return error or text(404, "Skill not found")
        # createdAt desc; equal timestamps (folders seeded in one millisecond) fall back to semver desc
        by_semver = sorted(skill.live_versions(), key=lambda v: semver_key(v.version))
        rank = {v.version: i for i, v in enumerate(by_semver)}
        ranked = sorted(by_semver, key=lambda v: (-v.created_at, -rank[v.version]))
        keys = [(-v.created_at, -rank[v.version], v.version) for v in ranked]
        start = 0
        if cursor := req.param("cursor"):
            parts = decode_cursor(cursor)
            if not parts or parts[0] != "versions" or not isinstance(parts[1], list):
                return text(400, "Invalid cursor")
            start = bisect_right(keys, tuple(parts[1]))
        limit = int_param(req, "limit", 20, 1, 50)
        window = ranked[start : start + limit]
        more = start + limit < len(ranked)
        nxt = encode_cursor(["versions", list(keys[start + len(window) - 1])]) if more and window else None
        return json_response({"items": [views.version_item(v) for v in window], "nextCursor": nxt})

    def version_detail(self, req: Request, slug: str, version: str) -> Response:
        skill, error = self._skill(req, slug)
        if error or skill is None:
            return error or text(404, "Skill not found")
        v, error = self._version(skill, req, version)
        return error or json_response(views.version_detail(self.store, skill, v))  # type: ignore[arg-type]

    def scan(self, req: Request, slug: str) -> Response:
        skill, error = self._skill(req, slug)
        if error or skill is None:
            return error or text(404, "Skill not found")
        v, error = self._version(skill, req)
        return error or json_response(views.scan(self.store, skill, v))  # type: ignore[arg-type]

    def moderation(self, req: Request, slug: str) -> Response:
        found = resolve_skill(self.store, slug, req.owner(), "", as_json=True)
        skill = found.skill
        staff = req.account is not None and req.account.is_staff
        mod = views.moderation(skill) if skill else None
        if skill is None or (mod is None and not staff) or (views.skill_block(skill) and not staff):
            return text(404, "Moderation details unavailable")
        body = dict(mod or views.moderation(skill) or {"verdict": "clean", "isSuspicious": False})
        body.update({"evidence": [], "legacyReason": skill.moderation if staff else None})
        return json_response({"moderation": body})

    def verify(self, req: Request, slug: str) -> Response:
        if req.param("version") and req.param("tag"):
            return text(400, "Specify version or tag, not both")
        skill, error = self._skill(req, slug)
        if error or skill is None:
            return error or text(404, "Skill not found")
        v, error = self._version(skill, req)
        if error or v is None:
            return error or text(404, "Version not found")
        resolved = "version" if req.param("version") else "tag" if req.param("tag") else "latest"
        return json_response(views.verify(self.store, skill, v, resolved, req.param("tag")))

    def file(self, req: Request, slug: str) -> Response:
        path = req.param("path")
        if not path:
            return text(400, "Missing path")
        skill, error = self._skill(req, slug)
        if error or skill is None:
            return error or text(404, "Skill not found")
        v, error = self._version(skill, req)
        if error or v is None:
            return error or text(404, "Version not found")
        block = views.download_block(skill, v)
        if block:
            return text(*block)
        f = next((f for f in v.files if f.path == path), None) or next(
            (f for f in v.files if f.path.lower() == path.lower()), None
        )
        if f is None:
            return text(404, "File not found")
        if f.size > 10 * 1024 * 1024:
            return text(413, "File exceeds 10MB limit")
        data = self.store.file_bytes(skill, v, f)
        return Response(
            200,
            data,
            {
                "Content-Type": f.content_type or "application/octet-stream",
                "X-Content-SHA256": f.sha256,
                "X-Content-Size": str(f.size),
                "ETag": f.sha256,
                "Cache-Control": "private, max-age=60",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def install(self, req: Request, slug: str) -> Response:
        skill, error = self._skill(req, slug)
        if error or skill is None:
            return error or text(404, "Skill not found")
        v = skill.latest
        if v is None:
            return json_response({"ok": False, "slug": skill.slug, "reason": "archive_version_missing",
                                  "message": "Version not found", "status": 404})  # fmt: skip
        block = views.download_block(skill, v)
        if block:
            return json_response({"ok": False, "slug": skill.slug, "reason": "blocked",
                                  "message": block[1], "status": block[0]})  # fmt: skip
        if skill.github:
            handoff = views.github_handoff(skill)
            github = {k: handoff[k] for k in ("repo", "path", "commit", "contentHash")}
            github["sourceUrl"] = f"https://github.com/{handoff['repo']}"
            return json_response({"ok": True, "slug": skill.slug, "installKind": "github", "github": github})
        url = f"/api/v1/download?slug={skill.slug}&version={v.version}&ownerHandle={skill.owner}"
        return json_response(
            {
                "ok": True,
                "slug": skill.slug,
                "installKind": "archive",
                "archive": {"version": v.version, "downloadUrl": url},
            }
        )

    # -- artifacts -------------------------------------------------------------------------------

    def download(self, req: Request) -> Response:
        slug = (req.param("slug") or "").lower()
        if not slug:
            return text(400, "Missing slug")
        example = f"/api/v1/download?slug={slug}&ownerHandle=<owner>"
        found = resolve_skill(self.store, slug, req.owner(), example, as_json=False)
        if found.error or found.skill is None:
            return found.error or text(404, "Skill not found")
        skill = found.skill
        block = views.skill_block(skill)
        if block:
            return text(*block)
        v, error = self._version(skill, req)
        if error or v is None:
            return error or text(404, "Version not found")
        block = views.download_block(skill, v)
        if block:
            return text(*block)
        with self.store.lock:
            skill.downloads += 1
        if skill.github:
            return json_response(views.github_handoff(skill))
        data = self.store.zip_bytes(skill, v)
        return Response(
            200,
            data,
            {
                "Content-Type": "application/zip",
                "Content-Disposition": f'attachment; filename="{skill.slug}-{v.version}.zip"',
                "Cache-Control": "private, max-age=60",
            },
        )

    def resolve(self, req: Request) -> Response:
        slug, digest = (req.param("slug") or "").lower(), (req.param("hash") or "").lower()
        if not slug or not digest:
            return text(400, "Missing slug or hash")
        if not _HASH.match(digest):
            return text(400, "Invalid hash")
        found = resolve_skill(self.store, slug, req.owner(), f"/api/v1/resolve?slug={slug}&ownerHandle=<owner>",
                              as_json=True)  # fmt: skip
        if found.error or found.skill is None:
            return found.error or text(404, "Skill not found")
        skill = found.skill
        match = next((v for v in skill.live_versions() if v.fingerprint == digest), None)
        latest = skill.latest
        return json_response(
            {
                "slug": slug,
                "match": {"version": match.version} if match else None,
                "latestVersion": {"version": latest.version} if latest else None,
            }
        )

    def security_verdicts(self, req: Request) -> Response:
        try:
            payload = req.json()
        except (ValueError, UnicodeDecodeError):
            return text(400, "Invalid JSON")
        items = payload.get("items") if isinstance(payload, dict) else None
        if (
            not isinstance(items, list)
            or not 1 <= len(items) <= 100
            or not all(isinstance(i, dict) for i in items)
        ):
            return text(400, "items must contain 1-100 entries")
        keys = [(i.get("slug"), i.get("ownerHandle"), i.get("version")) for i in items]
        if len(set(map(str, keys))) != len(keys):
            return text(400, "items must be unique")
        out = []
        for item in items:
            slug, owner = str(item.get("slug") or "").lower(), item.get("ownerHandle")
            found = self.store.candidates(slug, str(owner).lstrip("@").lower() if owner else None)
            if not found:
                out.append(views.verdict_error(item, "skill_not_found", "Skill not found"))
            elif len(found) > 1:
                out.append(views.verdict_error(item, "ambiguous_skill_slug", "Specify ownerHandle"))
            else:
                v = found[0].versions.get(str(item.get("version") or ""))
                if v is None or v.soft_deleted:
                    out.append(views.verdict_error(item, "version_not_found", "Version not found"))
                else:
                    out.append(views.verdict_item(self.store, found[0], v, item))
        return json_response({"schema": "clawhub.skill.security-verdicts.v1", "items": out})

    def whoami(self, req: Request) -> Response:
        if req.account is None:
            return text(401, "Unauthorized")
        handle = req.account.handle
        return json_response({"user": {"handle": handle, "displayName": handle, "image": None}})


def _non_suspicious(req: Request) -> bool:
    raw = req.param("nonSuspiciousOnly") or req.param("nonSuspicious") or ""
    return raw.lower() in ("1", "true", "yes")


def _score(skill: FakeSkill, query: str, *, exact: bool) -> float:
    slug, name, summary = skill.slug.lower(), skill.display_name.lower(), (skill.summary or "").lower()
    if exact:
        return 1.0 if query in (slug, name) else 0.0
    score = 0.0
    for word in query.split():
        score += 3.0 if word == slug else 2.0 if word in slug else 0.0
        score += 1.0 if word in name else 0.0
        score += 0.5 if word in summary else 0.0
    return score
