"""The verdict store: every scan of every version, with history, looked up by key or fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, Row, bindparam, func, select, update

from skillscan.models import Decision, ScanReport, Verdict
from skillscan.store import migrations, schema
from skillscan.store.bookkeeping import Bookkeeping
from skillscan.store.engine import lock_for_migration, make_engine, read_tx, retry_busy, write_tx
from skillscan.store.sql import aware, insert_returning
from skillscan.store.sweeps import Sweeps

_scans = schema.table_of(schema.ScanRow)
_skills = schema.table_of(schema.SkillRow)
_versions = schema.table_of(schema.VersionRow)

# The statements of storing a scan, built once: one used again is compiled once, where building
# them for every scan of a batch cost more CPU than running them.
_SCAN_BY_KEY = select(_scans.c.id, _scans.c.verdict).where(_scans.c.scan_key == bindparam("key"))
_INSERT_SCAN = _scans.insert().returning(_scans.c.id)
_VERSION_ID = (
    select(_versions.c.id)
    .join(_skills, _skills.c.id == _versions.c.skill_id)
    .where(
        _skills.c.owner == bindparam("owner"),
        _skills.c.slug == bindparam("slug"),
        _versions.c.version == bindparam("version"),
    )
)
_LATEST_OF_VERSION = (
    select(_scans.c.verdict)
    .where(
        _scans.c.owner == bindparam("owner"),
        _scans.c.slug == bindparam("slug"),
        _scans.c.version == bindparam("version"),
    )
    .order_by(_scans.c.id.desc())
    .limit(1)
)
_LATEST_OF_BUNDLE = (
    select(_scans.c.verdict)
    .where(_scans.c.fingerprint == bindparam("fingerprint"))
    .order_by(_scans.c.id.desc())
    .limit(1)
)


def scan_key(owner: str, slug: str, version: str, fingerprint: str, ruleset: str) -> str:
    """The idempotency key of a scan: the same bundle of the same version under the same ruleset."""
    return hashlib.sha256(json.dumps([owner, slug, version, fingerprint, ruleset]).encode()).hexdigest()


@dataclass(frozen=True)
class StoredScan:
    id: int
    owner: str
    slug: str
    version: str
    fingerprint: str
    verdict: Verdict
    decision: Decision
    ruleset: str
    scanned_at: datetime
    reason: str
    tool_version: str
    source: str
    report_data: dict[str, Any]

    @cached_property
    def report(self) -> ScanReport:
        return ScanReport.from_dict(self.report_data)

    @property
    def ref(self) -> str:
        who = f"{self.owner}/" if self.owner else ""
        return f"{who}{self.slug}@{self.version}" if self.slug else self.fingerprint[:12]


@dataclass(frozen=True)
class ToRecord:
    """One scan for `record_many`; owner/slug/version default to the report's identity."""

    report: ScanReport
    owner: str | None = None
    slug: str | None = None
    version: str | None = None
    source: str = ""
    dedupe: bool = True


@dataclass(frozen=True)
class Recorded:
    scan_id: int
    created: bool  # False when the same scan (same key) was already stored
    previous_verdict: Verdict | None  # the version's latest verdict before this scan


