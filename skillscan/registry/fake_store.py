"""State of the fake ClawHub: publishers' skills, versions, moderation, and test-hook overrides.

Thread-safe (one lock); file bytes stay on disk until a ZIP is built, and built ZIPs live in a
bounded LRU cache, so memory follows the number of versions, not their size.
"""

from __future__ import annotations

import mimetypes
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import semver

from skillscan.hashing import bundle_fingerprint, sha256_hex
from skillscan.registry.zipbuild import build_zip

SKILL_STATES = frozenset({"clean", "suspicious", "malicious", "pending", "removed", "hidden"})
VERSION_STATES = frozenset({"clean", "suspicious", "malicious", "pending", "revoked"})
_ZIP_CACHE_BYTES = 128 * 1024 * 1024


class FakeStoreError(Exception):
    """A test-hook request the fake cannot honour (unknown skill, duplicate version, …)."""


@dataclass(frozen=True, slots=True)
class FakeFile:
    path: str
    size: int
    sha256: str
    disk: Path | None = None
    data: bytes | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.disk is not None
        return self.disk.read_bytes()

    @property
    def content_type(self) -> str | None:
        if self.path.lower().endswith((".md", ".markdown")):
            return "text/markdown"
        return mimetypes.guess_type(self.path)[0]

    @classmethod
    def from_bytes(cls, path: str, data: bytes) -> FakeFile:
        return cls(path=path, size=len(data), sha256=sha256_hex(data), data=data)


@dataclass
class FakeVersion:
    version: str
    created_at: int
    files: tuple[FakeFile, ...]
    changelog: str = ""
    origin: str = ""
    soft_deleted: bool = False
    scan_verdict: str | None = None  # version-level ClawScan verdict set by moderation

    @cached_property
    def fingerprint(self) -> str:
        return bundle_fingerprint({f.path: f.sha256 for f in self.files})


@dataclass
class FakeSkill:
    sid: int
    owner: str
    slug: str
    display_name: str
    summary: str | None = None
    versions: dict[str, FakeVersion] = field(default_factory=dict)
    moderation: str = "clean"
    moderation_version: str | None = None  # which version a malicious/pending hold applies to
    github: dict[str, str] | None = None
    downloads: int = 0
    stars: int = 0
    metadata: dict[str, Any] | None = None

    def live_versions(self) -> list[FakeVersion]:
        return [v for v in self.versions.values() if not v.soft_deleted]

    @property
    def latest(self) -> FakeVersion | None:
        """Highest non-revoked semver that is not itself flagged malicious (ClawHub's `latest` tag)."""
        live = self.live_versions()
        good = [v for v in live if v.scan_verdict != "malicious"] or live
        return max(good, key=lambda v: semver_key(v.version), default=None)

    @property
    def created_at(self) -> int:
        return min((v.created_at for v in self.versions.values()), default=0)

    @property
    def updated_at(self) -> int:
        return max((v.created_at for v in self.versions.values()), default=0)

    @property
    def listed(self) -> bool:
        return self.moderation not in ("removed", "hidden") and self.latest is not None

    @property
    def user_id(self) -> str:
        return self.owner


def semver_key(version: str) -> tuple[int, Any, str]:
    try:
        return (1, semver.Version.parse(version.strip().lstrip("vV")), version)
    except ValueError:
        return (0, None, version)


@dataclass(frozen=True, slots=True)
class Account:
    handle: str
    role: str = "user"  # user | moderator | admin

    @property
    def is_staff(self) -> bool:
        return self.role in ("moderator", "admin")


