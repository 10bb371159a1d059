"""Where the reputation cache and quota live: Redis when a broker is configured, else the verdict store.

Connections are opened lazily in the process that uses them (never inherited across a fork).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from skillscan.analyzers.reputation.cache import RedisCache, ReputationCache, SqlCache
from skillscan.analyzers.reputation.quota import QuotaLimiter, QuotaLimits, RedisQuota, SqlQuota
from skillscan.config import Settings


@dataclass
class Backends:
    """The cache and quota of one process; rebuilt when used from a forked child."""

    settings: Settings
    _pid: int = field(default=-1, init=False)
    _cache: ReputationCache | None = field(default=None, init=False)
    _quota: QuotaLimiter | None = field(default=None, init=False)
    _closers: list[Any] = field(default_factory=list, init=False)

    def _ensure(self) -> None:
        if self._pid == os.getpid() and self._cache is not None:
            return
        self._closers = []
        limits = QuotaLimits(self.settings.vt_quota_per_min, self.settings.vt_quota_per_day)
        if self.settings.broker_url:
            import redis

            client = redis.Redis.from_url(
                self.settings.broker_url, socket_timeout=5, socket_connect_timeout=5
            )
            self._cache, self._quota = RedisCache(client), RedisQuota(client, limits)
            self._closers.append(client)
        else:
            engine = store_engine(self.settings)
            self._cache, self._quota = SqlCache(engine), SqlQuota(engine, limits)
            self._closers.append(engine)
        self._pid = os.getpid()

    @property
    def cache(self) -> ReputationCache:
        self._ensure()
        assert self._cache is not None
        return self._cache

    @property
    def quota(self) -> QuotaLimiter:
        self._ensure()
        assert self._quota is not None
        return self._quota

    def close(self) -> None:
        if self._pid == os.getpid():
            for c in self._closers:
                (c.dispose if hasattr(c, "dispose") else c.close)()
        self._closers, self._cache, self._quota, self._pid = [], None, None, -1


def store_engine(settings: Settings) -> Any:
    """The verdict store's engine (its migrations create the reputation tables)."""
    from skillscan.store import VerdictStore

    return VerdictStore(settings.effective_database_url).engine
