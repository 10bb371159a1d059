"""Delivery records: one row per (scan, sink) with the exact body, its state and attempt count.

States: ``pending`` (planned or waiting for a retry), ``sending`` (an attempt is in flight; a
lease so that two copies of one task message never send at once, and a crashed sender's delivery
is taken over once the lease has expired), ``delivered`` (a 2xx was received; never sent again),
``failed`` (out of attempts or refused for good; listed by `skillscan failures` until
`skillscan replay` sends it again). Rows are never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select, update

from skillscan.store.engine import read_tx, write_tx
from skillscan.store.schema import DeliveryRow, table_of, utcnow
from skillscan.store.sql import aware, insert_ignore

_t = table_of(DeliveryRow)


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    id: int
    key: str
    scan_id: int
    sink: str
    address: str
    subject: str
    verdict: str
    body: bytes
    state: DeliveryState
    attempts: int
    last_error: str
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=int(row.id),
        key=row.key,
        scan_id=int(row.scan_id),
        sink=row.sink,
        address=row.address or "",
        subject=row.subject or "",
        verdict=row.verdict or "",
        body=row.body.encode(),
        state=DeliveryState(row.state),
        attempts=int(row.attempts),
        last_error=row.last_error or "",
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        delivered_at=aware(row.delivered_at) if row.delivered_at is not None else None,
    )


class DeliveryStore:
    """Delivery rows in the verdict store. Every transition is one short write transaction."""

    def __init__(self, store: Any) -> None:
        self._engine = store.engine

    def create(
        self, *, key: str, scan_id: int, sink: str, address: str, subject: str, verdict: str, body: bytes
    ) -> Delivery:
        """Plan a delivery; planning the same key again returns the existing row unchanged."""
        now = utcnow()
        values = {
            "key": key,
            "scan_id": scan_id,
            "sink": sink,
            "address": address,
            "subject": subject[:500],
            "verdict": verdict,
            "body": body.decode(),
            "state": str(DeliveryState.PENDING),
            "attempts": 0,
            "last_error": "",
            "created_at": now,
            "updated_at": now,
        }
        with write_tx(self._engine) as conn:
            insert_ignore(conn, _t, values, ["key"])
            return _delivery(conn.execute(select(_t).where(_t.c.key == key)).one())

    def get(self, delivery_id: int) -> Delivery | None:
        with read_tx(self._engine) as conn:
            row = conn.execute(select(_t).where(_t.c.id == delivery_id)).first()
        return _delivery(row) if row is not None else None

    def begin_attempt(self, delivery_id: int, lease_s: float) -> tuple[Delivery | None, Delivery | None]:
        """Take the delivery for one attempt, counted before sending (a crash mid-send still counts).

        Returns (taken, current): `taken` is set when this caller may send now; otherwise `current`
        says why not (delivered, failed, or another sender holds an unexpired lease).
        """
        now = utcnow()
        cutoff = now - timedelta(seconds=lease_s)
        with write_tx(self._engine) as conn:
            takeable = or_(
                _t.c.state == str(DeliveryState.PENDING),
                and_(_t.c.state == str(DeliveryState.SENDING), _t.c.updated_at < cutoff),
            )
            res = conn.execute(
                update(_t)
                .where(_t.c.id == delivery_id, takeable)
                .values(state=str(DeliveryState.SENDING), attempts=_t.c.attempts + 1, updated_at=now)
            )
            row = conn.execute(select(_t).where(_t.c.id == delivery_id)).first()
        current = _delivery(row) if row is not None else None
        return (current, None) if res.rowcount else (None, current)

    def mark_delivered(self, delivery_id: int, detail: str = "") -> None:
        now = utcnow()
        with write_tx(self._engine) as conn:
            conn.execute(
                update(_t)
                .where(_t.c.id == delivery_id)
                .values(state=str(DeliveryState.DELIVERED), delivered_at=now, updated_at=now, last_error="")
            )

    def mark_error(self, delivery_id: int, error: str, *, final: bool) -> None:
        state = DeliveryState.FAILED if final else DeliveryState.PENDING
        with write_tx(self._engine) as conn:
            conn.execute(
                update(_t)
                .where(_t.c.id == delivery_id, _t.c.state != str(DeliveryState.DELIVERED))
                .values(state=str(state), last_error=error[:2000], updated_at=utcnow())
            )

    def reset_for_replay(self, delivery_id: int) -> Delivery | None:
        """A failed delivery gets a fresh attempt budget; delivered ones are left alone (None)."""
        with write_tx(self._engine) as conn:
            res = conn.execute(
                update(_t)
                .where(_t.c.id == delivery_id, _t.c.state == str(DeliveryState.FAILED))
                .values(state=str(DeliveryState.PENDING), attempts=0, updated_at=utcnow())
            )
            if res.rowcount == 0:
                return None
            return _delivery(conn.execute(select(_t).where(_t.c.id == delivery_id)).one())

    def listing(self, state: DeliveryState | None = None, limit: int = 1000) -> list[Delivery]:
        stmt = select(_t)
        if state is not None:
            stmt = stmt.where(_t.c.state == str(state))
        with read_tx(self._engine) as conn:
            return [_delivery(r) for r in conn.execute(stmt.order_by(_t.c.id).limit(limit))]

    def for_scan(self, scan_id: int) -> list[Delivery]:
        with read_tx(self._engine) as conn:
            return [
                _delivery(r)
                for r in conn.execute(select(_t).where(_t.c.scan_id == scan_id).order_by(_t.c.id))
            ]
