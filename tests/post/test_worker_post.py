"""The `post` queue with a real Celery worker on Redis (DB 4): retries, and recovery from a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from skillscan.config import Settings
from skillscan.models import Verdict
from skillscan.post.deliveries import DeliveryState, DeliveryStore
from skillscan.store import VerdictStore
from tests.conftest import REPO_ROOT
from tests.post.conftest import REVERSE_SHELL, SECRET, report
from tests.post.receiver import ReceiverState

BROKER = "redis://127.0.0.1:6379/4"
pytestmark = pytest.mark.slow
CELERY_WORKER = [
    sys.executable,
    "-m",
    "celery",
    "-A",
    "worker.celery_app",
    "worker",
    "-Q",
    "post",
    "--pool",
    "solo",
]


@pytest.fixture
def broker(redis_available: None) -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    yield BROKER
    client.flushdb()
    client.close()


def _env(store: VerdictStore, url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLSCAN_")}
    env.update(
        {
            "SKILLSCAN_BROKER_URL": BROKER,
            "SKILLSCAN_DATABASE_URL": store.url,
            "SKILLSCAN_DATA_DIR": str(tmp_path),
            "SKILLSCAN_WEBHOOK_URL": url,
            "SKILLSCAN_WEBHOOK_SECRET": SECRET,
            "SKILLSCAN_POST_BACKOFF_S": "0.3",
            "SKILLSCAN_POST_TIMEOUT_S": "1",
            "SKILLSCAN_POST_FLUSH_S": "0",
            "SKILLSCAN_POLL_INTERVAL_S": "0",
        }
    )
    return env


def _start_worker(env: dict[str, str], tmp_path: Path) -> subprocess.Popen[bytes]:
    log = open(tmp_path / f"worker-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [*CELERY_WORKER, "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _sender(tmp_path: Path) -> Any:
    from worker.celery_app import create_app

    return create_app(replace(Settings(), broker_url=BROKER, data_dir=tmp_path))


def test_worker_retries_a_failing_receiver(
    broker: str, store: VerdictStore, receiver: tuple[str, ReceiverState], tmp_path: Path
) -> None:
    url, state = receiver
    state.fail_first = 2
    scan_id = store.record_scan(report(Verdict.MALICIOUS, version="1.1.0", findings=(REVERSE_SHELL,)))
    proc = _start_worker(_env(store, url, tmp_path), tmp_path)
    try:
        _sender(tmp_path).send_task("skillscan.post.post_verdict", args=[scan_id], queue="post")
        _wait(lambda: len(state.applied) == 1)
    finally:
        _stop(proc)
    (delivery,) = DeliveryStore(store).for_scan(scan_id)
    assert delivery.state is DeliveryState.DELIVERED and delivery.attempts == 3
    assert len(state.requests) == 3 and all(r.signature_ok for r in state.requests)


def test_killed_worker_loses_nothing_and_duplicates_nothing(
    broker: str, store: VerdictStore, receiver: tuple[str, ReceiverState], tmp_path: Path
) -> None:
    url, state = receiver
    scan_id = store.record_scan(report(Verdict.MALICIOUS, version="1.1.0", findings=(REVERSE_SHELL,)))
    env = _env(store, url, tmp_path)
    first = _start_worker(env, tmp_path)
    state.kill_sender_pid = first.pid  # the solo worker sends itself: SIGKILL it as the request lands
    sender = _sender(tmp_path)
    try:
        sender.send_task("skillscan.post.post_verdict", args=[scan_id], queue="post")
        first.wait(timeout=60)
    finally:
        _stop(first)
    assert first.returncode == -signal.SIGKILL and len(state.requests) == 1
    (delivery,) = DeliveryStore(store).for_scan(scan_id)
    assert delivery.state is DeliveryState.SENDING  # in flight when its sender died

    second = _start_worker(env, tmp_path)
    try:
        time.sleep(2 * 1.0 + 1.2)  # the dead sender's lease (2 × post timeout + 1 s) runs out
        sender.send_task("skillscan.post.flush", queue="post")  # what beat sends
        _wait(lambda: len(state.requests) == 2)
        _wait(lambda: DeliveryStore(store).for_scan(scan_id)[0].state is DeliveryState.DELIVERED)
        # more flushes (and the dead worker's message, when Redis restores it) change nothing
        sender.send_task("skillscan.post.flush", queue="post")
        sender.send_task("skillscan.post.deliver", args=[delivery.id], queue="post")
        time.sleep(1.5)
    finally:
        _stop(second)
    assert len(state.requests) == 2 and len(state.applied) == 1 and state.duplicates == 1
    (done,) = DeliveryStore(store).for_scan(scan_id)
    assert done.state is DeliveryState.DELIVERED and done.attempts == 2


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from skillscan.cli import main; main()", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_failed_delivery_is_listed_and_replayed_by_the_cli(
    broker: str, store: VerdictStore, receiver: tuple[str, ReceiverState], tmp_path: Path
) -> None:
    import json

    from skillscan.post.pipeline import deliver_until_done, plan_deliveries

    url, state = receiver
    env = _env(store, url, tmp_path)
    settings = replace(
        Settings(), webhook_url=url, webhook_secret=SECRET, post_max_attempts=2, post_timeout_s=1.0
    )
    state.always_fail = True
    scan_id = store.record_scan(report(Verdict.MALICIOUS, version="1.1.0", findings=(REVERSE_SHELL,)))
    (delivery,) = plan_deliveries(store, scan_id, settings)
    assert deliver_until_done(store, delivery.id, settings, sleep=lambda s: None).state == "failed"

    listed = _cli(env, "failures", "--format", "jsonl")
    assert listed.returncode == 0, listed.stderr
    (failure,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert failure["task"] == "skillscan.post.deliver" and "webhook" in failure["subject"]
    assert "HTTP 503" in failure["error"]

    state.always_fail = False
    replayed = _cli(env, "replay", str(failure["id"]))
    assert replayed.returncode == 0, replayed.stderr
    proc = _start_worker(env, tmp_path)
    try:
        _wait(lambda: len(state.applied) == 1)
        _wait(lambda: DeliveryStore(store).for_scan(scan_id)[0].state is DeliveryState.DELIVERED)
    finally:
        _stop(proc)
    assert store.failures() == []  # resolved once delivered
    again = _cli(env, "failures", "--format", "jsonl")
    assert again.stdout.strip() == ""
