"""Tasks of the `post` queue: plan a scan's verdict deliveries, attempt one, flush what is due.

The work is in `skillscan.post.pipeline`. Retries whose backoff fits the visibility arithmetic
(`MAX_RETRY_COUNTDOWN_S`) are Celery retries; longer ones stay `pending` in the store with their
due time, and the beat's `flush` task sends them when due — no message is held for minutes. The
flush also plans posts for any stored scan that has none yet (its worker died before asking), so
a verdict never goes silently unposted; a delivery out of attempts is a store failure that
`skillscan replay` resends.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

from skillscan.post.deliveries import DeliveryState
from skillscan.post.pipeline import (
    DELIVER_TASK,
    POST_QUEUE,
    attempt,
    due_deliveries,
    plan_deliveries,
    plan_new_scans,
)
from skillscan.post.pipeline import replay as replay_delivery
from skillscan.store import StoreBusy
from worker.celery_app import MAX_RETRY_COUNTDOWN_S, app, retry_countdown
from worker.tasks import MAX_RETRIES, SkillscanTask

log = logging.getLogger("skillscan.worker")

POST_VERDICT = "skillscan.post.post_verdict"
DELIVER = DELIVER_TASK  # "skillscan.post.deliver"
FLUSH = "skillscan.post.flush"


def enqueue_delivery(delivery_id: int, countdown: float | None = None) -> None:
    app.send_task(DELIVER, args=[delivery_id], queue=POST_QUEUE, countdown=countdown)


def enqueue_post(scan_id: int) -> None:
    """Ask for a scan's verdict to be posted (the sinks and the policy decide whether and where)."""
    app.send_task(POST_VERDICT, args=[scan_id], queue=POST_QUEUE)


@app.task(bind=True, base=SkillscanTask, name=POST_VERDICT)
def post_verdict(self: Task, scan_id: int) -> dict[str, Any]:
    """Plan one delivery per configured sink (idempotent) and send each."""
    ctx = self.app.context()
    try:
        planned = plan_deliveries(ctx.store, scan_id, ctx.settings)
    except StoreBusy as e:
        raise self.retry(
            exc=e, countdown=retry_countdown(self.request.retries), max_retries=MAX_RETRIES
        ) from e
    for d in planned:
        if d.state is DeliveryState.PENDING:
            enqueue_delivery(d.id)
    return {"planned": len(planned)}


@app.task(bind=True, base=SkillscanTask, name=DELIVER)
def deliver(self: Task, delivery_id: int, replay: bool = False) -> dict[str, Any]:
    """One attempt at one delivery; `replay=True` (from `skillscan replay`) restores its attempt budget."""
    ctx = self.app.context()
    try:
        if replay:
            result = replay_delivery(ctx.store, delivery_id, ctx.settings)
        else:
            result = attempt(ctx.store, delivery_id, ctx.settings)
    except StoreBusy as e:
        raise self.retry(
            exc=e, countdown=retry_countdown(self.request.retries), max_retries=MAX_RETRIES
        ) from e
    if (
        result.state == "retry"
        and result.retry_in_s is not None
        and result.retry_in_s <= MAX_RETRY_COUNTDOWN_S
    ):
        # a short backoff: a new message with an ETA (no `replay` flag: the budget was restored once)
        enqueue_delivery(delivery_id, countdown=result.retry_in_s)
    return {"state": result.state, "attempts": result.attempts, "detail": result.detail}


@app.task(bind=True, base=SkillscanTask, name=FLUSH, acks_late=False)
def flush(self: Task) -> dict[str, Any]:
    """Beat: plan posts for newly stored scans, then send every delivery whose backoff is over."""
    ctx = self.app.context()
    planned = plan_new_scans(ctx.store, ctx.settings)
    due = due_deliveries(ctx.store, ctx.settings)
    for d in due:
        enqueue_delivery(d.id)
    return {"planned": len(planned), "sent": len(due)}
