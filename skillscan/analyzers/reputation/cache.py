"""Reputation answers cached with a TTL, and the lookups that are waiting for quota.

Every answer is cached — known and unknown alike — so a lookup is never repeated inside the TTL,
whichever process made it. Deferred lookups (quota exhausted, 429) are remembered so a later run
(`retry_deferred` in the analyzer module, or the next scan) can make them.
Redis when a broker is configured, else the verdict store's database.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from skillscan.analyzers.reputation.interface import LookupKind, LookupTarget, Reputation
from skillscan.errors import ReputationError, StoreError

Clock = Callable[[], float]


class ReputationCache(ABC):
    @abstractmethod
    def get(self, target: LookupTarget) -> Reputation | None:
        """The cached answer when still inside its TTL."""

    @abstractmethod
    def put(self, target: LookupTarget, reputation: Reputation, ttl_s: float) -> None:
        """Cache an answer; clears the target from the deferred set."""

    @abstractmethod
    def defer(self, target: LookupTarget) -> None:
        """Remember a lookup that could not be made now."""

    @abstractmethod
    def deferred(self, limit: int = 100) -> list[LookupTarget]:
        """Deferred lookups, oldest first (without file bytes)."""


def _target_to_json(target: LookupTarget, earlier: str | bytes | None = None) -> str:
    """The target without its bytes; refs merged with those of an earlier deferral of the same key."""
    refs = {tuple(r) for r in target.refs}
    if earlier:
        refs |= {tuple(r) for r in json.loads(earlier).get("refs", [])}
    return json.dumps(
        {
            "kind": str(target.kind),
            "key": target.key,
            "path": target.path,
            "label": target.label,
            "refs": sorted(list(r) for r in refs)[:100],
        }
    )


def _target_from_json(raw: str | bytes) -> LookupTarget:
    d = json.loads(raw)
    refs = tuple((str(o), str(s), str(v)) for o, s, v in d.get("refs", []))
    return LookupTarget(kind=LookupKind(d["kind"]), key=d["key"], path=d["path"], label=d["label"], refs=refs)


def _unavailable(e: Exception) -> ReputationError:
    return ReputationError(f"reputation cache unavailable ({type(e).__name__})")


class RedisCache(ReputationCache):
    def __init__(self, client: Any, *, prefix: str = "skillscan:vt", clock: Clock = time.time) -> None:
        self._redis = client
        self._prefix = prefix
        self._clock = clock

    def _key(self, target: LookupTarget) -> str:
        return f"{self._prefix}:cache:{target.cache_key}"

    def get(self, target: LookupTarget) -> Reputation | None:
        try:
            raw = self._redis.get(self._key(target))
        except Exception as e:
            raise _unavailable(e) from None
        return Reputation.from_dict(json.loads(raw)) if raw else None

    def put(self, target: LookupTarget, reputation: Reputation, ttl_s: float) -> None:
        try:
            pipe = self._redis.pipeline()
            pipe.set(self._key(target), json.dumps(reputation.to_dict()), px=max(1, int(ttl_s * 1000)))
            pipe.zrem(f"{self._prefix}:deferred", target.cache_key)
            pipe.hdel(f"{self._prefix}:deferred:targets", target.cache_key)
            pipe.execute()
        except Exception as e:
            raise _unavailable(e) from None

    def defer(self, target: LookupTarget) -> None:
        try:
            earlier = self._redis.hget(f"{self._prefix}:deferred:targets", target.cache_key)
            pipe = self._redis.pipeline()
            pipe.zadd(f"{self._prefix}:deferred", {target.cache_key: self._clock()}, nx=True)
            pipe.hset(f"{self._prefix}:deferred:targets", target.cache_key, _target_to_json(target, earlier))
            pipe.execute()
        except Exception as e:
            raise _unavailable(e) from None

    def deferred(self, limit: int = 100) -> list[LookupTarget]:
        try:
            keys = self._redis.zrange(f"{self._prefix}:deferred", 0, max(0, limit - 1))
            if not keys:
                return []
            raws = self._redis.hmget(f"{self._prefix}:deferred:targets", keys)
        except Exception as e:
            raise _unavailable(e) from None
        return [_target_from_json(raw) for raw in raws if raw]


class SqlCache(ReputationCache):
    def __init__(self, engine: Engine, *, clock: Clock = time.time) -> None:
        from skillscan.store.schema import ReputationCacheEntry, ReputationDeferred, table_of

        self._engine = engine
        self._clock = clock
        self._cache = table_of(ReputationCacheEntry)
        self._deferred = table_of(ReputationDeferred)

    def get(self, target: LookupTarget) -> Reputation | None:
        from skillscan.store.engine import read_tx

        t = self._cache
        try:
            with read_tx(self._engine) as conn:
                payload = conn.execute(
                    select(t.c.payload).where(
                        t.c.cache_key == target.cache_key, t.c.expires_at > self._clock()
                    )
                ).scalar()
        except StoreError as e:
            raise _unavailable(e) from None
        return Reputation.from_dict(json.loads(payload)) if payload else None

    def put(self, target: LookupTarget, reputation: Reputation, ttl_s: float) -> None:
        from skillscan.store.engine import write_tx
        from skillscan.store.sql import upsert

        t, d = self._cache, self._deferred
        now = self._clock()
        values = {"payload": json.dumps(reputation.to_dict()), "fetched_at": now, "expires_at": now + ttl_s}
        try:
            with write_tx(self._engine) as conn:
                upsert(conn, t, {"cache_key": target.cache_key, **values}, ["cache_key"], values)
                conn.execute(delete(d).where(d.c.cache_key == target.cache_key))
        except StoreError as e:
            raise _unavailable(e) from None

    def defer(self, target: LookupTarget) -> None:
        from skillscan.store.engine import write_tx
        from skillscan.store.sql import upsert

        d = self._deferred
        try:
            with write_tx(self._engine) as conn:
                earlier = conn.execute(select(d.c.target).where(d.c.cache_key == target.cache_key)).scalar()
                merged = _target_to_json(target, earlier)
                row = {"cache_key": target.cache_key, "target": merged, "deferred_at": self._clock()}
                upsert(conn, d, row, ["cache_key"], {"target": merged})
        except StoreError as e:
            raise _unavailable(e) from None

    def deferred(self, limit: int = 100) -> list[LookupTarget]:
        from skillscan.store.engine import read_tx

        d = self._deferred
        try:
            with read_tx(self._engine) as conn:
                rows = conn.execute(select(d.c.target).order_by(d.c.deferred_at).limit(limit)).scalars().all()
        except StoreError as e:
            raise _unavailable(e) from None
        return [_target_from_json(raw) for raw in rows]
