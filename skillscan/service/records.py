"""The API's own rows in the verdict store: scan jobs and uploads, maintainer actions, excerpts.

Maintainer actions change the stored verdict itself (the `scans` row), so every reader of the store
— the gate's fast path, posting, listings — sees it; the scanner's own report is kept beside it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, tuple_, update

from skillscan.models import Finding, ScanReport, Verdict
from skillscan.service.actions import Override, Suppression
from skillscan.store import VerdictStore
from skillscan.store.engine import read_tx, write_tx
from skillscan.store.schema import (
    FindingSuppressionRow,
    ScanExcerptRow,
    ScanOriginalRow,
    ScanRow,
    ServiceJobRow,
    ServiceUploadRow,
    VerdictOverrideRow,
    table_of,
    utcnow,
)
from skillscan.store.sql import aware, insert_ignore, upsert

_jobs = table_of(ServiceJobRow)
_uploads = table_of(ServiceUploadRow)
_suppressions = table_of(FindingSuppressionRow)
_overrides = table_of(VerdictOverrideRow)
_originals = table_of(ScanOriginalRow)
_excerpts = table_of(ScanExcerptRow)
_scans = table_of(ScanRow)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    kind: str  # upload | clawhub
    status: JobStatus
    owner: str
    slug: str
    version: str
    filename: str
    submitted_by: str
    scan_id: int | None
    error: str
    attempts: int
    created_at: datetime
    updated_at: datetime

    @property
    def ref(self) -> str:
        return (
            f"clawhub:@{self.owner}/{self.slug}@{self.version}" if self.kind == "clawhub" else self.filename
        )


class ServiceRecords:
    def __init__(self, store: VerdictStore) -> None:
        self.store = store
        self._engine = store.engine

    # -- jobs ------------------------------------------------------------------------------------

    def create_job(
        self,
        kind: str,
        *,
        submitted_by: str,
        owner: str = "",
        slug: str = "",
        version: str = "",
        filename: str = "",
        upload: bytes | None = None,
    ) -> Job:
        now = utcnow()
        values = {
            "id": uuid.uuid4().hex,
            "kind": kind,
            "status": str(JobStatus.QUEUED),
            "owner": owner,
            "slug": slug,
            "version": version,
            "filename": filename[:300],
            "submitted_by": submitted_by,
            "error": "",
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        with write_tx(self._engine) as conn:
            conn.execute(_jobs.insert().values(**values))
            if upload is not None:
                conn.execute(_uploads.insert().values(job_id=values["id"], data=upload))
        job = self.get_job(str(values["id"]))
        assert job is not None
        return job

    def get_job(self, job_id: str) -> Job | None:
        with read_tx(self._engine) as conn:
            row = conn.execute(select(_jobs).where(_jobs.c.id == job_id)).first()
        return _job(row) if row is not None else None

    def claim(self, job_id: str) -> Job | None:
        """queued (or running, after a crash) -> running; None when the job is finished or unknown."""
        with write_tx(self._engine) as conn:
            done = conn.execute(
                update(_jobs)
                .where(_jobs.c.id == job_id, _jobs.c.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
                .values(status=str(JobStatus.RUNNING), attempts=_jobs.c.attempts + 1, updated_at=utcnow())
            ).rowcount
        return self.get_job(job_id) if done else None

    def finish(self, job_id: str, scan_id: int) -> None:
        self._end(job_id, JobStatus.DONE, scan_id=scan_id, error="")

    def fail(self, job_id: str, error: str) -> None:
        self._end(job_id, JobStatus.FAILED, error=error[:2000])

    def _end(self, job_id: str, status: JobStatus, **values: Any) -> None:
        with write_tx(self._engine) as conn:
            conn.execute(
                update(_jobs)
                .where(_jobs.c.id == job_id)
                .values(status=str(status), updated_at=utcnow(), **values)
            )
            conn.execute(delete(_uploads).where(_uploads.c.job_id == job_id))

    def upload(self, job_id: str) -> bytes | None:
        with read_tx(self._engine) as conn:
            data = conn.execute(select(_uploads.c.data).where(_uploads.c.job_id == job_id)).scalar()
        return bytes(data) if data is not None else None

    def unfinished(self) -> list[Job]:
        with read_tx(self._engine) as conn:
            rows = conn.execute(
                select(_jobs)
                .where(_jobs.c.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
                .order_by(_jobs.c.created_at)
            )
            return [_job(r) for r in rows]

    # -- maintainer actions -------------------------------------------------------------------------

    def add_suppression(
        self, *, rule_id: str, path: str, file_sha256: str, reason: str, who: str, scan_id: int | None
    ) -> Suppression:
        values = {
            "rule_id": rule_id,
            "path": path,
            "file_sha256": file_sha256,
            "reason": reason,
            "who": who,
            "scan_id": scan_id,
            "created_at": utcnow(),
        }
        with write_tx(self._engine) as conn:
            new_id = conn.execute(_suppressions.insert().values(**values)).inserted_primary_key
        assert new_id is not None
        return Suppression(id=int(new_id[0]), **values)  # type: ignore[arg-type]

    def suppressions_for(self, findings: Sequence[Finding], file_hashes: dict[str, str]) -> list[Suppression]:
        """Suppressions that could match these findings (same rule id and file sha256)."""
        pairs = {(f.rule_id, file_hashes[f.path]) for f in findings if f.path in file_hashes}
        if not pairs:
            return []
        with read_tx(self._engine) as conn:
            rows = conn.execute(
                select(_suppressions)
                .where(tuple_(_suppressions.c.rule_id, _suppressions.c.file_sha256).in_(sorted(pairs)))
                .order_by(_suppressions.c.id)
            )
            return [
                Suppression(
                    id=r.id,
                    rule_id=r.rule_id,
                    path=r.path,
                    file_sha256=r.file_sha256,
                    reason=r.reason,
                    who=r.who,
                    created_at=aware(r.created_at),
                    scan_id=r.scan_id,
                )
                for r in rows
            ]

    def add_override(
        self, *, scan_id: int, fingerprint: str, verdict: Verdict, reason: str, who: str
    ) -> None:
        with write_tx(self._engine) as conn:
            conn.execute(
                _overrides.insert().values(
                    scan_id=scan_id,
                    fingerprint=fingerprint,
                    verdict=str(verdict),
                    reason=reason,
                    who=who,
                    created_at=utcnow(),
                )
            )

    def override_for(self, scan_id: int, fingerprint: str) -> Override | None:
        """The newest override of this scan, or of any scan of the same bundle."""
        where = _overrides.c.scan_id == scan_id
        if fingerprint:
            where = where | (_overrides.c.fingerprint == fingerprint)
        with read_tx(self._engine) as conn:
            r = conn.execute(
                select(_overrides).where(where).order_by(_overrides.c.id.desc()).limit(1)
            ).first()
        if r is None:
            return None
        return Override(r.id, r.scan_id, Verdict(r.verdict), r.reason, r.who, aware(r.created_at))

    def overridden_scans(self, scan_ids: Sequence[int]) -> set[int]:
        if not scan_ids:
            return set()
        with read_tx(self._engine) as conn:
            rows = conn.execute(select(_originals.c.scan_id).where(_originals.c.scan_id.in_(list(scan_ids))))
            return {int(r.scan_id) for r in rows}

    # -- the scanner's report and the effective one --------------------------------------------------

    def original(self, scan_id: int) -> ScanReport | None:
        with read_tx(self._engine) as conn:
            raw = conn.execute(select(_originals.c.report).where(_originals.c.scan_id == scan_id)).scalar()
        return ScanReport.from_dict(raw) if raw is not None else None

    def replace_stored(self, scan_id: int, original: ScanReport, effective: ScanReport) -> None:
        """Keep the scanner's report once, and make the effective verdict the stored one."""
        with write_tx(self._engine) as conn:
            insert_ignore(conn, _originals, {"scan_id": scan_id, "report": original.to_dict()}, ["scan_id"])
            conn.execute(
                update(_scans)
                .where(_scans.c.id == scan_id)
                .values(
                    verdict=str(effective.verdict),
                    decision=str(effective.decision),
                    reason=effective.reason,
                    findings=[f.to_dict() for f in effective.findings],
                    report=effective.to_dict(),
                )
            )

    def save_excerpts(self, scan_id: int, excerpts: dict[str, Any]) -> None:
        with write_tx(self._engine) as conn:
            upsert(
                conn,
                _excerpts,
                {"scan_id": scan_id, "excerpts": excerpts},
                ["scan_id"],
                {"excerpts": excerpts},
            )

    def excerpts(self, scan_id: int) -> dict[str, list[tuple[int, str]]]:
        with read_tx(self._engine) as conn:
            raw = conn.execute(select(_excerpts.c.excerpts).where(_excerpts.c.scan_id == scan_id)).scalar()
        if not isinstance(raw, dict):
            return {}
        return {k: [(int(n), str(t)) for n, t in v] for k, v in raw.items() if isinstance(v, list)}


def _job(r: Any) -> Job:
    return Job(
        id=r.id,
        kind=r.kind,
        status=JobStatus(r.status),
        owner=r.owner,
        slug=r.slug,
        version=r.version,
        filename=r.filename,
        submitted_by=r.submitted_by,
        scan_id=r.scan_id,
        error=r.error or "",
        attempts=r.attempts,
        created_at=aware(r.created_at),
        updated_at=aware(r.updated_at),
    )
