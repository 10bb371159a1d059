"""Broker faults under a real sweep: a private redis-server is killed and restarted while real
`skillscan worker` processes scan through the fake ClawHub."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable

import pytest

from skillscan.registry.clawhub import ClawHubClient
from skillscan.registry.fake import FakeServer
from skillscan.store import VerdictStore
from tests.worker.conftest import (
    SCANNABLE,
    SKILLSCAN,
    PrivateRedis,
    Workers,
    broker_backlog,
    versions_scanned,
    wait_until,
)
from worker.celery_app import LIST_BUDGET_S

pytestmark = pytest.mark.slow

PAGE_SIZE = 3
OUTAGE_S = 4.0  # longer than a publish's own retries (≈1 s) and a worker's first reconnect attempt


def first_slugs(registry: FakeServer) -> tuple[str, str]:
    """The first skill listed on each of the registry's first two pages."""
    with ClawHubClient(registry.url) as client:
        first, cursor = client.list_page(sort="createdAt", limit=PAGE_SIZE)
        second, _ = client.list_page(sort="createdAt", cursor=cursor, limit=PAGE_SIZE)
    return first[0].slug, second[0].slug


def sweep_across_outage(
    env: dict[str, str],
    broker: PrivateRedis,
    store: VerdictStore,
    ready: Callable[[], bool],
    lead_s: float = 0,
) -> str:
    """Sweep; once `ready()` (and `lead_s` later) SIGKILL Redis, restart it after OUTAGE_S, and wait
    for the sweep to end. Only what the AOF fsynced survives the kill."""
    sweep = subprocess.Popen(
        [SKILLSCAN, "sweep", "--wait", "--timeout", "170"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(ready, 90, "the sweep to reach the moment of the outage")
        time.sleep(lead_s)
        assert store.count_scans() < len(SCANNABLE), "the sweep ended before the broker went down"
        broker.kill()
        killed = time.monotonic()
        time.sleep(OUTAGE_S)
        broker.start()
        out, err = sweep.communicate(timeout=180)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    assert sweep.returncode == 0, out + err
    return f"sweep done {time.monotonic() - killed:.1f}s after the kill"


def assert_all_handled_once(broker: PrivateRedis, store: VerdictStore, pool: Workers) -> str:
    # Every message ends handled: nothing waits in a queue, nothing is held unacked (a message
    # whose ack was lost with the connection comes back after the visibility timeout, and its
    # repeat stores nothing new).
    began = time.monotonic()
    client = broker.client()
    wait_until(lambda: not any(broker_backlog(client).values()), 120, "an empty broker")
    client.close()
    counts = versions_scanned(store)
    assert set(counts) == SCANNABLE and set(counts.values()) == {1}, counts
    assert store.failures() == [], store.failures()
    # The same worker processes lost the broker, reconnected by themselves and went on.
    assert all(p.poll() is None for p in pool.procs), pool.log_text()
    for log in sorted(pool.logs.glob("worker-*.log")):
        text = log.read_text(errors="replace")
        assert "Connection to broker lost" in text and text.count("Connected to redis://") >= 2, text
    return f"broker idle {time.monotonic() - began:.1f}s later"


def start_workers(
    registry: FakeServer,
    broker: PrivateRedis,
    make_env: Callable[..., dict[str, str]],
    workers: Callable[[dict[str, str]], Workers],
    batch_size: int,
    processes: int,
) -> tuple[dict[str, str], Workers, VerdictStore]:
    """Worker processes (one pool process each) on the private broker, and the store they fill."""
    env = make_env(
        registry.url,
        broker=f"{broker.url}#",
        sweep_batch_size=str(batch_size),
        sweep_page_size=str(PAGE_SIZE),
    )
    pool = workers(env)
    for _ in range(processes):
        pool.start(concurrency=1)
    return env, pool, VerdictStore(env["SKILLSCAN_DATABASE_URL"])


def test_redis_restart_mid_sweep_loses_and_duplicates_nothing(
    registry: FakeServer,
    private_redis: PrivateRedis,
    make_env: Callable[..., dict[str, str]],
    workers: Callable[[dict[str, str]], Workers],
) -> None:
    env, pool, store = start_workers(registry, private_redis, make_env, workers, batch_size=1, processes=2)
    # The broker goes down while the listing fetches its second page (so it sends batches into the
    # outage) and while a scan downloads (so that task runs across the whole outage).
    _, on_second_page = first_slugs(registry)
    registry.admin.inject("slow", path=f"/api/v1/skills/{on_second_page}", delay_s=2.5)
    registry.admin.inject("slow", path="/api/v1/download", delay_s=OUTAGE_S + 2)
    swept = sweep_across_outage(env, private_redis, store, lambda: registry.app.faults.pending() == 0)
    idle = assert_all_handled_once(private_redis, store, pool)
    assert "could not reach the broker" in pool.log_text(tail=0)  # the listing's batches were refused
    store.close()
    print(swept, idle)


def test_listing_step_cut_by_an_outage_continues_the_sweep(
    registry: FakeServer,
    private_redis: PrivateRedis,
    make_env: Callable[..., dict[str, str]],
    workers: Callable[[dict[str, str]], Workers],
) -> None:
    """The outage meets the listing between two steps: the next step's message cannot be sent."""
    env, pool, store = start_workers(registry, private_redis, make_env, workers, batch_size=50, processes=1)
    # Three stalls in a row (each inside the registry client's timeout) spend the step's time
    # budget on the first page: its listing, then one of its skills' detail and versions calls. So
    # the step ends after page 1 and its only message is the next step's, sent into the outage.
    stall = LIST_BUDGET_S / 3 + 0.2
    on_first_page, _ = first_slugs(registry)
    registry.admin.inject("slow", path="/api/v1/skills", delay_s=stall)
    registry.admin.inject("slow", path=f"/api/v1/skills/{on_first_page}", count=2, delay_s=stall)
    swept = sweep_across_outage(
        env, private_redis, store, lambda: registry.app.faults.pending() == 0, lead_s=stall - 1.5
    )
    idle = assert_all_handled_once(private_redis, store, pool)
    assert re.search(r"sweep_list\[\S+\] could not reach the broker", pool.log_text(tail=0))
    store.close()
    print(swept, idle)
