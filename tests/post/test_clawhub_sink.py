"""Verdicts posted to the fake ClawHub's moderation endpoint with a staff token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from skillscan.config import Settings
from skillscan.models import Verdict
from skillscan.post.deliveries import DeliveryState, DeliveryStore
from skillscan.post.pipeline import deliver_until_done, plan_deliveries
from skillscan.registry.fake import FakeServer
from skillscan.store import VerdictStore
from tests.post.conftest import CLAWHUB_TOKEN, REVERSE_SHELL, UNDECLARED_ENV, report

SEED = Path(__file__).resolve().parent / "seed"
USER_TOKEN = "clh_plainUserToken0123456789abcdefABCDEFghij"


@pytest.fixture
def registry() -> Iterator[FakeServer]:
    tokens = {CLAWHUB_TOKEN: ("skillscan-bot", "moderator"), USER_TOKEN: ("someone", "user")}
    with FakeServer.seeded([SEED], tokens=tokens) as server:
        yield server


@pytest.fixture
def hub_settings(tmp_path: Path, registry: FakeServer) -> Settings:
    return replace(
        Settings(),
        data_dir=tmp_path,
        registry_url=registry.url,
        clawhub_token=CLAWHUB_TOKEN,
        post_backoff_s=0.01,
        post_backoff_max_s=0.05,
        post_max_attempts=3,
        post_timeout_s=2.0,
    )


def _posts(registry: FakeServer, version: str) -> list[dict]:
    resp = requests.get(
        f"{registry.url}/api/v1/skills/weather/versions/{version}/moderation",
        headers={"Authorization": f"Bearer {CLAWHUB_TOKEN}"},
        timeout=5,
    )
    resp.raise_for_status()
    return [item["body"] for item in resp.json()["items"]]


def _scan(store: VerdictStore, verdict: Verdict, version: str, findings=()) -> int:
    r = report(verdict, slug="weather", version=version, findings=findings)
    return store.record_scan(replace(r, skill=replace(r.skill, owner="local")))


def test_moderation_post_reaches_the_registry(
    store: VerdictStore, hub_settings: Settings, registry: FakeServer
) -> None:
    _scan(store, Verdict.CLEAN, "1.0.0")
    scan_id = _scan(store, Verdict.MALICIOUS, "1.1.0", (REVERSE_SHELL, UNDECLARED_ENV))
    (delivery,) = plan_deliveries(store, scan_id, hub_settings)
    assert delivery.sink == "clawhub" and delivery.address.endswith(
        "/versions/1.1.0/moderation?ownerHandle=local"
    )
    assert deliver_until_done(store, delivery.id, hub_settings).state == "delivered"

    (body,) = _posts(registry, "1.1.0")
    assert set(body) == {"verdict", "reasonCodes", "summary", "engineVersion", "findings"}
    assert body["verdict"] == "malicious"
    assert body["reasonCodes"] == ["bash-dev-tcp-reverse-shell", "env-undeclared"]
    assert body["summary"] == "malicious: 2 finding(s)"
    assert body["engineVersion"].startswith("skillscan-") and "+ruleset-dige" in body["engineVersion"]
    assert body["findings"][0] == {
        "code": "bash-dev-tcp-reverse-shell",
        "severity": "critical",
        "file": "scripts/update.sh",
        "line": 7,
        "message": "interactive shell redirected to a TCP socket",
    }
    assert body["findings"][1]["severity"] == "info"  # low maps to ClawHub's info
    assert _posts(registry, "1.0.0") == []  # a first clean sighting is not posted


def test_indeterminate_is_never_posted_to_clawhub(store: VerdictStore, hub_settings: Settings) -> None:
    scan_id = _scan(store, Verdict.INDETERMINATE, "1.0.0")
    assert plan_deliveries(store, scan_id, hub_settings) == []


def test_a_token_without_the_staff_role_fails_visibly(
    store: VerdictStore, hub_settings: Settings, registry: FakeServer
) -> None:
    settings = replace(hub_settings, clawhub_token=USER_TOKEN)
    scan_id = _scan(store, Verdict.SUSPICIOUS, "1.1.0")
    (delivery,) = plan_deliveries(store, scan_id, settings)
    result = deliver_until_done(store, delivery.id, settings, sleep=lambda s: None)
    assert result.state == "failed" and "HTTP 403" in result.detail and result.attempts == 1
    assert USER_TOKEN not in result.detail
    stored = DeliveryStore(store).get(delivery.id)
    assert stored is not None and stored.state is DeliveryState.FAILED
    (failure,) = store.failures()
    assert "clawhub" in failure.subject and USER_TOKEN not in failure.error
    assert _posts(registry, "1.1.0") == []


def test_registry_outage_is_retried(
    store: VerdictStore, hub_settings: Settings, registry: FakeServer
) -> None:
    registry.app.admin.inject(
        "error", status=503, count=2, path="/api/v1/skills/weather/versions/1.1.0/moderation"
    )
    scan_id = _scan(store, Verdict.SUSPICIOUS, "1.1.0")
    (delivery,) = plan_deliveries(store, scan_id, hub_settings)
    result = deliver_until_done(store, delivery.id, hub_settings, sleep=lambda s: None)
    assert result.state == "delivered" and result.attempts == 3
    assert [b["verdict"] for b in _posts(registry, "1.1.0")] == ["suspicious"]
