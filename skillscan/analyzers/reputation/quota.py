"""A request quota shared by every process that talks to the reputation service.

VirusTotal's public API allows a few requests per minute and a few hundred per day per key, and
all workers, the API and `skillscan scan` share one key. The limiter therefore lives where they all
meet: Redis when a broker is configured, otherwise the verdict store's database, where a
transaction that writes first serialises concurrent processes. The minute window slides (no burst
at a window edge); the day window is the UTC calendar day, as VirusTotal counts it. After a 429
every process stops asking until the block expires.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine

from skillscan.errors import ReputationError, StoreError

Clock = Callable[[], float]

MINUTE_S = 60.0


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    per_minute: int
    per_day: int


def day_start(now: float) -> float:
    d = datetime.fromtimestamp(now, tz=UTC)
    return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()


class QuotaLimiter(ABC):
    """`try_acquire` never waits: a denied request is deferred by the caller, not queued here."""

    @abstractmethod
    def try_acquire(self, n: int = 1) -> bool:
        """Take `n` requests from both windows, or none at all."""

    @abstractmethod
    def block_for(self, seconds: float) -> None:
        """Deny every process until `seconds` from now (the service said 429)."""


class UnlimitedQuota(QuotaLimiter):
    """For tests of other parts and for services without a quota."""

    def try_acquire(self, n: int = 1) -> bool:
        return True

    def block_for(self, seconds: float) -> None:
        return None


# Atomic check-and-take over both windows. KEYS: minute zset, day counter, blocked-until time.
# ARGV: now, n, per_minute, per_day, unique member prefix, day key ttl.
_ACQUIRE_LUA = """
local now = tonumber(ARGV[1])
local blocked = tonumber(redis.call('GET', KEYS[3]) or '0')
if blocked > now then return 0 end
local n = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60)
local used_min = redis.call('ZCARD', KEYS[1])
local used_day = tonumber(redis.call('GET', KEYS[2]) or '0')
if used_min + n > tonumber(ARGV[3]) or used_day + n > tonumber(ARGV[4]) then return 0 end
for i = 1, n do redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. i) end
redis.call('EXPIRE', KEYS[1], 120)
redis.call('INCRBY', KEYS[2], n)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[6]))
return 1
"""


class RedisQuota(QuotaLimiter):
    def __init__(
        self,
        client: Any,
        limits: QuotaLimits,
        *,
        prefix: str = "skillscan:vt:quota",
        clock: Clock = time.time,
    ) -> None:
        self._redis = client
        self._limits = limits
        self._prefix = prefix
        self._clock = clock
        self._script = client.register_script(_ACQUIRE_LUA)

    def try_acquire(self, n: int = 1) -> bool:
        now = self._clock()
        day = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%d")
        keys = [f"{self._prefix}:minute", f"{self._prefix}:day:{day}", f"{self._prefix}:blocked"]
        args = [now, n, self._limits.per_minute, self._limits.per_day, uuid.uuid4().hex, 2 * 86400]
        try:
            return bool(self._script(keys=keys, args=args))
        except Exception as e:  # redis errors: no quota means no request, never a crash
            raise ReputationError(f"quota store unavailable ({type(e).__name__})") from None

    def block_for(self, seconds: float) -> None:
        try:
            until = self._clock() + seconds
            self._redis.set(f"{self._prefix}:blocked", repr(until), px=max(1, int(seconds * 1000)) + 60_000)
        except Exception as e:
            raise ReputationError(f"quota store unavailable ({type(e).__name__})") from None


class SqlQuota(QuotaLimiter):
    """The same limiter on the verdict store's database (SQLite file or PostgreSQL).

    Each transaction is a write transaction (BEGIN IMMEDIATE on SQLite) whose first statement
    updates the single guard row, which also takes PostgreSQL's row lock: concurrent processes
    count one at a time.
    """

    def __init__(self, engine: Engine, limits: QuotaLimits, *, clock: Clock = time.time) -> None:
        from skillscan.store.schema import ReputationQuotaGrant, ReputationQuotaGuard, table_of

        self._engine = engine
        self._limits = limits
        self._clock = clock
        self._guard = table_of(ReputationQuotaGuard)
        self._grants = table_of(ReputationQuotaGrant)

    def _locked(self, fn: Callable[[Any, float], bool]) -> bool:
        """Run `fn(conn, blocked_until)` holding the guard row's lock."""
        from skillscan.store.engine import write_tx
        from skillscan.store.sql import insert_ignore

        guard = self._guard
        try:
            with write_tx(self._engine) as conn:
                insert_ignore(conn, guard, {"id": 1, "version": 0, "blocked_until": 0.0}, ["id"])
                conn.execute(update(guard).where(guard.c.id == 1).values(version=guard.c.version + 1))
                blocked = conn.execute(select(guard.c.blocked_until).where(guard.c.id == 1)).scalar_one()
                return fn(conn, float(blocked))
        except StoreError as e:
            raise ReputationError(f"quota store unavailable ({type(e).__name__})") from None

    def try_acquire(self, n: int = 1) -> bool:
        now = self._clock()
        today = day_start(now)
        grants = self._grants

        def take(conn: Any, blocked_until: float) -> bool:
            if blocked_until > now:
                return False
            conn.execute(delete(grants).where(grants.c.at < min(now - MINUTE_S, today)))
            count = select(func.count()).select_from(grants)
            used_min = conn.execute(count.where(grants.c.at > now - MINUTE_S)).scalar_one()
            used_day = conn.execute(count.where(grants.c.at >= today)).scalar_one()
            if used_min + n > self._limits.per_minute or used_day + n > self._limits.per_day:
                return False
            conn.execute(insert(grants), [{"at": now} for _ in range(n)])
            return True

        return self._locked(take)

    def block_for(self, seconds: float) -> None:
        until = self._clock() + seconds
        guard = self._guard

        def block(conn: Any, blocked_until: float) -> bool:
            if until > blocked_until:
                conn.execute(update(guard).where(guard.c.id == 1).values(blocked_until=until))
            return True

        self._locked(block)
