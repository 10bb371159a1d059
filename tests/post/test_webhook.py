"""Signed webhook deliveries to a real receiver on loopback: body, signature, retries, failure, replay."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import replace

from skillscan.config import Settings
from skillscan.models import Verdict
from skillscan.post.deliveries import DeliveryState, DeliveryStore
from skillscan.post.pipeline import DELIVER_TASK, attempt, deliver_until_done, plan_deliveries, replay
from skillscan.post.webhook import sign, verify
from skillscan.store import VerdictStore
from tests.post.conftest import REVERSE_SHELL, SECRET, UNDECLARED_ENV, report
from tests.post.receiver import ReceiverState


def _malicious_update(store: VerdictStore) -> int:
    store.record_scan(report(Verdict.CLEAN, version="1.0.0"))
    return store.record_scan(
        report(Verdict.MALICIOUS, version="1.1.0", findings=(REVERSE_SHELL, UNDECLARED_ENV))
    )


def test_posted_body_and_signature_verify(
    store: VerdictStore, post_settings: Settings, receiver: tuple[str, ReceiverState]
) -> None:
    _, state = receiver
    scan_id = _malicious_update(store)
    (delivery,) = plan_deliveries(store, scan_id, post_settings)
    result = deliver_until_done(store, delivery.id, post_settings)
    assert result.state == "delivered"

    (received,) = state.requests
    headers = {k.lower(): v for k, v in received.headers.items()}
    ts = headers["x-skillscan-timestamp"]
    assert ts.isdigit() and abs(time.time() - int(ts)) < 60
    expected = hmac.new(SECRET.encode(), f"{ts}.".encode() + received.body, hashlib.sha256).hexdigest()
    assert headers["x-skillscan-signature"] == f"sha256={expected}"
    assert verify(SECRET, received.headers, received.body)
    assert not verify("another-secret", received.headers, received.body)
    assert not verify(SECRET, received.headers, received.body + b" ")
    assert not verify(SECRET, received.headers, received.body, now=int(ts) + 3600)  # stale replay
    assert headers["x-skillscan-delivery"] == f"{scan_id}:webhook"
    assert headers["content-type"] == "application/json"

    body = json.loads(received.body)
    assert set(body) == {
        "owner",
        "slug",
        "version",
        "fingerprint",
        "verdict",
        "previous_verdict",
        "ruleset",
        "findings",
        "report_url",
    }
    assert (body["owner"], body["slug"], body["version"]) == ("acme", "weather", "1.1.0")
    assert body["verdict"] == "malicious" and body["previous_verdict"] == "clean"
    assert body["fingerprint"] == "fp-weather-1.1.0-malicious"
    assert body["ruleset"] == "ruleset-digest-0123456789abcdef"
    assert body["report_url"] == f"https://skillscan.example.test/reports/{scan_id}"
    assert body["findings"][0] == {
        "rule_id": "bash-dev-tcp-reverse-shell",
        "category": "reverse-shell",
        "severity": "critical",
        "path": "scripts/update.sh",
        "line": 7,
        "message": "interactive shell redirected to a TCP socket",
    }
    assert len(body["findings"]) == 2
    stored = DeliveryStore(store).get(delivery.id)
    assert stored is not None and stored.state is DeliveryState.DELIVERED and stored.attempts == 1
    assert stored.body == received.body  # the stored body is exactly what was sent


def test_sign_matches_the_documented_scheme() -> None:
    body = b'{"verdict":"clean"}'
    mac = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("k", 1700000000, body) == f"sha256={mac}"


def test_receiver_failing_n_times_gets_it_after_retries(
    store: VerdictStore, post_settings: Settings, receiver: tuple[str, ReceiverState]
) -> None:
    _, state = receiver
    state.fail_first = 2
    scan_id = _malicious_update(store)
    (delivery,) = plan_deliveries(store, scan_id, post_settings)
    pauses: list[float] = []
    result = deliver_until_done(store, delivery.id, post_settings, sleep=pauses.append)
    assert result.state == "delivered" and result.attempts == 3
    assert len(state.requests) == 3 and len(state.applied) == 1
    assert len({r.body for r in state.requests}) == 1  # every attempt sent the same body
    assert len(pauses) == 2 and pauses[1] > pauses[0]  # exponential backoff
    stored = DeliveryStore(store).get(delivery.id)
    assert stored is not None and stored.state is DeliveryState.DELIVERED and stored.attempts == 3
    assert not store.failures()


def test_receiver_always_failing_ends_failed_then_replays(
    store: VerdictStore, post_settings: Settings, receiver: tuple[str, ReceiverState]
) -> None:
    _, state = receiver
    state.always_fail = True
    scan_id = _malicious_update(store)
    (delivery,) = plan_deliveries(store, scan_id, post_settings)
    result = deliver_until_done(store, delivery.id, post_settings, sleep=lambda s: None)
    assert result.state == "failed"
    assert len(state.requests) == post_settings.post_max_attempts
    stored = DeliveryStore(store).get(delivery.id)
    assert stored is not None and stored.state is DeliveryState.FAILED
    assert stored.attempts == post_settings.post_max_attempts
    assert "HTTP 503" in stored.last_error and "maintenance" in stored.last_error
    # listed as a failure that `skillscan replay` can resend
    (failure,) = store.failures()
    assert (
        failure.task == DELIVER_TASK and failure.args == [delivery.id] and failure.kwargs == {"replay": True}
    )
    assert "acme/weather@1.1.0" in failure.subject and "webhook" in failure.subject
    # a stray copy of the task does not resend a failed delivery
    assert attempt(store, delivery.id, post_settings).state == "skipped"
    assert len(state.requests) == post_settings.post_max_attempts

    state.always_fail = False
    result = replay(store, delivery.id, post_settings)
    assert result.state == "delivered"
    assert len(state.applied) == 1
    stored = DeliveryStore(store).get(delivery.id)
    assert stored is not None and stored.state is DeliveryState.DELIVERED
    assert not store.failures()  # resolved


def test_client_errors_fail_at_once_without_burning_retries(
    store: VerdictStore, post_settings: Settings, receiver: tuple[str, ReceiverState]
) -> None:
    _, state = receiver
    state.always_fail, state.fail_status = True, 410
    scan_id = _malicious_update(store)
    (delivery,) = plan_deliveries(store, scan_id, post_settings)
    result = deliver_until_done(store, delivery.id, post_settings, sleep=lambda s: None)
    assert result.state == "failed" and len(state.requests) == 1 and "HTTP 410" in result.detail


def test_a_delivered_delivery_is_never_sent_again(
    store: VerdictStore, post_settings: Settings, receiver: tuple[str, ReceiverState]
) -> None:
    _, state = receiver
    scan_id = _malicious_update(store)
    (delivery,) = plan_deliveries(store, scan_id, post_settings)
    assert attempt(store, delivery.id, post_settings).state == "delivered"
    # a redelivered task message (worker died after marking, before acking) and a second plan
    assert attempt(store, delivery.id, post_settings).state == "skipped"
    again = plan_deliveries(store, scan_id, post_settings)
    assert [d.id for d in again] == [delivery.id]
    assert attempt(store, again[0].id, post_settings).state == "skipped"
    assert len(state.requests) == 1


def test_policy_decides_what_is_posted(store: VerdictStore, post_settings: Settings) -> None:
    first_clean = store.record_scan(report(Verdict.CLEAN, slug="calm", version="1.0.0"))
    assert plan_deliveries(store, first_clean, post_settings) == []  # first sighting, clean: nothing to say
    still_clean = store.record_scan(report(Verdict.CLEAN, slug="calm", version="1.0.1"))
    assert plan_deliveries(store, still_clean, post_settings) == []
    bad = store.record_scan(report(Verdict.SUSPICIOUS, slug="calm", version="1.0.2"))
    assert [d.verdict for d in plan_deliveries(store, bad, post_settings)] == ["suspicious"]
    fixed = store.record_scan(report(Verdict.CLEAN, slug="calm", version="1.0.3"))
    (d,) = plan_deliveries(store, fixed, post_settings)  # a change back to clean is news too
    assert json.loads(d.body)["previous_verdict"] == "suspicious"
    unsure = store.record_scan(report(Verdict.INDETERMINATE, slug="other", version="2.0.0"))
    assert [d.sink for d in plan_deliveries(store, unsure, post_settings)] == ["webhook"]
    only_malicious = replace(post_settings, post_on="malicious")
    later = store.record_scan(report(Verdict.SUSPICIOUS, slug="third", version="1.0.0"))
    assert plan_deliveries(store, later, only_malicious) == []
    silent = replace(post_settings, post_on="none")
    worst = store.record_scan(report(Verdict.MALICIOUS, slug="fourth", version="1.0.0"))
    assert plan_deliveries(store, worst, silent) == []
    assert plan_deliveries(store, worst, replace(post_settings, webhook_url=None)) == []  # no sink configured


def test_flush_plans_every_stored_scan_once(store: VerdictStore, post_settings: Settings) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from skillscan.post.pipeline import due_deliveries, plan_new_scans
    from skillscan.store.schema import ScanRow, table_of

    old = store.record_scan(report(Verdict.MALICIOUS, slug="old", version="1.0.0"))
    scans = table_of(ScanRow)
    with store.engine.begin() as conn:  # history from before posting was configured
        conn.execute(
            update(scans).where(scans.c.id == old).values(scanned_at=datetime.now(UTC) - timedelta(days=2))
        )
    first = store.record_scan(report(Verdict.MALICIOUS, slug="new", version="1.0.0"))
    planned = plan_new_scans(store, post_settings)
    assert [d.scan_id for d in planned] == [first]  # recent scans only on the first run
    assert [d.id for d in due_deliveries(store, post_settings)] == [planned[0].id]
    again = plan_new_scans(store, post_settings)
    assert [d.id for d in again] == [planned[0].id]  # re-planned within the lookback: same row
    second = store.record_scan(report(Verdict.SUSPICIOUS, slug="new", version="1.0.1"))
    plan_new_scans(store, post_settings)
    rows = DeliveryStore(store).listing()
    assert sorted(d.scan_id for d in rows) == [first, second]
