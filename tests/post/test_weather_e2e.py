"""End to end: the two-version weather seed from the fake ClawHub through the scan pipeline.

weather@1.0.0 is clean; weather@1.1.0 adds a reverse shell. The update finding lands on 1.1.0
only, the report page's diff shows it, and the verdict reaches a signed webhook.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from skillscan.config import Settings
from skillscan.diff import RULE_ID, diff_for_scan
from skillscan.models import Severity, Verdict
from skillscan.pipeline import Pipeline, Status, Target
from skillscan.post.pipeline import deliver_until_done, plan_new_scans
from skillscan.registry.clawhub import ClawHubClient
from skillscan.registry.fake import FakeServer
from skillscan.store import VerdictStore
from tests.post.receiver import ReceiverState

SEED = Path(__file__).resolve().parent / "seed"
scan_module = pytest.importorskip("skillscan.scan")
rules_module = pytest.importorskip("skillscan.rules")


@pytest.fixture
def registry() -> Iterator[FakeServer]:
    with FakeServer.seeded([SEED]) as server:
        yield server


def _pipeline(settings: Settings, store: VerdictStore, registry: FakeServer) -> Pipeline:
    client = ClawHubClient(registry.url, timeout_s=10, limits=settings.limits)
    return Pipeline(
        settings,
        store,
        client,
        lambda: scan_module.Scanner(settings),
        rules_module.ruleset_digest(settings),
    )


def _update_findings(store: VerdictStore, scan_id: int | None) -> list:
    assert scan_id is not None
    stored = store.get_scan(scan_id)
    assert stored is not None
    return [f for f in stored.report.findings if f.rule_id == RULE_ID]


@pytest.mark.parametrize("one_batch", [False, True])
def test_weather_update_is_flagged_and_posted(
    store: VerdictStore,
    post_settings: Settings,
    registry: FakeServer,
    receiver: tuple[str, ReceiverState],
    one_batch: bool,
) -> None:
    _, state = receiver
    settings = replace(post_settings, registry_url=registry.url)
    pipeline = _pipeline(settings, store, registry)
    old, new = Target("local", "weather", "1.0.0"), Target("local", "weather", "1.1.0")
    assert plan_new_scans(store, settings) == []  # sets the posting mark on an empty store
    try:
        if one_batch:  # a listing returns the newest first
            by_target = {r.target: r for r in pipeline.scan_targets([new, old])}
        else:
            by_target = {r.target: r for r in pipeline.scan_targets([old])}
            by_target.update({r.target: r for r in pipeline.scan_targets([new])})
    finally:
        pipeline.close()
    assert by_target[old].status is Status.SCANNED and by_target[new].status is Status.SCANNED

    assert _update_findings(store, by_target[old].scan_id) == []
    (finding,) = _update_findings(store, by_target[new].scan_id)
    assert finding.severity is Severity.HIGH
    assert "203.0.113.7" in finding.message and finding.path == "scripts/update.sh"
    assert by_target[new].verdict in (str(Verdict.MALICIOUS), str(Verdict.SUSPICIOUS))

    assert by_target[new].scan_id is not None
    page = diff_for_scan(store, by_target[new].scan_id)
    assert page is not None and page.previous_version == "1.0.0"
    assert "203.0.113.7" in page.to_dict()["added"]["network_hosts"]

    planned = plan_new_scans(store, settings)  # what the beat's flush does
    posted = [d for d in planned if d.scan_id == by_target[new].scan_id]
    assert len(posted) == 1
    assert deliver_until_done(store, posted[0].id, settings).state == "delivered"
    bodies = [b for b in state.bodies() if b["version"] == "1.1.0"]
    assert len(bodies) == 1 and bodies[0]["slug"] == "weather"
    assert RULE_ID in {f["rule_id"] for f in bodies[0]["findings"]}
    assert all(json.loads(r.body)["version"] != "1.0.0" for r in state.requests)  # clean first version
