"""Sweeps and polls through real `skillscan worker` processes, real Redis and the fake ClawHub over HTTP."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from skillscan.registry.fake import FakeServer
from skillscan.store import VerdictStore
from tests.conftest import postgres_schema_url
from tests.worker.conftest import (
    SCANNABLE,
    SKILLSCAN,
    Workers,
    app_for,
    run_cli,
    unacked,
    versions_scanned,
    wait_until,
)

pytestmark = pytest.mark.slow


def test_sweep_stores_one_verdict_per_version_and_outcomes(
    registry: FakeServer,
    make_env: Callable[..., dict[str, str]],
    workers: Callable[[dict[str, str]], Workers],
) -> None:
    env = make_env(registry.url)
    pool = workers(env)
    pool.start(concurrency=1)

    done = run_cli(env, "sweep", "--registry", registry.url, "--wait", "--timeout", "150")
    assert done.returncode == 0, done.stdout + done.stderr + pool.log_text()
    assert "scanned 4" in done.stdout and "failures 0" in done.stdout

    store = VerdictStore(env["SKILLSCAN_DATABASE_URL"])
    counts = versions_scanned(store)
    assert set(counts) == SCANNABLE and set(counts.values()) == {1}, counts
    verdicts = {(s.slug, s.version): s for s in store.latest_per_version()}
    assert verdicts[("weather", "1.1.0")].verdict != "clean"
    published = registry.store.find_exact("tester", "weather")
    assert published is not None
    assert verdicts[("weather", "1.1.0")].fingerprint == published.versions["1.1.0"].fingerprint
    kinds = {(o.slug, o.kind) for o in store.outcomes()}
    assert {
        ("waiting", "pending-upstream-scan"),
        ("flagged", "blocked-upstream"),
        ("mirrored", "github-backed"),
    } <= kinds

    listed = run_cli(env, "verdicts", "--format", "jsonl")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {(r["slug"], r["version"]) for r in rows} == SCANNABLE
    assert all({"owner", "fingerprint", "verdict", "ruleset", "scanned_at"} <= r.keys() for r in rows)
    malicious_only = run_cli(env, "verdicts", "--verdict", "clean", "--format", "jsonl")
    assert all(json.loads(line)["verdict"] == "clean" for line in malicious_only.stdout.splitlines())

    # A repeat sweep is a no-op for what is stored: nothing new is scanned, no row is added.
    again = run_cli(env, "sweep", "--registry", registry.url, "--wait", "--timeout", "120")
    assert again.returncode == 0, again.stderr
    assert "scanned 0" in again.stdout
    assert versions_scanned(store) == counts

    # The pending version is asked about again by the next poll, and scanned once it is released.
    registry.admin.set_moderation({"waiting": "clean"})
    app = app_for(env)
    app.send_task("skillscan.poll_registry", kwargs={"registry": registry.url}, queue="sweep")
    wait_until(lambda: ("waiting", "1.0.0") in versions_scanned(store), 60, "the released version's scan")
    assert set(versions_scanned(store).values()) == {1}
    store.close()


def test_poll_scans_versions_published_after_the_mark(
    registry: FakeServer,
    make_env: Callable[..., dict[str, str]],
    workers: Callable[[dict[str, str]], Workers],
) -> None:
    env = make_env(registry.url)
    pool = workers(env)
    pool.start(concurrency=1)
    app = app_for(env)
    store = VerdictStore(env["SKILLSCAN_DATABASE_URL"])

    app.send_task("skillscan.poll_registry", kwargs={"registry": registry.url}, queue="sweep")
    wait_until(lambda: store.get_state(f"poll:{registry.url}"), 30, "the first poll's mark")
    assert store.count_scans() == 0  # the first poll starts at "now"; the sweep covers the past

    registry.admin.publish(
        "notes", "1.1.0", {"SKILL.md": "---\nname: notes\ndescription: notes\n---\n# notes\n"}, owner="tester"
    )
    registry.admin.publish(
        "fresh", "0.1.0", {"SKILL.md": "---\nname: fresh\ndescription: new\n---\n# fresh\n"}, owner="tester"
    )
    app.send_task("skillscan.poll_registry", kwargs={"registry": registry.url}, queue="sweep")
    wait_until(
        lambda: set(versions_scanned(store)) == {("notes", "1.1.0"), ("fresh", "0.1.0")},
        60,
        "scans of the two new versions",
    )
    app.send_task("skillscan.poll_registry", kwargs={"registry": registry.url}, queue="sweep")
    time.sleep(4)  # a third poll finds nothing new; nothing older than the first mark was ever scanned
    counts = versions_scanned(store)
    assert set(counts) == {("notes", "1.1.0"), ("fresh", "0.1.0")} and set(counts.values()) == {1}, counts
    store.close()


def test_worker_killed_mid_sweep_loses_and_duplicates_nothing(
    registry: FakeServer,
    make_env: Callable[..., dict[str, str]],
    workers: Callable[[dict[str, str]], Workers],
) -> None:
    env = make_env(registry.url, sweep_batch_size="1")
    broker = redis.Redis.from_url(env["SKILLSCAN_BROKER_URL"])
    prefix = env["SKILLSCAN_BROKER_KEY_PREFIX"]
    registry.admin.inject("slow", path="/api/v1/download", count=100, delay_s=1.0)  # a task holds its message
    pool = workers(env)
    first = pool.start(concurrency=1)
    store = VerdictStore(env["SKILLSCAN_DATABASE_URL"])
    sweep = subprocess.Popen(
        [SKILLSCAN, "sweep", "--registry", registry.url, "--wait", "--timeout", "170"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: store.count_scans() >= 1 and unacked(broker, prefix), 90, "a stored scan, a held task"
        )
        pool.kill(first)
        killed = time.monotonic()
        held = unacked(broker, prefix)  # what the dead worker fetched and can never ack
        assert held and store.count_scans() < len(SCANNABLE)
        pool.start(concurrency=1)
        # Back in its queue (and maybe fetched again, under a new time) within 60 s of the death.
        wait_until(
            lambda: all(unacked(broker, prefix).get(tag) != at for tag, at in held.items()),
            70,
            "the dead worker's task back in its queue",
        )
        returned = time.monotonic() - killed
        out, err = sweep.communicate(timeout=180)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    took = time.monotonic() - killed
    assert sweep.returncode == 0, out + err + pool.log_text()
    counts = versions_scanned(store)
    assert set(counts) == SCANNABLE and set(counts.values()) == {1}, counts
    print(f"the dead worker's task was back {returned:.1f}s after the kill; sweep done after {took:.1f}s")
    assert returned < 60, f"the dead worker's task came back {returned:.0f}s after the kill"
    store.close()
    broker.close()


def test_task_that_keeps_killing_its_worker_ends_recorded_as_failed(
    registry: FakeServer,
    make_env: Callable[..., dict[str, str]],
    workers: Callable[[dict[str, str]], Workers],
) -> None:
    env = make_env(registry.url, task_max_deliveries="2")
    pool = workers(env)
    pool.start(concurrency=1, queues="sweep", app="tests.worker.crashing_app")
    app = app_for(env)
    app.send_task("skillscan.test.crash_worker", kwargs={"marker": "x"}, queue="sweep")
    store = VerdictStore(env["SKILLSCAN_DATABASE_URL"])
    wait_until(lambda: store.failures(), 90, "the crashing task's failure record")
    (failure,) = store.failures()
    assert failure.task == "skillscan.test.crash_worker" and "delivered 3 times" in failure.error
    listed = run_cli(env, "failures", "--format", "jsonl")
    assert json.loads(listed.stdout.splitlines()[0])["task"] == "skillscan.test.crash_worker"
    store.close()


def test_failed_scans_are_recorded_and_replayed(
    registry: FakeServer,
    make_env: Callable[..., dict[str, str]],
    workers: Callable[[dict[str, str]], Workers],
) -> None:
    env = make_env(registry.url)
    pool = workers(env)
    pool.start(concurrency=1)
    store = VerdictStore(env["SKILLSCAN_DATABASE_URL"])
    app = app_for(env)
    registry.admin.inject("error", status=503, count=1000, path="/api/v1/download")
    app.send_task(
        "skillscan.scan_version", args=["tester", "notes", "1.0.0"], kwargs={"registry": registry.url}
    )
    wait_until(lambda: store.failures(), 90, "the failure after retries")
    (failure,) = store.failures()
    assert failure.subject == "tester/notes@1.0.0" and "unavailable" in failure.error
    assert store.count_scans() == 0

    registry.admin.reset()
    replayed = run_cli(env, "replay", str(failure.id))
    assert replayed.returncode == 0, replayed.stderr
    wait_until(lambda: store.count_scans() == 1, 60, "the replayed scan")
    resolved = store.get_failure(failure.id)
    assert resolved is not None and resolved.status == "resolved"
    store.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from postgres_schema_url()


def test_sweep_into_postgresql(
    registry: FakeServer,
    pg_url: str,
    make_env: Callable[..., dict[str, str]],
    workers: Callable[[dict[str, str]], Workers],
) -> None:
    env = make_env(registry.url, database_url=pg_url, sweep_batch_size="4")
    workers(env).start(concurrency=1)
    done = run_cli(env, "sweep", "--registry", registry.url, "--wait", "--timeout", "150")
    assert done.returncode == 0, done.stdout + done.stderr
    store = VerdictStore(pg_url)
    counts = versions_scanned(store)
    assert set(counts) == SCANNABLE and set(counts.values()) == {1}
    store.close()
