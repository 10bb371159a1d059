"""`skillscan beat`: Celery beat as a singleton, guarded by a lock in Redis.

Any number of beat processes may run (one per host, for failover); only the lock holder schedules.
The others wait for the lock. The holder renews the lock every third of its lifetime and exits at
once if a renewal fails, so two beats never schedule at the same time for longer than the lock's
remaining lifetime after a network split.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time

import redis
from redis.exceptions import LockError, RedisError

from worker.celery_app import SkillscanCelery, broker_url

LOCK_NAME = "skillscan:beat:lock"
LOCK_TTL_S = 30.0

log = logging.getLogger("skillscan.beat")


def acquire(
    client: redis.Redis,
    ttl_s: float = LOCK_TTL_S,
    stop: threading.Event | None = None,
    prefix: str = "",
) -> redis.lock.Lock:
    """Block until this process holds the beat lock."""
    lock = client.lock(prefix + LOCK_NAME, timeout=ttl_s, thread_local=False)
    announced = False
    while stop is None or not stop.is_set():
        try:
            if lock.acquire(blocking=announced, blocking_timeout=ttl_s / 3):
                return lock
        except RedisError as e:
            log.warning("beat lock: Redis unavailable (%s); retrying", e)
            time.sleep(1.0)
            continue
        if not announced:
            log.info("another beat holds %s; standing by", prefix + LOCK_NAME)
            announced = True
    raise InterruptedError("stopped while waiting for the beat lock")


def keep(lock: redis.lock.Lock, ttl_s: float, lost: threading.Event, stop: threading.Event) -> None:
    """Renew the lock until `stop`; on a failed renewal set `lost` and end the process."""
    while not stop.wait(ttl_s / 3):
        try:
            if lock.extend(ttl_s, replace_ttl=True):
                continue
        except (LockError, RedisError) as e:
            log.error("beat lock lost: %s", e)
        lost.set()
        # Another beat may hold the lock now: stop scheduling immediately.
        os._exit(3)


def run_beat(app: SkillscanCelery, loglevel: str = "INFO") -> None:
    client = redis.Redis.from_url(broker_url(app.settings), socket_timeout=10, socket_connect_timeout=5)
    lock = acquire(client, prefix=app.settings.broker_key_prefix)
    log.info("beat lock acquired; scheduling")
    stop, lost = threading.Event(), threading.Event()
    keeper = threading.Thread(target=keep, args=(lock, LOCK_TTL_S, lost, stop), name="beat-lock", daemon=True)
    keeper.start()
    try:
        app.settings.data_dir.mkdir(parents=True, exist_ok=True)
        app.Beat(loglevel=loglevel, schedule=app.conf.beat_schedule_filename).run()
    finally:
        stop.set()
        with contextlib.suppress(LockError, RedisError):  # expired already: nothing to release
            lock.release()
