"""Thin Celery tasks on ids, the scanning ones; the work is in `skillscan.pipeline`. Discovery (the
registry poll and the sweep's listing) is in `worker.discovery_tasks`.

Every task is acked late, redelivered when its worker dies, and counted per delivery in the
store: a message delivered more than `task_max_deliveries` times (it keeps killing workers) is
split (batches) or recorded as a failure instead of running again. A task that cannot send its
messages because the broker is down puts its own message back and runs again later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from celery import Task
from celery.exceptions import Reject, SoftTimeLimitExceeded, TimeLimitExceeded
from celery.signals import task_postrun, worker_process_init
from kombu.exceptions import OperationalError

from skillscan.errors import StoreError
from skillscan.memory import limit_heap_arenas, release_free_memory
from skillscan.pipeline import BatchOverrun, Result, Status, Target, summarize
from skillscan.store import StoreBusy, SweepItemResult
from worker.celery_app import (
    SOFT_TIME_LIMIT_S,
    app,
    retry_countdown,
)
from worker.context import DEADLINE_MARGIN_S

log = logging.getLogger("skillscan.worker")


@worker_process_init.connect
def _pool_process_started(**_: Any) -> None:
    limit_heap_arenas()  # before download and analyzer threads get arenas of their own


@task_postrun.connect
def _task_finished(**_: Any) -> None:
    release_free_memory()  # after any task, not only scans: downloads and posts free buffers too


SCAN_VERSION = "skillscan.scan_version"
SCAN_BATCH = "skillscan.scan_batch"
MAX_RETRIES = 4


class SkillscanTask(Task):
    """Delivery cap + failure recording shared by every skillscan task."""

    abstract = True
    record_failures = True
    started = 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.started = time.monotonic()  # close to when the pool started this task's time limits
        request = self.request
        if request.id and not request.is_eager:
            ctx = self.app.context()
            try:
                deliveries = ctx.store.bump_delivery(f"{request.id}:{request.retries}")
            except StoreError as e:  # counting is a safeguard; never the reason a task fails
                log.warning("could not count the delivery of %s: %s", request.id, e)
                deliveries = 1
            if deliveries > ctx.settings.task_max_deliveries:
                log.error(
                    "%s[%s] was delivered %d times; its worker died each time",
                    self.name,
                    request.id,
                    deliveries,
                )
                return self.gave_up(
                    list(args), kwargs, f"delivered {deliveries} times: its worker died each time"
                )
        try:
            return super().__call__(*args, **kwargs)
        except OperationalError as e:
            # The broker went away while this task was sending messages (batches, its next step, a
            # split or retry), after the driver's own short retries. Acking would lose what was not
            # sent; the message goes back to its queue instead (once the worker has reconnected, or
            # by the visibility timeout) and the task runs again: what it already did is idempotent.
            log.warning("%s[%s] could not reach the broker (%s): it will run again", self.name, request.id, e)
            raise Reject(e, requeue=True) from e

    def gave_up(self, args: list[Any], kwargs: dict[str, Any], error: str) -> dict[str, Any]:
        if self.record_failures:
            self.app.context().store.record_failure(
                self.name, args, kwargs, queue=_queue(self), subject=_subject(kwargs), error=error
            )
        return {"failed": error}

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """A task that raised (after its retries) or hit the hard time limit: record it for replay."""
        if not self.record_failures:
            return
        error = f"{type(exc).__name__}: {exc}"
        try:
            fail_targets(self, dict(kwargs or {}), error, list(args or []))
        except StoreError as e:
            log.error("could not record the failure of %s[%s] (%s): %s", self.name, task_id, error, e)


def _queue(task: Task) -> str:
    info = task.request.delivery_info or {}
    return str(info.get("routing_key") or "sweep")


def _subject(kwargs: dict[str, Any]) -> str:
    targets = kwargs.get("targets")
    if isinstance(targets, list) and targets:
        try:
            return str(Target.from_args(targets[0])) if len(targets) == 1 else f"batch of {len(targets)}"
        except ValueError:
            return "invalid targets"
    return str(kwargs.get("registry") or "")


def fail_targets(task: Task, kwargs: dict[str, Any], error: str, args: list[Any] | None = None) -> None:
    """Record each version of a failed scan task as its own replayable failure (and in its sweep)."""
    store = task.app.context().store
    raw = kwargs.get("targets")
    if raw is None and task.name == SCAN_VERSION and args and len(args) >= 3:
        raw = [list(args[:3])]
    targets: list[Target] = []
    if isinstance(raw, list):
        for item in raw:
            try:
                targets.append(Target.from_args(item))
            except ValueError:
                continue
    if not targets:
        store.record_failure(
            task.name, args or [], kwargs, queue=_queue(task), subject=_subject(kwargs), error=error
        )
        return
    registry = kwargs.get("registry")
    for target in targets:
        store.record_failure(
            SCAN_VERSION,
            [],
            {"targets": [target.to_args()], "registry": registry, "source": kwargs.get("source", "sweep")},
            queue="sweep",
            subject=str(target),
            error=error,
        )
    sweep_id = kwargs.get("sweep_id")
    if isinstance(sweep_id, int):
        store.finish_sweep_items(sweep_id, [SweepItemResult(*t.key, status="failed") for t in targets])


# -- scanning --------------------------------------------------------------------------------


class ScanTask(SkillscanTask):
    abstract = True

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """A batch killed at the hard time limit is split, not failed: its versions were not the
        problem as much as its size on a busy machine (a single version is recorded as failed)."""
        targets = (kwargs or {}).get("targets")
        if isinstance(exc, TimeLimitExceeded) and isinstance(targets, list) and len(targets) > 1:
            try:
                split([Target.from_args(one) for one in targets], **_pass_on(kwargs))
                return
            except Exception as e:  # the broker is down too: record the failure instead
                log.error("could not split %s[%s] after its time limit: %s", self.name, task_id, e)
        super().on_failure(exc, task_id, args, kwargs, einfo)

    def gave_up(self, args: list[Any], kwargs: dict[str, Any], error: str) -> dict[str, Any]:
        targets = kwargs.get("targets") or []
        if isinstance(targets, list) and len(targets) > 1:
            # One poisonous skill must not sink its batch: halve it until the culprit is alone.
            split([Target.from_args(one) for one in targets], **_pass_on(kwargs))
            return {"split": len(targets)}
        fail_targets(self, kwargs, error, args)
        return {"failed": error}


def _pass_on(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        "sweep_id": kwargs.get("sweep_id"),
        "source": kwargs.get("source", "sweep"),
        "registry": kwargs.get("registry"),
        "force": bool(kwargs.get("force", False)),
    }


def enqueue_scan(
    targets: Sequence[Target],
    *,
    sweep_id: int | None = None,
    source: str = "sweep",
    registry: str | None = None,
    task: str = SCAN_BATCH,
    queue: str = "sweep",
    force: bool = False,
) -> None:
    kwargs: dict[str, Any] = {
        "targets": [t.to_args() for t in targets],
        "sweep_id": sweep_id,
        "source": source,
        "registry": registry,
    }
    if force:
        kwargs["force"] = True
    app.send_task(task, kwargs=kwargs, queue=queue)


def split(targets: Sequence[Target], **kwargs: Any) -> None:
    """Enqueue a batch again as two halves (a single version goes to `scan_version`)."""
    half = (len(targets) + 1) // 2
    for part in (targets[:half], targets[half:]):
        if part:
            enqueue_scan(part, task=SCAN_VERSION if len(part) == 1 else SCAN_BATCH, **kwargs)


def run_scan(
    task: Task,
    targets: list[Any],
    sweep_id: int | None,
    source: str,
    registry: str | None,
    force: bool = False,
) -> dict[str, Any]:
    try:
        parsed = [Target.from_args(t) for t in targets]
    except (ValueError, TypeError) as e:  # bad input is not retried
        task.app.context().store.record_failure(
            task.name, [], {"targets": targets}, subject="invalid", error=str(e)
        )
        return {"failed": str(e)}
    ctx = task.app.context()
    pipeline = ctx.pipeline(registry)
    started = getattr(task, "started", None) or time.monotonic()
    fits = ctx.sizer.fits()
    if len(parsed) > fits:  # this process is slower than the batch size assumes: hand on the rest
        rest = parsed[fits:]
        enqueue_scan(
            rest,
            sweep_id=sweep_id,
            source=source,
            registry=registry,
            force=force,
            task=SCAN_VERSION if len(rest) == 1 else SCAN_BATCH,
        )
        parsed = parsed[:fits]
    # The scanner turns an interrupt inside an engine into an engine error, so a soft time limit
    # that fired during the scan shows only in the clock: such reports are not stored.
    deadline = started + SOFT_TIME_LIMIT_S - DEADLINE_MARGIN_S
    try:
        results = pipeline.scan_targets(
            parsed, source=source, sweep_id=sweep_id, force=force, deadline=deadline
        )
        ctx.sizer.observe(len(parsed), time.monotonic() - started)
    except StoreBusy as e:
        raise task.retry(
            exc=e, countdown=retry_countdown(task.request.retries), max_retries=MAX_RETRIES
        ) from e
    except (SoftTimeLimitExceeded, BatchOverrun):
        ctx.sizer.overran(len(parsed), time.monotonic() - started)
        if len(parsed) > 1:
            split(parsed, sweep_id=sweep_id, source=source, registry=registry, force=force)
            return {"split": len(parsed), "reason": "time limit"}
        raise
    except Exception:
        if len(parsed) > 1:  # find the version that breaks the batch by halving it
            log.exception("batch of %d failed; splitting it", len(parsed))
            split(parsed, sweep_id=sweep_id, source=source, registry=registry, force=force)
            return {"split": len(parsed), "reason": "batch error"}
        raise
    _record_failed(task, results, sweep_id, source, registry)
    retry = [r.target for r in results if r.status is Status.RETRY]
    if retry:
        kwargs = {
            "targets": [t.to_args() for t in retry],
            "sweep_id": sweep_id,
            "source": source,
            "registry": registry,
        }
        if task.request.retries < MAX_RETRIES:
            raise task.retry(
                kwargs=kwargs, countdown=retry_countdown(task.request.retries), max_retries=MAX_RETRIES
            )
        fail_targets(task, kwargs, "registry unavailable after retries: " + _details(results, Status.RETRY))
    return summarize(results)


def _record_failed(
    task: Task, results: list[Result], sweep_id: int | None, source: str, registry: str | None
) -> None:
    store = task.app.context().store
    for r in results:
        if r.status is Status.FAILED:
            store.record_failure(
                SCAN_VERSION,
                [],
                {"targets": [r.target.to_args()], "registry": registry, "source": source},
                queue="sweep",
                subject=str(r.target),
                error=r.detail,
            )


def _details(results: list[Result], status: Status) -> str:
    return "; ".join(r.detail for r in results if r.status is status)[:1000]


@app.task(bind=True, base=ScanTask, name=SCAN_BATCH)
def scan_batch(
    self: Task,
    targets: list[Any],
    sweep_id: int | None = None,
    source: str = "sweep",
    registry: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Download, verify, scan (one Scanner call) and store many versions (`force`: even if scanned)."""
    return run_scan(self, targets, sweep_id, source, registry, force)


@app.task(bind=True, base=ScanTask, name=SCAN_VERSION)
def scan_version(
    self: Task,
    owner: str = "",
    slug: str = "",
    version: str = "",
    *,
    targets: list[Any] | None = None,
    sweep_id: int | None = None,
    source: str = "api",
    registry: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Download, verify, scan and store one version (`owner, slug, version` or `targets=[[o, s, v]]`)."""
    return run_scan(self, targets or [[owner, slug, version]], sweep_id, source, registry, force)
