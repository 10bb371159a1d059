"""The pipeline in-process (no Celery): real scanner, real store, the fake ClawHub over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from skillscan.config import Limits, Settings
from skillscan.models import ScanError, Verdict
from skillscan.pipeline import BatchOverrun, Pipeline, Status, Target
from skillscan.registry.fake import FakeServer
from tests.conftest import make_report
from tests.worker.conftest import write_skill
from worker.celery_app import worker_settings
from worker.context import WorkerContext


@pytest.fixture
def context(tmp_path: Path) -> Iterator[tuple[WorkerContext, FakeServer]]:
    seeds = tmp_path / "seeds"
    write_skill(seeds, "notes", "1.0.0")
    write_skill(seeds, "lure", "1.0.0", kind="lure")
    write_skill(seeds, "waiting", "1.0.0")
    with FakeServer.seeded([seeds], moderation={"waiting": "pending"}) as server:
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'v.db'}", registry_url=server.url)
        ctx = WorkerContext(worker_settings(settings))
        yield ctx, server
        ctx.close()


NOTES = Target("tester", "notes", "1.0.0")
LURE = Target("tester", "lure", "1.0.0")
WAITING = Target("tester", "waiting", "1.0.0")
MISSING = Target("tester", "nosuch", "1.0.0")


def test_batch_results_outcomes_and_repeat(context: tuple[WorkerContext, FakeServer]) -> None:
    ctx, server = context
    pipeline = ctx.pipeline(server.url)
    results = pipeline.scan_targets([NOTES, LURE, WAITING, MISSING, NOTES])
    by_target = {r.target: r for r in results}
    assert len(results) == 4  # the duplicate is scanned once
    assert by_target[NOTES].status is Status.SCANNED and by_target[NOTES].scan_id
    assert by_target[LURE].status is Status.SCANNED and by_target[LURE].verdict != "clean"
    assert by_target[WAITING].status is Status.OUTCOME
    assert by_target[MISSING].status is Status.OUTCOME
    kinds = {(o.slug, o.kind) for o in ctx.store.outcomes()}
    assert kinds == {("waiting", "pending-upstream-scan"), ("nosuch", "not-found")}
    stored = ctx.store.get_scan(by_target[NOTES].scan_id or 0)
    assert stored is not None and stored.fingerprint and stored.ruleset == ctx.ruleset

    again = {r.target: r.status for r in pipeline.scan_targets([NOTES, LURE])}
    assert again == {NOTES: Status.UNCHANGED, LURE: Status.UNCHANGED}
    assert ctx.store.count_scans() == 2


def test_a_batch_past_its_deadline_stores_nothing(context: tuple[WorkerContext, FakeServer]) -> None:
    ctx, server = context
    with pytest.raises(BatchOverrun):
        ctx.pipeline(server.url).scan_targets([NOTES, LURE], deadline=time.monotonic() - 1)
    assert ctx.store.count_scans() == 0
    # A single version is stored whatever the clock says: there is nothing smaller to split into.
    (one,) = ctx.pipeline(server.url).scan_targets([NOTES], deadline=time.monotonic() - 1)
    assert one.status is Status.SCANNED


def test_registry_down_means_retry_not_a_verdict(context: tuple[WorkerContext, FakeServer]) -> None:
    ctx, server = context
    server.admin.inject("error", status=503, count=1000, path="/api/v1/download")
    (result,) = ctx.pipeline(server.url).scan_targets([NOTES])
    assert result.status is Status.RETRY
    assert ctx.store.count_scans() == 0
    assert [o.kind for o in ctx.store.outcomes()] == ["unavailable"]


def test_bad_targets_are_refused() -> None:
    with pytest.raises(ValueError):
        Target.from_args(["owner", "", "1.0.0"])
    with pytest.raises(ValueError):
        Target.from_args(["owner", "slug"])
    assert Target.from_args(["", "slug", "1.0.0"]).to_args() == ["", "slug", "1.0.0"]


def test_an_engine_out_of_time_on_a_batch_stores_nothing(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write_skill(seeds, "sync-a", "1.0.0", kind="revshell")  # a script: Semgrep has work to do
    write_skill(seeds, "sync-b", "1.0.0", kind="revshell")
    with FakeServer.seeded([seeds]) as server:
        limits = replace(Limits(), semgrep_timeout_s=0.001)  # no Semgrep run finishes in time
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / 'v.db'}", registry_url=server.url, limits=limits
        )
        ctx = WorkerContext(worker_settings(settings))
        try:
            pipeline = ctx.pipeline(server.url)
            batch = [Target("tester", "sync-a", "1.0.0"), Target("tester", "sync-b", "1.0.0")]
            with pytest.raises(BatchOverrun, match="semgrep ran out of time on a batch of 2"):
                pipeline.scan_targets(batch)
            assert ctx.store.count_scans() == 0
            # Alone, a version keeps its incomplete verdict: there is nothing smaller to split into.
            (one,) = pipeline.scan_targets(batch[:1])
            assert one.status is Status.SCANNED
            stored = ctx.store.get_scan(one.scan_id or 0)
            assert stored is not None
            assert [e.analyzer for e in stored.report.errors] == ["semgrep"]
        finally:
            ctx.close()


def test_only_an_engine_stopped_at_its_time_limit_splits_a_batch() -> None:
    """An engine failure that is not a timeout would fail the same way on a smaller batch: the
    versions keep their indeterminate verdicts instead of being scanned again one by one."""
    timed = make_report(verdict=Verdict.INDETERMINATE)  # semgrep stopped at its time limit
    crashed = replace(timed, errors=(ScanError("semgrep", None, "semgrep exited 2: fatal"),))
    one_file = replace(timed, errors=(ScanError("yara", "SKILL.md", "YARA scan timed out", timed_out=True),))
    assert Pipeline._out_of_time([make_report(), timed]) == "semgrep"
    assert Pipeline._out_of_time([crashed, make_report()]) is None
    assert Pipeline._out_of_time([one_file]) is None  # one file's limit: a smaller batch would not help
