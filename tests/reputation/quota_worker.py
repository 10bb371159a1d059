"""Run in a separate process by the quota tests: take as much quota as it can, report how much."""

from __future__ import annotations

import sys
import time


def take(backend: str, target: str, per_minute: int, per_day: int, tries: int, start_at: float) -> int:
    from skillscan.analyzers.reputation.quota import QuotaLimits, RedisQuota, SqlQuota

    limits = QuotaLimits(per_minute, per_day)
    if backend == "redis":
        import redis

        quota = RedisQuota(redis.Redis.from_url(target), limits)
    else:
        from skillscan.store import VerdictStore

        quota = SqlQuota(VerdictStore(target).engine, limits)
    while time.time() < start_at:  # both processes start asking at the same moment
        time.sleep(0.005)
    return sum(1 for _ in range(tries) if quota.try_acquire())


if __name__ == "__main__":
    backend, target, per_minute, per_day, tries, start_at = sys.argv[1:7]
    print(take(backend, target, int(per_minute), int(per_day), int(tries), float(start_at)))
