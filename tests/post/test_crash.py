"""A sender killed mid-delivery: the delivery is taken over once, and the receiver applies it once."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace

from skillscan.config import Settings
from skillscan.models import Verdict
from skillscan.post.deliveries import DeliveryState, DeliveryStore
from skillscan.post.pipeline import attempt, due_deliveries, lease_s, plan_deliveries
from skillscan.store import VerdictStore
from tests.conftest import REPO_ROOT
from tests.post.conftest import REVERSE_SHELL, SECRET, report
from tests.post.receiver import ReceiverState


def test_no_duplicate_delivery_after_a_sender_crash(
    store: VerdictStore, post_settings: Settings, receiver: tuple[str, ReceiverState]
) -> None:
    url, state = receiver
    settings = replace(post_settings, post_timeout_s=0.5)
    scan_id = store.record_scan(report(Verdict.MALICIOUS, version="1.1.0", findings=(REVERSE_SHELL,)))
    (delivery,) = plan_deliveries(store, scan_id, settings)

    sender = subprocess.Popen(
        [sys.executable, "-m", "tests.post.deliver_once", store.url, str(delivery.id), url, SECRET, "0.5"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    state.kill_sender_pid = sender.pid  # SIGKILL the moment the request arrives, before any answer
    sender.wait(timeout=60)
    assert sender.returncode == -9
    assert len(state.requests) == 1  # the receiver got it; the sender never learned so

    crashed = DeliveryStore(store).get(delivery.id)
    assert crashed is not None and crashed.state is DeliveryState.SENDING and crashed.attempts == 1
    # a copy of the task arriving at once (before the crashed sender's lease lapsed) sends nothing
    early = attempt(store, delivery.id, settings)
    assert early.state == "retry" and len(state.requests) == 1
    assert due_deliveries(store, settings) == []

    time.sleep(lease_s(settings) + 0.2)
    assert [d.id for d in due_deliveries(store, settings)] == [delivery.id]  # the flush picks it up
    result = attempt(store, delivery.id, settings)  # the redelivered task
    assert result.state == "delivered" and result.attempts == 2
    # same idempotency key and same body: the receiver applies it once
    assert len(state.requests) == 2
    assert {r.headers["X-Skillscan-Delivery"] for r in state.requests} == {f"{scan_id}:webhook"}
    assert state.requests[0].body == state.requests[1].body
    assert len(state.applied) == 1 and state.duplicates == 1

    # any later copy of the task is a no-op
    assert attempt(store, delivery.id, settings).state == "skipped"
    assert len(state.requests) == 2
    assert due_deliveries(store, settings) == []
