"""The store's record of sweeps: the versions each one queued, what became of them, and progress."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, case, func, select, update

from skillscan.store import schema
from skillscan.store.bookkeeping import VersionKey
from skillscan.store.engine import read_tx, write_tx
from skillscan.store.sql import insert_ignore_many, upsert_many

_sweeps = schema.table_of(schema.SweepRow)
_items = schema.table_of(schema.SweepItemRow)


@dataclass(frozen=True)
class SweepItemResult:
    owner: str
    slug: str
    version: str
    status: str  # scanned | unchanged | outcome | failed
    verdict: str | None = None
    previous_verdict: str | None = None
    scan_id: int | None = None


@dataclass(frozen=True)
class SweepProgress:
    sweep_id: int
    listed: bool  # the registry listing finished: `total` is final
    listing_error: str
    total: int
    done: int
    scanned: int
    unchanged: int
    outcomes: int
    failed: int
    new_malicious: int
    changed: int
    registry: str = ""

    @property
    def finished(self) -> bool:
        return self.listed and self.done >= self.total


class Sweeps:
    _engine: Engine

    def start_sweep(self, registry: str, ruleset: str) -> int:
        with write_tx(self._engine) as conn:
            result = conn.execute(
                _sweeps.insert().values(registry_url=registry, ruleset=ruleset, started_at=schema.utcnow())
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def add_sweep_items(self, sweep_id: int, refs: Iterable[VersionKey]) -> None:
        rows = [
            {"sweep_id": sweep_id, "owner": o, "slug": s, "version": v, "status": "queued"}
            for o, s, v in refs
        ]
        with write_tx(self._engine) as conn:
            insert_ignore_many(conn, _items, rows, ["sweep_id", "owner", "slug", "version"])

    def finish_sweep_items(self, sweep_id: int, results: Iterable[SweepItemResult]) -> None:
        rows = [
            {
                "sweep_id": sweep_id,
                "owner": r.owner,
                "slug": r.slug,
                "version": r.version,
                "status": r.status,
                "verdict": r.verdict,
                "previous_verdict": r.previous_verdict,
                "scan_id": r.scan_id,
            }
            for r in results
        ]
        with write_tx(self._engine) as conn:
            upsert_many(
                conn,
                _items,
                rows,
                ["sweep_id", "owner", "slug", "version"],
                ["status", "verdict", "previous_verdict", "scan_id"],
            )

    def sweep_items(self, sweep_id: int, status: str = "queued") -> list[VersionKey]:
        stmt = select(_items.c.owner, _items.c.slug, _items.c.version).where(
            _items.c.sweep_id == sweep_id, _items.c.status == status
        )
        with read_tx(self._engine) as conn:
            return [(r.owner, r.slug, r.version) for r in conn.execute(stmt.order_by(_items.c.id))]

    def unfinished_sweeps(self) -> list[int]:
        """Sweeps whose listing has not finished (newest first)."""
        stmt = select(_sweeps.c.id).where(_sweeps.c.listed_at.is_(None)).order_by(_sweeps.c.id.desc())
        with read_tx(self._engine) as conn:
            return [int(i) for i in conn.execute(stmt).scalars()]

    def finish_listing(self, sweep_id: int, error: str = "") -> None:
        with write_tx(self._engine) as conn:
            conn.execute(
                update(_sweeps)
                .where(_sweeps.c.id == sweep_id)
                .values(listed_at=schema.utcnow(), listing_error=error[:2000])
            )

    def latest_sweep_id(self) -> int | None:
        with read_tx(self._engine) as conn:
            return conn.execute(select(func.max(_sweeps.c.id))).scalar()

    def sweep_progress(self, sweep_id: int) -> SweepProgress | None:
        def count(condition: Any) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        changed = and_(_items.c.previous_verdict.is_not(None), _items.c.previous_verdict != _items.c.verdict)
        new_malicious = and_(
            _items.c.verdict == "malicious",
            func.coalesce(_items.c.previous_verdict, "") != "malicious",
        )
        with read_tx(self._engine) as conn:
            sweep = conn.execute(select(_sweeps).where(_sweeps.c.id == sweep_id)).first()
            if sweep is None:
                return None
            c = conn.execute(
                select(
                    func.count(),
                    count(_items.c.status != "queued"),
                    count(_items.c.status == "scanned"),
                    count(_items.c.status == "unchanged"),
                    count(_items.c.status == "outcome"),
                    count(_items.c.status == "failed"),
                    count(and_(_items.c.status == "scanned", new_malicious)),
                    count(and_(_items.c.status == "scanned", changed)),
                ).where(_items.c.sweep_id == sweep_id)
            ).one()
        return SweepProgress(
            sweep_id=sweep_id,
            listed=sweep.listed_at is not None,
            listing_error=sweep.listing_error or "",
            total=int(c[0]),
            done=int(c[1]),
            scanned=int(c[2]),
            unchanged=int(c[3]),
            outcomes=int(c[4]),
            failed=int(c[5]),
            new_malicious=int(c[6]),
            changed=int(c[7]),
            registry=sweep.registry_url or "",
        )