class FakeStore:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.skills: dict[int, FakeSkill] = {}
        self.accounts: dict[str, Account] = {}
        self.tampered: dict[tuple[int, str, str], bytes] = {}
        self.posts: dict[tuple[int, str], list[dict[str, Any]]] = {}
        self.generation = 0
        self._next_sid = 1
        self._last_ts = 0
        self._zips: OrderedDict[tuple[int, str, bool], bytes] = OrderedDict()
        self._zip_bytes = 0
        self._zip_hashes: dict[tuple[int, str], str] = {}
        self._baseline: dict[int, FakeSkill] | None = None
        # Skill ids by lowercased slug: lookups are per request, a scan of every skill made a sweep
        # quadratic in the registry's size. Skills are only added (`add_version`) or all replaced
        # (`reset`), and a slug never changes.
        self._by_slug: dict[str, list[int]] = {}

    # -- building -------------------------------------------------------------------------------

    def add_version(
        self,
        owner: str,
        slug: str,
        version: FakeVersion,
        *,
        display_name: str | None = None,
        summary: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> FakeSkill:
        with self.lock:
            skill = self.find_exact(owner, slug)
            if skill is None:
                skill = FakeSkill(
                    self._next_sid, owner, slug, display_name or slug, summary, metadata=metadata
                )
                self.skills[skill.sid] = skill
                self._by_slug.setdefault(slug.lower(), []).append(skill.sid)
                self._next_sid += 1
            if version.version in skill.versions:
                raise FakeStoreError(
                    f"Version {version.version} already exists. Increment the version number and try again."
                )
            skill.versions[version.version] = version
            if display_name and skill.latest is version:
                skill.display_name, skill.summary = display_name, summary
                skill.metadata = metadata or skill.metadata
            self._last_ts = max(self._last_ts, version.created_at)
            self.generation += 1
            return skill

    def now_ms(self) -> int:
        """Strictly increasing and after every seeded timestamp, so pollers always see new work."""
        with self.lock:
            self._last_ts = max(int(time.time() * 1000), self._last_ts + 1)
            return self._last_ts

    def mark_baseline(self) -> None:
        with self.lock:
            self._baseline = self._copy_skills()

    def reset(self) -> None:
        with self.lock:
            if self._baseline is not None:
                self.skills = self._copy_skills(self._baseline)
                self._next_sid = max(self.skills, default=0) + 1
                self._by_slug = {}
                for skill in self.skills.values():
                    self._by_slug.setdefault(skill.slug.lower(), []).append(skill.sid)
            self.tampered.clear()
            self.posts.clear()
            self._zips.clear()
            self._zip_bytes = 0
            self._zip_hashes.clear()
            self.generation += 1

    def _copy_skills(self, source: Mapping[int, FakeSkill] | None = None) -> dict[int, FakeSkill]:
        src = self.skills if source is None else source
        return {
            sid: replace(s, versions={k: replace(v) for k, v in s.versions.items()}) for sid, s in src.items()
        }

    # -- lookup ---------------------------------------------------------------------------------

    def find_exact(self, owner: str, slug: str) -> FakeSkill | None:
        with self.lock:
            return next(
                (s for s in self._with_slug(slug.lower()) if s.owner == owner and s.slug == slug), None
            )

    def candidates(self, slug: str, owner: str | None) -> list[FakeSkill]:
        """Skills a lookup can mean: by owner if given, else the listed ones (hidden ones if none)."""
        slug = slug.strip().lower()
        with self.lock:
            same = self._with_slug(slug)
        if owner:
            return [s for s in same if s.owner == owner]
        listed = [s for s in same if s.moderation not in ("removed", "hidden")]
        return listed or same[:1]

    def _with_slug(self, lowered: str) -> list[FakeSkill]:
        """Skills whose lowercased slug is `lowered`, oldest first (call with the lock held)."""
        return [self.skills[sid] for sid in self._by_slug.get(lowered, ())]

    def listed_skills(self) -> list[FakeSkill]:
        with self.lock:
            return [s for s in self.skills.values() if s.listed]

    # -- moderation and test hooks --------------------------------------------------------------

    def set_skill_state(self, skill: FakeSkill, state: str, version: str | None = None) -> None:
        if state not in SKILL_STATES:
            raise FakeStoreError(f"unknown skill state {state!r} (one of {sorted(SKILL_STATES)})")
        with self.lock:
            latest = skill.latest
            skill.moderation = state
            skill.moderation_version = version or (latest.version if latest else None)
            self.generation += 1

    def set_version_state(self, skill: FakeSkill, version: str, state: str) -> None:
        if state not in VERSION_STATES:
            raise FakeStoreError(f"unknown version state {state!r} (one of {sorted(VERSION_STATES)})")
        with self.lock:
            v = skill.versions.get(version)
            if v is None:
                raise FakeStoreError(f"{skill.owner}/{skill.slug} has no version {version!r}")
            if state == "revoked":
                v.soft_deleted = True
            elif state == "pending":
                self.set_skill_state(skill, "pending", version)
            else:
                v.scan_verdict = state
            self.generation += 1

    def tamper(self, skill: FakeSkill, version: str, path: str, data: bytes | None) -> None:
        with self.lock:
            v = skill.versions.get(version)
            f = next((f for f in v.files if f.path == path), None) if v else None
            if v is None or f is None:
                raise FakeStoreError(f"{skill.owner}/{skill.slug}@{version} has no file {path!r}")
            self.tampered[(skill.sid, version, path)] = (
                data if data is not None else f.read() + b"\n# tampered\n"
            )
            self._evict(skill.sid, version)

    def record_post(self, skill: FakeSkill, version: str, entry: dict[str, Any]) -> int:
        with self.lock:
            items = self.posts.setdefault((skill.sid, version), [])
            items.append(entry)
            return len(items)

    # -- bytes ----------------------------------------------------------------------------------

    def file_bytes(self, skill: FakeSkill, version: FakeVersion, f: FakeFile) -> bytes:
        with self.lock:
            override = self.tampered.get((skill.sid, version.version, f.path))
        return override if override is not None else f.read()

    def zip_bytes(self, skill: FakeSkill, version: FakeVersion, *, served: bool = True) -> bytes:
        """The ZIP as served (tampered files included) or as recorded (`served=False`)."""
        with self.lock:
            tampered = served and any(k[0] == skill.sid and k[1] == version.version for k in self.tampered)
            key = (skill.sid, version.version, tampered)
            cached = self._zips.get(key)
            if cached is not None:
                self._zips.move_to_end(key)
                return cached
        entries = {
            f.path: (self.file_bytes(skill, version, f) if tampered else f.read()) for f in version.files
        }
        meta = {
            "ownerId": skill.user_id,
            "slug": skill.slug,
            "version": version.version,
            "publishedAt": version.created_at,
        }
        data = build_zip(entries, meta)
        with self.lock:
            if key not in self._zips:
                self._zips[key] = data
                self._zip_bytes += len(data)
            while self._zip_bytes > _ZIP_CACHE_BYTES and len(self._zips) > 1:
                _, old = self._zips.popitem(last=False)
                self._zip_bytes -= len(old)
            if not tampered:
                self._zip_hashes[(skill.sid, version.version)] = sha256_hex(data)
        return data

    def zip_sha256(self, skill: FakeSkill, version: FakeVersion) -> str:
        with self.lock:
            known = self._zip_hashes.get((skill.sid, version.version))
        return known or sha256_hex(self.zip_bytes(skill, version, served=False))

    def _evict(self, sid: int, version: str) -> None:
        for key in [k for k in self._zips if k[0] == sid and k[1] == version]:
            self._zip_bytes -= len(self._zips.pop(key))