class VerdictStore(Bookkeeping, Sweeps):
    """SQLite file by default, PostgreSQL by URL. Opening applies pending migrations."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self._engine: Engine = make_engine(url)
        if migrate:
            retry_busy(self.migrate)

    def migrate(self) -> list[int]:
        with write_tx(self._engine) as conn:
            lock_for_migration(conn)
            return migrations.apply_pending(conn)

    def schema_version(self) -> int:
        with read_tx(self._engine) as conn:
            return migrations.current_version(conn)

    def close(self) -> None:
        self._engine.dispose()

    @property
    def engine(self) -> Engine:
        return self._engine

    # -- writing -------------------------------------------------------------------------------

    def record_scan(
        self,
        report: ScanReport,
        *,
        owner: str | None = None,
        slug: str | None = None,
        version: str | None = None,
        source: str = "",
        dedupe: bool = True,
    ) -> int:
        """Store a scan and return its id; a repeat of an already stored scan returns the stored id."""
        return self.record(
            report, owner=owner, slug=slug, version=version, source=source, dedupe=dedupe
        ).scan_id

    def record(
        self,
        report: ScanReport,
        *,
        owner: str | None = None,
        slug: str | None = None,
        version: str | None = None,
        source: str = "",
        dedupe: bool = True,
    ) -> Recorded:
        item = ToRecord(report, owner=owner, slug=slug, version=version, source=source, dedupe=dedupe)
        return self.record_many([item])[0]

    def record_many(self, items: Sequence[ToRecord]) -> list[Recorded]:
        """Store several scans in one transaction (a worker's batch), each as `record` would."""
        if not items:
            return []
        with write_tx(self._engine) as conn:
            return [self._record_in(conn, item) for item in items]

    def _record_in(self, conn: Any, item: ToRecord) -> Recorded:
        report = item.report
        owner = item.owner if item.owner is not None else (report.skill.owner or "")
        slug = item.slug if item.slug is not None else (report.skill.slug or "")
        version = item.version if item.version is not None else (report.skill.version or "")
        fingerprint = report.skill.fingerprint or ""
        key = scan_key(owner, slug, version, fingerprint, report.ruleset_digest) if item.dedupe else None
        if key is not None:
            existing = conn.execute(_SCAN_BY_KEY, {"key": key}).first()
            if existing is not None:
                if not _completes(existing.verdict, report.verdict):
                    return Recorded(existing.id, False, None)
                # An incomplete analysis (a timeout, a crashed engine) is superseded by a complete one
                # of the same bundle and ruleset: the old row stays as history, the key moves.
                conn.execute(update(_scans).where(_scans.c.id == existing.id).values(scan_key=None))
        version_id = self._ensure_version(conn, owner, slug, version) if slug else None
        previous = self._latest_verdict(conn, owner, slug, version, fingerprint)
        values = {
            "version_id": version_id,
            "owner": owner,
            "slug": slug,
            "version": version,
            "fingerprint": fingerprint,
            "ruleset": report.ruleset_digest,
            "tool_version": report.tool_version,
            "verdict": str(report.verdict),
            "decision": str(report.decision),
            "reason": report.reason,
            "findings": [f.to_dict() for f in report.findings],
            "errors": [e.to_dict() for e in report.errors],
            "timings": dict(report.timings),
            "report": report.to_dict(),
            "source": item.source,
            "scanned_at": schema.utcnow(),
            "scan_key": key,
        }
        if key is None:
            scan_id = conn.execute(_INSERT_SCAN, values).scalar_one()
            return Recorded(int(scan_id), True, previous)
        # Two workers finishing the same scan at once (a redelivered task): exactly one row wins.
        new_id = insert_returning(conn, _scans, values, ["scan_key"], "id")
        if new_id is not None:
            return Recorded(int(new_id), True, previous)
        scan_id = conn.execute(_SCAN_BY_KEY, {"key": key}).one().id
        return Recorded(int(scan_id), False, None)

    def _ensure_version(self, conn: Any, owner: str, slug: str, version: str) -> int:
        known = conn.execute(_VERSION_ID, {"owner": owner, "slug": slug, "version": version}).scalar()
        if known is not None:
            return int(known)
        skill_id = insert_returning(
            conn,
            _skills,
            {"owner": owner, "slug": slug, "first_seen": schema.utcnow()},
            ["owner", "slug"],
            "id",
        )
        if skill_id is None:
            skill_id = conn.execute(
                select(_skills.c.id).where(_skills.c.owner == owner, _skills.c.slug == slug)
            ).scalar_one()
        version_id = insert_returning(
            conn,
            _versions,
            {"skill_id": skill_id, "version": version, "first_seen": schema.utcnow()},
            ["skill_id", "version"],
            "id",
        )
        if version_id is None:
            version_id = conn.execute(
                select(_versions.c.id).where(_versions.c.skill_id == skill_id, _versions.c.version == version)
            ).scalar_one()
        return int(version_id)

    def _latest_verdict(
        self, conn: Any, owner: str, slug: str, version: str, fingerprint: str
    ) -> Verdict | None:
        if slug:
            value = conn.execute(
                _LATEST_OF_VERSION, {"owner": owner, "slug": slug, "version": version}
            ).scalar()
        elif fingerprint:
            value = conn.execute(_LATEST_OF_BUNDLE, {"fingerprint": fingerprint}).scalar()
        else:
            return None
        return Verdict(value) if value else None

    # -- reading -------------------------------------------------------------------------------

    def get_scan(self, scan_id: int) -> StoredScan | None:
        return self._one(select(_scans).where(_scans.c.id == scan_id))

    def latest_by_fingerprint(self, fingerprint: str, ruleset: str | None = None) -> StoredScan | None:
        stmt = select(_scans).where(_scans.c.fingerprint == fingerprint)
        if ruleset is not None:
            stmt = stmt.where(_scans.c.ruleset == ruleset)
        return self._one(stmt.order_by(_scans.c.id.desc()).limit(1))

    def latest_for_version(
        self, owner: str, slug: str, version: str, ruleset: str | None = None
    ) -> StoredScan | None:
        stmt = select(_scans).where(
            _scans.c.owner == owner, _scans.c.slug == slug, _scans.c.version == version
        )
        if ruleset is not None:
            stmt = stmt.where(_scans.c.ruleset == ruleset)
        return self._one(stmt.order_by(_scans.c.id.desc()).limit(1))

    def history(self, owner: str, slug: str) -> list[StoredScan]:
        """Every scan of every version of one skill, newest first."""
        stmt = (
            select(_scans).where(_scans.c.owner == owner, _scans.c.slug == slug).order_by(_scans.c.id.desc())
        )
        return self._many(stmt)

    def recent(
        self, limit: int = 100, verdict: Verdict | str | None = None, since: datetime | None = None
    ) -> list[StoredScan]:
        stmt = select(_scans)
        if verdict is not None:
            stmt = stmt.where(_scans.c.verdict == str(verdict))
        if since is not None:
            stmt = stmt.where(_scans.c.scanned_at >= since)
        return self._many(stmt.order_by(_scans.c.id.desc()).limit(limit))

    def latest_per_version(
        self, *, since: datetime | None = None, verdict: Verdict | str | None = None
    ) -> Iterator[StoredScan]:
        """The newest scan of each stored (owner, slug, version), oldest version first."""
        newest = (
            select(func.max(_scans.c.id).label("id"))
            .where(_scans.c.slug != "")
            .group_by(_scans.c.owner, _scans.c.slug, _scans.c.version)
            .subquery()
        )
        stmt = select(_scans).join(newest, newest.c.id == _scans.c.id)
        if verdict is not None:
            stmt = stmt.where(_scans.c.verdict == str(verdict))
        if since is not None:
            stmt = stmt.where(_scans.c.scanned_at >= since)
        stmt = stmt.order_by(_scans.c.owner, _scans.c.slug, _scans.c.version)
        with read_tx(self._engine) as conn:
            for row in conn.execute(stmt.execution_options(yield_per=500)):
                yield _stored(row)

    def scanned_versions(
        self, ruleset: str, refs: Iterable[tuple[str, str, str]]
    ) -> set[tuple[str, str, str]]:
        """Which of `refs` (owner, slug, version) already have a complete scan under `ruleset`
        (an `indeterminate` one does not count: analysis was incomplete, so it is worth redoing)."""
        wanted = set(refs)
        if not wanted:
            return set()
        slugs = sorted({slug for _, slug, _ in wanted})
        found: set[tuple[str, str, str]] = set()
        with read_tx(self._engine) as conn:
            for start in range(0, len(slugs), 500):
                stmt = select(_scans.c.owner, _scans.c.slug, _scans.c.version).where(
                    _scans.c.ruleset == ruleset,
                    _scans.c.slug.in_(slugs[start : start + 500]),
                    _scans.c.verdict != str(Verdict.INDETERMINATE),
                )
                found.update((r.owner, r.slug, r.version) for r in conn.execute(stmt))
        return found & wanted

    def count_scans(self) -> int:
        with read_tx(self._engine) as conn:
            return int(conn.execute(select(func.count()).select_from(_scans)).scalar_one())

    def _one(self, stmt: Any) -> StoredScan | None:
        with read_tx(self._engine) as conn:
            row = conn.execute(stmt).first()
        return _stored(row) if row is not None else None

    def _many(self, stmt: Any) -> list[StoredScan]:
        with read_tx(self._engine) as conn:
            return [_stored(row) for row in conn.execute(stmt)]


def _completes(stored: str, new: Verdict) -> bool:
    return stored == str(Verdict.INDETERMINATE) and new is not Verdict.INDETERMINATE


def _stored(row: Row[Any]) -> StoredScan:
    return StoredScan(
        id=row.id,
        owner=row.owner,
        slug=row.slug,
        version=row.version,
        fingerprint=row.fingerprint,
        verdict=Verdict(row.verdict),
        decision=Decision(row.decision),
        ruleset=row.ruleset,
        scanned_at=aware(row.scanned_at),
        reason=row.reason or "",
        tool_version=row.tool_version or "",
        source=row.source or "",
        report_data=row.report or {},
    )


def stored_fields(scan: StoredScan) -> dict[str, Any]:
    """The stable JSON shape of one stored verdict (used by `skillscan verdicts --format jsonl`)."""
    return {
        "id": scan.id,
        "owner": scan.owner,
        "slug": scan.slug,
        "version": scan.version,
        "fingerprint": scan.fingerprint,
        "verdict": str(scan.verdict),
        "decision": str(scan.decision),
        "ruleset": scan.ruleset,
        "scanned_at": scan.scanned_at.isoformat(),
    }


__all__: Sequence[str] = ["Recorded", "StoredScan", "ToRecord", "VerdictStore", "scan_key", "stored_fields"]
