"""Incremental discovery of new versions (clawhub-api.md §1.8): there is no change feed.

Both `sort=updated` and `sort=createdAt` are paged down to a stored high-water mark; every slug
seen above the mark gets a detail call (the list carries no owner; a 409 lists the publishers)
and a versions call, newest first, down to the mark. A version is new when its `createdAt` is
later than the mark, or equal to it and its key is not among the keys the mark remembers at that
millisecond. With no mark, everything listed is yielded (backfill).

The caller persists `HighWaterMark.to_dict()` only after it has handled every yielded version, so
an interrupted run is simply repeated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from skillscan.registry.clawhub import ClawHubClient
from skillscan.registry.errors import AmbiguousSlugError, RegistryHTTPError
from skillscan.registry.outcomes import VersionRef


@dataclass(frozen=True, slots=True)
class HighWaterMark:
    """Registry timestamps (ms) already handled, plus the version keys seen at `version_at`."""

    updated_at: int = 0
    created_at: int = 0
    version_at: int = 0
    seen: frozenset[str] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        return {
            "updated_at": self.updated_at,
            "created_at": self.created_at,
            "version_at": self.version_at,
            "seen": sorted(self.seen),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> HighWaterMark | None:
        if not data:
            return None
        return cls(
            updated_at=int(data.get("updated_at", 0)),
            created_at=int(data.get("created_at", 0)),
            version_at=int(data.get("version_at", 0)),
            seen=frozenset(str(k) for k in data.get("seen", ())),
        )


@dataclass(frozen=True, slots=True)
class DiscoveredVersion:
    owner: str | None
    slug: str
    version: str
    created_at: int | None

    @property
    def ref(self) -> VersionRef:
        return VersionRef(self.owner, self.slug, self.version)

    @property
    def key(self) -> str:
        return f"{self.owner or ''}/{self.slug}@{self.version}"


@dataclass(frozen=True, slots=True)
class DiscoveryProblem:
    """A listed skill whose detail or versions could not be read (e.g. removed meanwhile)."""

    slug: str
    owner: str | None
    status: int | None
    message: str


@dataclass
class IncrementalDiscovery:
    """Iterate once; then `next_mark()` is the mark to persist and `problems` what was not read."""

    client: ClawHubClient
    mark: HighWaterMark | None = None
    page_size: int = 200
    problems: list[DiscoveryProblem] = field(default_factory=list)
    _max_updated: int = 0
    _max_created: int = 0
    _max_version: int = 0
    _seen_at_max: set[str] = field(default_factory=set)
    _done: bool = False

    def __iter__(self) -> Iterator[DiscoveredVersion]:
        mark = self.mark
        self._max_updated = mark.updated_at if mark else 0
        self._max_created = mark.created_at if mark else 0
        self._max_version = mark.version_at if mark else 0
        self._seen_at_max = set(mark.seen) if mark else set()
        yielded: set[str] = set()
        for slug in self._changed_slugs():
            for owner in self._owners(slug):
                for found in self._new_versions(slug, owner):
                    if found.key not in yielded:
                        yielded.add(found.key)
                        self._note_version(found)
                        yield found
        self._done = True

    def next_mark(self) -> HighWaterMark:
        if not self._done:
            raise RuntimeError("iterate the discovery to the end before taking its mark")
        return HighWaterMark(
            updated_at=self._max_updated,
            created_at=self._max_created,
            version_at=self._max_version,
            seen=frozenset(self._seen_at_max),
        )

    def _changed_slugs(self) -> Iterator[str]:
        """Slugs listed at or above the mark, from both sort orders, each once, in listing order."""
        mark = self.mark
        sorts = (
            (("createdAt", "created_at"),)
            if mark is None
            else (("updated", "updated_at"), ("createdAt", "created_at"))
        )
        emitted: set[str] = set()
        for sort, attr in sorts:
            floor = getattr(mark, attr) if mark else 0
            for item in self.client.iter_skills(sort=sort, limit=self.page_size):
                stamp = item.updated_at if attr == "updated_at" else item.created_at
                if stamp is not None:
                    self._note_list(attr, stamp)
                    if mark is not None and stamp < floor:
                        break  # sorted descending: everything below is older than the mark
                if item.slug not in emitted:
                    emitted.add(item.slug)
                    yield item.slug

    def _owners(self, slug: str) -> list[str | None]:
        try:
            return [self.client.skill(slug).owner]
        except AmbiguousSlugError as e:
            return [m.owner for m in e.matches] or [None]
        except RegistryHTTPError as e:
            self.problems.append(DiscoveryProblem(slug, None, e.status, e.message))
            return []

    def _new_versions(self, slug: str, owner: str | None) -> Iterator[DiscoveredVersion]:
        mark = self.mark
        try:
            for info in self.client.iter_versions(slug, owner=owner):
                found = DiscoveredVersion(owner, slug, info.version, info.created_at)
                if mark is None or info.created_at is None:
                    yield found
                    continue
                if info.created_at < mark.version_at:
                    return  # newest first: the rest is older than the mark
                if info.created_at > mark.version_at or found.key not in mark.seen:
                    yield found
        except RegistryHTTPError as e:
            self.problems.append(DiscoveryProblem(slug, owner, e.status, e.message))

    def _note_list(self, attr: str, stamp: int) -> None:
        if attr == "updated_at":
            self._max_updated = max(self._max_updated, stamp)
        else:
            self._max_created = max(self._max_created, stamp)

    def _note_version(self, found: DiscoveredVersion) -> None:
        stamp = found.created_at
        if stamp is None or stamp < self._max_version:
            return
        if stamp > self._max_version:
            self._max_version = stamp
            self._seen_at_max = set()
        self._seen_at_max.add(found.key)
