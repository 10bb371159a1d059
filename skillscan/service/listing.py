"""The reports listing: recent stored verdicts, each with the verdict it replaced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from skillscan.service.records import ServiceRecords
from skillscan.store.engine import read_tx
from skillscan.store.schema import ScanOriginalRow, ScanRow, SweepRow, table_of
from skillscan.store.sql import aware

_scans = table_of(ScanRow)
_sweeps = table_of(SweepRow)
_originals = table_of(ScanOriginalRow)


@dataclass(frozen=True, slots=True)
class Listed:
    """One line of the reports listing."""

    id: int
    owner: str
    slug: str
    version: str
    name: str
    verdict: str
    decision: str
    findings: int
    scanned_at: datetime
    previous: str | None  # verdict of the scan before this one of the same version (or bundle)
    overridden: bool


def last_sweep_start(records: ServiceRecords) -> datetime | None:
    with read_tx(records.store.engine) as conn:
        value = conn.execute(select(_sweeps.c.started_at).order_by(_sweeps.c.id.desc()).limit(1)).scalar()
    return aware(value) if value is not None else None


def listing(
    records: ServiceRecords,
    *,
    limit: int = 100,
    verdict: str | None = None,
    since: datetime | None = None,
    changed_only: bool = False,
) -> list[Listed]:
    """Recent stored verdicts, each with the verdict it replaced; `changed_only` keeps the changes."""
    p = _scans.alias("p")
    same = or_(
        and_(
            _scans.c.slug != "",
            p.c.owner == _scans.c.owner,
            p.c.slug == _scans.c.slug,
            p.c.version == _scans.c.version,
        ),
        and_(_scans.c.slug == "", p.c.fingerprint == _scans.c.fingerprint),
    )
    previous = (
        select(p.c.verdict)
        .where(same, p.c.id < _scans.c.id)
        .order_by(p.c.id.desc())
        .limit(1)
        .scalar_subquery()
    ).label("previous")
    stmt = select(
        _scans.c.id,
        _scans.c.owner,
        _scans.c.slug,
        _scans.c.version,
        _scans.c.verdict,
        _scans.c.decision,
        _scans.c.findings,
        _scans.c.scanned_at,
        _scans.c.report,
        previous,
        _originals.c.scan_id.label("overridden"),
    ).outerjoin(_originals, _originals.c.scan_id == _scans.c.id)
    if verdict:
        stmt = stmt.where(_scans.c.verdict == verdict)
    if since is not None:
        stmt = stmt.where(_scans.c.scanned_at >= since)
    if changed_only:
        inner = stmt.subquery()
        stmt = select(inner).where(inner.c.previous.is_not(None), inner.c.previous != inner.c.verdict)
        stmt = stmt.order_by(inner.c.id.desc()).limit(limit)
    else:
        stmt = stmt.order_by(_scans.c.id.desc()).limit(limit)
    with read_tx(records.store.engine) as conn:
        rows = conn.execute(stmt).all()
    out = []
    for r in rows:
        skill = (r.report or {}).get("skill") or {}
        name = (
            f"{r.owner}/{r.slug}"
            if r.owner and r.slug
            else r.slug or skill.get("name") or skill.get("slug") or "(upload)"
        )
        out.append(
            Listed(
                id=r.id,
                owner=r.owner,
                slug=r.slug,
                version=r.version or str(skill.get("version") or ""),
                name=str(name),
                verdict=r.verdict,
                decision=r.decision,
                findings=len(r.findings or []),
                scanned_at=aware(r.scanned_at),
                previous=r.previous,
                overridden=r.overridden is not None,
            )
        )
    return out
