"""Discovery tasks: the registry poll and the nightly sweep's listing, which enqueue scans
(`worker.tasks`); the work is in `skillscan.crawl`."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from celery import Task
from kombu.exceptions import OperationalError

from skillscan.crawl import chunks, discover_new, list_page, needing_scan, save_mark
from skillscan.errors import RegistryError
from skillscan.pipeline import RETRY_LATER_KINDS, Target
from skillscan.store import VerdictStore, schema
from worker.celery_app import (
    LIST_BUDGET_S,
    POLL_HARD_TIME_LIMIT_S,
    POLL_SOFT_TIME_LIMIT_S,
    app,
    retry_countdown,
)
from worker.tasks import MAX_RETRIES, SkillscanTask, enqueue_scan

log = logging.getLogger("skillscan.worker")
SWEEP_STALL_S = 600.0  # a listing step unclaimed this long lost its message: the poll resumes it


class PollTask(SkillscanTask):
    abstract = True
    record_failures = False  # the mark did not move: the next poll covers the same versions


@app.task(
    bind=True,
    base=PollTask,
    name="skillscan.poll_registry",
    acks_late=False,
    soft_time_limit=POLL_SOFT_TIME_LIMIT_S,
    time_limit=POLL_HARD_TIME_LIMIT_S,
)
def poll_registry(self: Task, registry: str | None = None) -> dict[str, Any]:
    """Enqueue scans of versions published since the stored mark, and of versions left pending."""
    ctx = self.app.context()
    url = ctx.registry_url(registry)
    lock_name = f"{ctx.settings.broker_key_prefix}skillscan:poll:{url}"
    lock = ctx.redis.lock(lock_name, timeout=POLL_HARD_TIME_LIMIT_S, blocking=False)
    if not lock.acquire(blocking=False):
        return {"skipped": "another poll of this registry is running"}
    try:
        pipeline = ctx.pipeline(url)
        found = discover_new(pipeline.client, ctx.store, backfill=ctx.settings.poll_backfill)
        new = needing_scan(ctx.store, ctx.ruleset, found.targets)
        again = [Target(*key) for key in ctx.store.unscanned_outcomes(ctx.ruleset, RETRY_LATER_KINDS)]
        todo = list(dict.fromkeys(new + again))
        for batch in chunks(todo, ctx.settings.sweep_batch_size):
            enqueue_scan(batch, source="poll", registry=url)
        save_mark(ctx.store, url, found.mark)  # only after every new version is enqueued
        ctx.store.prune_deliveries(schema.utcnow() - timedelta(days=2))
        for sweep_id in ctx.store.unfinished_sweeps()[:5]:
            age = ctx.store.state_age_s(sweep_key(sweep_id))
            if age is not None and age > SWEEP_STALL_S:
                log.warning("sweep %d listing made no progress for %.0fs; resuming it", sweep_id, age)
                resume_sweep(ctx.store, sweep_id)
        return {"new": len(new), "retried": len(again), "problems": len(found.problems)}
    finally:
        try:
            lock.release()
        except Exception as e:  # an expired lock is released already
            log.debug("poll lock release: %s", e)


@app.task(bind=True, base=SkillscanTask, name="skillscan.nightly_sweep")
def nightly_sweep(
    self: Task, registry: str | None = None, sweep_id: int | None = None, force: bool = False
) -> dict[str, Any]:
    """Start a sweep: list the whole registry (in steps) and enqueue what the current ruleset has not
    scanned (`force`: every version, e.g. after an engine fix that left the ruleset digest alone)."""
    ctx = self.app.context()
    url = ctx.registry_url(registry)
    if sweep_id is None:
        # A redelivered start reuses the sweep its first delivery created.
        owner_key = f"sweep-task:{self.request.id}"
        known = ctx.store.get_state(owner_key)
        if known:
            sweep_id = int(known["sweep_id"])
        else:
            sweep_id = ctx.store.start_sweep(url, ctx.ruleset)
            ctx.store.put_state(owner_key, {"sweep_id": sweep_id})
    key = sweep_key(sweep_id)
    if ctx.store.get_state(key) is None:
        ctx.store.put_state(key, {"cursor": None, "carry": [], "force": force}, value=0)
    app.send_task(
        "skillscan.sweep_list",
        kwargs={
            "sweep_id": sweep_id,
            "step": 0,
            "cursor": None,
            "carry": [],
            "registry": url,
            "force": force,
        },
    )
    return {"sweep_id": sweep_id}


def sweep_key(sweep_id: int) -> str:
    return f"sweep:{sweep_id}"


def resume_sweep(store: VerdictStore, sweep_id: int, *, requeue_items: bool = False) -> dict[str, Any]:
    """Continue a sweep whose listing chain broke (its next step's message was lost), and with
    `requeue_items` enqueue again every version still queued (repeats of stored scans are no-ops)."""
    progress = store.sweep_progress(sweep_id)
    if progress is None:
        raise ValueError(f"no sweep {sweep_id}")
    registry = progress.registry or None
    key = sweep_key(sweep_id)
    state, step = store.get_state(key), store.get_mark(key)
    listing = False
    if not progress.listed and state is not None and step is not None and not state.get("done"):
        kwargs = {
            "sweep_id": sweep_id,
            "step": step,
            "cursor": state.get("cursor"),
            "carry": state.get("carry") or [],
            "registry": registry,
            "force": bool(state.get("force")),
        }
        app.send_task("skillscan.sweep_list", kwargs=kwargs)
        listing = True
    queued = [Target(*k) for k in store.sweep_items(sweep_id)] if requeue_items else []
    size = app.settings.sweep_batch_size
    for batch in chunks(queued, size):
        enqueue_scan(batch, sweep_id=sweep_id, registry=registry, force=bool(state and state.get("force")))
    return {"listing": listing, "requeued": len(queued)}


@app.task(bind=True, base=SkillscanTask, name="skillscan.sweep_list", max_retries=MAX_RETRIES)
def sweep_list(
    self: Task,
    sweep_id: int,
    step: int,
    cursor: str | None,
    carry: list[Any],
    registry: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """One step of a sweep's listing: a few pages, their versions enqueued in batches, then the next step.

    Steps are numbered; only the delivery that moves the sweep's step counter from `step` to
    `step + 1` continues the chain, so a redelivered or duplicated step never forks the listing.
    """
    ctx = self.app.context()
    store, key = ctx.store, sweep_key(sweep_id)
    if store.get_mark(key) != step:
        return {"stale": step}
    client = ctx.pipeline(registry).client
    batch_size = ctx.settings.sweep_batch_size
    started_from = {"cursor": cursor, "carry": carry, "force": force}  # this step's state, as stored
    pending = [Target.from_args(t) for t in carry]
    deadline = time.monotonic() + LIST_BUDGET_S
    listed = 0
    error = ""
    try:
        while True:
            page = list_page(client, cursor, ctx.settings.sweep_page_size)
            todo = needing_scan(store, ctx.ruleset, page.targets, force=force)
            store.add_sweep_items(sweep_id, [t.key for t in todo])
            pending.extend(todo)
            listed += len(page.targets)
            while len(pending) >= batch_size:
                enqueue_scan(pending[:batch_size], sweep_id=sweep_id, registry=registry, force=force)
                pending = pending[batch_size:]
            cursor = page.cursor
            if cursor is None or time.monotonic() > deadline:
                break
    except RegistryError as e:
        if self.request.retries < MAX_RETRIES:
            raise self.retry(countdown=retry_countdown(self.request.retries)) from e
        error, cursor = f"listing stopped: {e}", None
    if cursor is None:
        if pending:
            enqueue_scan(pending, sweep_id=sweep_id, registry=registry, force=force)
        if store.compare_and_set(
            key, step, step + 1, {"cursor": None, "carry": [], "done": True, "force": force}
        ):
            store.finish_listing(sweep_id, error)
        return {"listed": listed, "done": True}
    carry_out = [t.to_args() for t in pending]
    if store.compare_and_set(key, step, step + 1, {"cursor": cursor, "carry": carry_out, "force": force}):
        try:
            app.send_task(
                "skillscan.sweep_list",
                kwargs={
                    "sweep_id": sweep_id,
                    "step": step + 1,
                    "cursor": cursor,
                    "carry": carry_out,
                    "registry": registry,
                    "force": force,
                },
            )
        except OperationalError:
            # No step + 1 is queued: give the counter back so this step, run again, continues the
            # chain (a step + 1 that did arrive after all finds the counter at `step`: stale).
            store.compare_and_set(key, step + 1, step, started_from)
            raise
    return {"listed": listed, "done": False}
