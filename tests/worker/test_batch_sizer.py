"""Batch sizing adapts to how fast this process scans, and the timing arithmetic holds."""

from __future__ import annotations

from skillscan.config import Settings
from worker import celery_app as timing
from worker.context import SCAN_BUDGET_S, BatchSizer


def test_slow_batches_shrink_the_next_batch_at_once_and_fast_ones_grow_it_gradually() -> None:
    sizer = BatchSizer(budget_s=20.0, per_version_s=0.1)
    assert sizer.fits() == 200
    sizer.observe(100, 40.0)  # 0.4 s per version: a loaded machine
    assert sizer.fits() == 50
    sizer.observe(50, 2.5)  # fast again: the estimate comes down, not all the way at once
    assert 50 < sizer.fits() < 400
    for _ in range(20):
        sizer.observe(100, 2.5)
    assert sizer.fits() >= 700
    sizer.overran(100, 30.0)  # a batch of 100 still running at 30 s: at least 0.3 s each
    assert sizer.fits() <= 44
    sizer.observe(0, 10.0)  # nothing scanned: nothing learned
    assert BatchSizer(budget_s=1.0, per_version_s=5.0).fits() == 1


def test_time_limits_fit_inside_the_visibility_timeout() -> None:
    assert timing.HARD_TIME_LIMIT_S + timing.MAX_RETRY_COUNTDOWN_S < timing.VISIBILITY_TIMEOUT_S
    assert timing.VISIBILITY_TIMEOUT_S + timing.RESTORE_INTERVAL_S < 60
    assert SCAN_BUDGET_S < timing.SOFT_TIME_LIMIT_S < timing.HARD_TIME_LIMIT_S
    assert [timing.retry_countdown(n) for n in range(6)] == [1, 2, 4, 8, 8, 8]
    conf = timing.create_app(Settings()).conf
    options = conf.broker_transport_options
    assert options["visibility_timeout"] == timing.VISIBILITY_TIMEOUT_S
    assert options["unacked_restore_throttle"] == 1
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    settings = timing.worker_settings(Settings())
    assert settings.limits.semgrep_timeout_s <= timing.SCANNER_BUDGET_S
