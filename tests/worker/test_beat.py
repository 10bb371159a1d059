"""Beat is a singleton: the Redis lock lets one scheduler send, the others stand by and take over."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from skillscan.config import Settings
from tests.worker.conftest import BROKER_URL, SKILLSCAN, split_broker, wait_until
from worker.beat import LOCK_NAME, acquire
from worker.celery_app import beat_schedule


@pytest.fixture
def client(redis_db: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(split_broker(redis_db)[0])
    yield c
    c.close()


@pytest.fixture
def prefix(redis_db: str) -> str:
    return split_broker(redis_db)[1]


def test_second_holder_waits_until_the_lock_is_free(client: redis.Redis, prefix: str) -> None:
    first = acquire(client, ttl_s=2.0, prefix=prefix)
    got: list[float] = []
    started = time.monotonic()

    def contender() -> None:
        lock = acquire(client, ttl_s=2.0, prefix=prefix)
        got.append(time.monotonic() - started)
        lock.release()

    thread = threading.Thread(target=contender)
    thread.start()
    time.sleep(1.0)
    assert not got  # still standing by
    first.release()
    thread.join(timeout=5)
    assert got and got[0] >= 1.0


def test_lock_of_a_dead_holder_expires(client: redis.Redis, prefix: str) -> None:
    acquire(client, ttl_s=1.0, prefix=prefix)  # never renewed, never released: its process died
    started = time.monotonic()
    lock = acquire(client, ttl_s=1.0, prefix=prefix)
    assert time.monotonic() - started < 3.0
    lock.release()


def test_schedule_follows_settings() -> None:
    schedule = beat_schedule(Settings(poll_interval_s=120, sweep_hour=4, sweep_minute=30))
    assert schedule["poll-registry"]["schedule"] == 120
    assert schedule["poll-registry"]["task"] == "skillscan.poll_registry"
    sweep = schedule["nightly-sweep"]["schedule"]
    assert sweep.hour == {4} and sweep.minute == {30}
    assert "poll-registry" not in beat_schedule(Settings(poll_interval_s=0))
    assert "nightly-sweep" not in beat_schedule(Settings(sweep_hour=-1))


def test_only_one_beat_process_schedules(client: redis.Redis, prefix: str, tmp_path: Path) -> None:
    queue = prefix + "sweep"
    env = {
        "PATH": "/usr/bin:/bin",
        "SKILLSCAN_BROKER_URL": BROKER_URL,
        "SKILLSCAN_BROKER_KEY_PREFIX": prefix,
        "SKILLSCAN_DATA_DIR": str(tmp_path / "data"),
        "SKILLSCAN_DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}",
        "SKILLSCAN_POLL_INTERVAL_S": "1",
        "SKILLSCAN_SWEEP_HOUR": "-1",
    }
    logs = [tmp_path / "beat-a.log", tmp_path / "beat-b.log"]
    procs = []
    for i, log in enumerate(logs):
        proc_env = {**env, "SKILLSCAN_DATA_DIR": str(tmp_path / f"data-{i}")}
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen([SKILLSCAN, "beat"], env=proc_env, stdout=out, stderr=subprocess.STDOUT)
            )
    try:
        wait_until(lambda: client.llen(queue) >= 2, 30, "polls sent by beat")
        time.sleep(4.0)
        sent = [json.loads(m)["headers"]["task"] for m in client.lrange(queue, 0, -1)]
        assert set(sent) == {"skillscan.poll_registry"}
        # One scheduler at 1/s for about 5 s; two would have sent about twice as many.
        assert len(sent) <= 8, sent
        texts = [log.read_text(errors="replace") for log in logs]
        assert sum("standing by" in t for t in texts) == 1, texts
        assert client.exists(prefix + LOCK_NAME)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)
