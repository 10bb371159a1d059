"""The store's worker bookkeeping: registry outcomes, high-water marks, failures, delivery counts
(sweeps: `skillscan.store.sweeps`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, case, exists, select, update

from skillscan.store import schema
from skillscan.store.engine import read_tx, write_tx
from skillscan.store.sql import aware, upsert

_outcomes = schema.table_of(schema.RegistryOutcomeRow)
_marks = schema.table_of(schema.HighWaterMarkRow)
_failures = schema.table_of(schema.FailureRow)
_deliveries = schema.table_of(schema.TaskDeliveryRow)
_scans = schema.table_of(schema.ScanRow)

VersionKey = tuple[str, str, str]  # (owner, slug, version)


@dataclass(frozen=True)
class RegistryOutcome:
    owner: str
    slug: str
    version: str
    kind: str
    detail: str
    http_status: int | None
    attempts: int
    last_seen: datetime


@dataclass(frozen=True)
class Failure:
    id: int
    task: str
    args: list[Any]
    kwargs: dict[str, Any]
    queue: str
    subject: str
    error: str
    attempts: int
    status: str
    created_at: datetime
    updated_at: datetime


class Bookkeeping:
    _engine: Engine

    # -- registry outcomes ---------------------------------------------------------------------

    def record_outcome(
        self, owner: str, slug: str, version: str, kind: str, detail: str = "", http_status: int | None = None
    ) -> None:
        """Remember a registry answer that was not a scannable bundle (the latest one per version)."""
        now = schema.utcnow()
        values = {
            "owner": owner,
            "slug": slug,
            "version": version,
            "kind": kind,
            "detail": detail[:2000],
            "http_status": http_status,
            "attempts": 1,
            "first_seen": now,
            "last_seen": now,
        }
        changes = {
            "kind": kind,
            "detail": detail[:2000],
            "http_status": http_status,
            "attempts": _outcomes.c.attempts + 1,
            "last_seen": now,
        }
        with write_tx(self._engine) as conn:
            upsert(conn, _outcomes, values, ["owner", "slug", "version"], changes)

    def outcomes(self, kind: str | None = None, limit: int = 1000) -> list[RegistryOutcome]:
        stmt = select(_outcomes)
        if kind is not None:
            stmt = stmt.where(_outcomes.c.kind == kind)
        stmt = stmt.order_by(_outcomes.c.last_seen.desc()).limit(limit)
        with read_tx(self._engine) as conn:
            return [
                RegistryOutcome(
                    r.owner,
                    r.slug,
                    r.version,
                    r.kind,
                    r.detail,
                    r.http_status,
                    r.attempts,
                    aware(r.last_seen),
                )
                for r in conn.execute(stmt)
            ]

    def outcome_kinds(self, refs: Iterable[VersionKey]) -> dict[VersionKey, str]:
        """The last registry outcome kind of each of `refs` that has one."""
        wanted = set(refs)
        slugs = sorted({slug for _, slug, _ in wanted})
        found: dict[VersionKey, str] = {}
        with read_tx(self._engine) as conn:
            for start in range(0, len(slugs), 500):
                stmt = select(
                    _outcomes.c.owner, _outcomes.c.slug, _outcomes.c.version, _outcomes.c.kind
                ).where(_outcomes.c.slug.in_(slugs[start : start + 500]))
                for r in conn.execute(stmt):
                    key = (r.owner, r.slug, r.version)
                    if key in wanted:
                        found[key] = r.kind
        return found

    def unscanned_outcomes(self, ruleset: str, kinds: Sequence[str], limit: int = 500) -> list[VersionKey]:
        """Versions whose last registry answer was one of `kinds` and that still have no scan under `ruleset`."""
        scanned = exists().where(
            and_(
                _scans.c.owner == _outcomes.c.owner,
                _scans.c.slug == _outcomes.c.slug,
                _scans.c.version == _outcomes.c.version,
                _scans.c.ruleset == ruleset,
            )
        )
        stmt = (
            select(_outcomes.c.owner, _outcomes.c.slug, _outcomes.c.version)
            .where(_outcomes.c.kind.in_(list(kinds)), ~scanned)
            .order_by(_outcomes.c.last_seen)
            .limit(limit)
        )
        with read_tx(self._engine) as conn:
            return [(r.owner, r.slug, r.version) for r in conn.execute(stmt)]

    # -- high-water marks ----------------------------------------------------------------------

    def get_mark(self, key: str) -> int | None:
        with read_tx(self._engine) as conn:
            value = conn.execute(select(_marks.c.value).where(_marks.c.key == key)).scalar()
        return int(value) if value is not None else None

    def advance_mark(self, key: str, value: int) -> int:
        """Move a mark forward (never back); returns the stored value."""
        now = schema.utcnow()
        with write_tx(self._engine) as conn:
            upsert(
                conn,
                _marks,
                {"key": key, "value": value, "updated_at": now},
                ["key"],
                {"value": case((_marks.c.value < value, value), else_=_marks.c.value), "updated_at": now},
            )
            return int(conn.execute(select(_marks.c.value).where(_marks.c.key == key)).scalar_one())

    def get_state(self, key: str) -> dict[str, Any] | None:
        """Structured crawl state stored under `key` (e.g. a registry's discovery mark)."""
        with read_tx(self._engine) as conn:
            value = conn.execute(select(_marks.c.state).where(_marks.c.key == key)).scalar()
        return dict(value) if value else None

    def put_state(self, key: str, state: dict[str, Any], value: int = 0) -> None:
        now = schema.utcnow()
        data = json.loads(json.dumps(state))
        with write_tx(self._engine) as conn:
            upsert(
                conn,
                _marks,
                {"key": key, "value": value, "state": data, "updated_at": now},
                ["key"],
                {"value": value, "state": data, "updated_at": now},
            )

    def compare_and_set(
        self, key: str, expected: int, value: int, state: dict[str, Any] | None = None
    ) -> bool:
        """Move `key` from `expected` to `value` (and store `state`) only if nobody moved it first."""
        data = json.loads(json.dumps(state)) if state is not None else None
        with write_tx(self._engine) as conn:
            result = conn.execute(
                update(_marks)
                .where(_marks.c.key == key, _marks.c.value == expected)
                .values(value=value, state=data, updated_at=schema.utcnow())
            )
            return int(result.rowcount) == 1

    def state_age_s(self, key: str) -> float | None:
        """Seconds since `key` last changed (None when absent)."""
        with read_tx(self._engine) as conn:
            when = conn.execute(select(_marks.c.updated_at).where(_marks.c.key == key)).scalar()
        return (schema.utcnow() - aware(when)).total_seconds() if when is not None else None

    # -- failures ------------------------------------------------------------------------------

    def record_failure(
        self,
        task: str,
        args: Sequence[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        queue: str = "",
        subject: str = "",
        error: str = "",
        attempts: int = 1,
    ) -> int:
        """Record work that failed for good. The same task with the same arguments keeps one open row."""
        now = schema.utcnow()
        args_list, kwargs_dict = json.loads(json.dumps(list(args))), json.loads(json.dumps(kwargs or {}))
        with write_tx(self._engine) as conn:
            open_rows = conn.execute(
                select(_failures.c.id, _failures.c.args, _failures.c.kwargs).where(
                    _failures.c.task == task, _failures.c.status == "failed", _failures.c.subject == subject
                )
            ).all()
            for row in open_rows:
                if row.args == args_list and row.kwargs == kwargs_dict:
                    conn.execute(
                        update(_failures)
                        .where(_failures.c.id == row.id)
                        .values(error=error[:4000], attempts=_failures.c.attempts + attempts, updated_at=now)
                    )
                    return int(row.id)
            result = conn.execute(
                _failures.insert().values(
                    task=task,
                    args=args_list,
                    kwargs=kwargs_dict,
                    queue=queue,
                    subject=subject[:500],
                    error=error[:4000],
                    attempts=attempts,
                    status="failed",
                    created_at=now,
                    updated_at=now,
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def failures(self, status: str | None = "failed", limit: int = 1000) -> list[Failure]:
        stmt = select(_failures)
        if status is not None:
            stmt = stmt.where(_failures.c.status == status)
        with read_tx(self._engine) as conn:
            return [_failure(r) for r in conn.execute(stmt.order_by(_failures.c.id).limit(limit))]

    def get_failure(self, failure_id: int) -> Failure | None:
        with read_tx(self._engine) as conn:
            row = conn.execute(select(_failures).where(_failures.c.id == failure_id)).first()
        return _failure(row) if row is not None else None

    def set_failure_status(self, failure_id: int, status: str) -> None:
        with write_tx(self._engine) as conn:
            conn.execute(
                update(_failures)
                .where(_failures.c.id == failure_id)
                .values(status=status, updated_at=schema.utcnow())
            )

    def resolve_failures(self, subjects: str | Iterable[str]) -> int:
        """Close open failures about these subjects once they succeeded after all (a replay, a later sweep)."""
        wanted = [subjects] if isinstance(subjects, str) else sorted(set(subjects))
        if not wanted:
            return 0
        with read_tx(self._engine) as conn:  # usually nothing is open: skip the write lock then
            open_ids = (
                conn.execute(
                    select(_failures.c.id).where(
                        _failures.c.subject.in_(wanted), _failures.c.status.in_(["failed", "replayed"])
                    )
                )
                .scalars()
                .all()
            )
        if not open_ids:
            return 0
        with write_tx(self._engine) as conn:
            result = conn.execute(
                update(_failures)
                .where(_failures.c.id.in_(open_ids), _failures.c.status.in_(["failed", "replayed"]))
                .values(status="resolved", updated_at=schema.utcnow())
            )
            return int(result.rowcount)

    # -- task deliveries (redelivery cap) ------------------------------------------------------

    def bump_delivery(self, key: str) -> int:
        """Count one more delivery of a task message; returns the count including this one."""
        now = schema.utcnow()
        with write_tx(self._engine) as conn:
            upsert(
                conn,
                _deliveries,
                {"key": key, "count": 1, "updated_at": now},
                ["key"],
                {"count": _deliveries.c.count + 1, "updated_at": now},
            )
            return int(conn.execute(select(_deliveries.c.count).where(_deliveries.c.key == key)).scalar_one())

    def prune_deliveries(self, older_than: datetime) -> int:
        with write_tx(self._engine) as conn:
            return int(
                conn.execute(_deliveries.delete().where(_deliveries.c.updated_at < older_than)).rowcount
            )


def _failure(r: Any) -> Failure:
    return Failure(
        id=r.id,
        task=r.task,
        args=list(r.args or []),
        kwargs=dict(r.kwargs or {}),
        queue=r.queue or "",
        subject=r.subject or "",
        error=r.error or "",
        attempts=r.attempts,
        status=r.status,
        created_at=aware(r.created_at),
        updated_at=aware(r.updated_at),
    )
