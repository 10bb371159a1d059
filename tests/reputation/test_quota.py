"""The VirusTotal quota is shared by every process: two processes together never exceed it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from skillscan.analyzers.reputation.quota import QuotaLimits, RedisQuota, SqlQuota, day_start
from skillscan.store import VerdictStore
from tests.conftest import REPO_ROOT


def _two_processes(backend: str, target: str, per_minute: int, per_day: int, tries: int) -> list[int]:
    start_at = time.time() + 1.5  # after both interpreters have imported everything
    cmd = [sys.executable, "-m", "tests.reputation.quota_worker", backend, target]
    procs = [
        subprocess.Popen(
            [*cmd, str(per_minute), str(per_day), str(tries), str(start_at)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    granted = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        granted.append(int(out.strip()))
    return granted


def test_sqlite_quota_is_shared_by_two_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'verdicts.db'}"
    VerdictStore(url).close()  # migrate once up front
    granted = _two_processes("sql", url, per_minute=4, per_day=500, tries=10)
    assert sum(granted) == 4, granted


def test_redis_quota_is_shared_by_two_processes(redis_db: str) -> None:
    granted = _two_processes("redis", redis_db, per_minute=4, per_day=500, tries=10)
    assert sum(granted) == 4, granted


def test_daily_quota_is_shared_too(redis_db: str) -> None:
    granted = _two_processes("redis", redis_db, per_minute=100, per_day=7, tries=10)
    assert sum(granted) == 7, granted


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("backend", ["sql", "redis"])
def test_minute_window_slides_and_day_resets(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    clock = _Clock(day_start(time.time()) + 3600)
    limits = QuotaLimits(per_minute=2, per_day=3)
    if backend == "redis":
        import redis

        quota: RedisQuota | SqlQuota = RedisQuota(
            redis.Redis.from_url(request.getfixturevalue("redis_db")), limits, clock=clock
        )
    else:
        quota = SqlQuota(VerdictStore(f"sqlite:///{tmp_path / 'v.db'}").engine, limits, clock=clock)
    assert quota.try_acquire() and quota.try_acquire()
    assert not quota.try_acquire()  # minute full
    clock.now += 61
    assert quota.try_acquire()  # the window slid
    clock.now += 61
    assert not quota.try_acquire()  # the day is full (3)
    clock.now += 86400
    assert quota.try_acquire()  # a new UTC day
    assert not quota.try_acquire(2)  # two at once do not fit the minute: none taken
    assert quota.try_acquire()
    clock.now += 61
    quota.block_for(30)
    assert not quota.try_acquire()  # blocked after a 429 although the minute is free …
    clock.now += 31
    assert quota.try_acquire()  # … until the block expires
