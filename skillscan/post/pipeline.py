"""From a stored scan to delivered verdicts: plan per sink, attempt, back off, fail visibly.

`plan_deliveries` decides (policy) and records one delivery per sink with its exact body;
`attempt` sends one delivery once and says what happens next (delivered, retry after N seconds,
failed for good). The worker's `post` queue drives retries; a delivery out of attempts is also
recorded as a store failure so `skillscan failures` lists it and `skillscan replay` resends it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from skillscan.config import Settings
from skillscan.diff import pick_previous
from skillscan.models import Verdict
from skillscan.post.clawhub import ClawHubModerationSink
from skillscan.post.deliveries import Delivery, DeliveryState, DeliveryStore
from skillscan.post.interface import SendOutcome, VerdictPost, VerdictSink, delivery_key
from skillscan.post.policy import PostPolicy
from skillscan.post.webhook import WebhookSink

log = logging.getLogger("skillscan.post")

DELIVER_TASK = "skillscan.post.deliver"  # the task a replayed failure re-enqueues
POST_QUEUE = "post"


def build_sinks(settings: Settings) -> list[VerdictSink]:
    """The sinks the settings enable: ClawHub with a staff token, the webhook with URL and secret."""
    sinks: list[VerdictSink] = []
    if settings.clawhub_token:
        sinks.append(
            ClawHubModerationSink(
                settings.registry_url, settings.clawhub_token, timeout_s=settings.post_timeout_s
            )
        )
    if settings.webhook_url and settings.webhook_secret:
        sinks.append(
            WebhookSink(settings.webhook_url, settings.webhook_secret, timeout_s=settings.post_timeout_s)
        )
    return sinks


def previous_verdict(store: Any, scan: Any) -> Verdict | None:
    """The verdict before this scan: the same version's last earlier scan, else the previous version's latest."""
    if not scan.slug:
        return None  # no registry identity: nothing to compare with
    history = [s for s in store.history(scan.owner, scan.slug) if s.id < scan.id]  # newest first
    same = next((s for s in history if s.version == scan.version), None)
    if same is not None:
        return Verdict(same.verdict)
    latest: dict[str, Any] = {}
    for s in history:
        latest.setdefault(s.version, s)
    chosen = pick_previous(scan.version, {v: s.id for v, s in latest.items()})
    return Verdict(latest[chosen].verdict) if chosen is not None else None


def report_url(settings: Settings, scan_id: int) -> str | None:
    base = settings.report_base_url
    return f"{base.rstrip('/')}/reports/{scan_id}" if base else None


def verdict_post(store: Any, scan: Any, settings: Settings) -> VerdictPost:
    report = scan.report
    return VerdictPost(
        scan_id=scan.id,
        owner=scan.owner or None,
        slug=scan.slug or None,
        version=scan.version or None,
        fingerprint=scan.fingerprint or None,
        verdict=Verdict(scan.verdict),
        previous_verdict=previous_verdict(store, scan),
        summary=scan.reason,
        tool_version=scan.tool_version or report.tool_version,
        ruleset=scan.ruleset,
        findings=tuple(report.findings),
        report_url=report_url(settings, scan.id),
    )


def plan_deliveries(
    store: Any,
    scan_id: int,
    settings: Settings,
    *,
    sinks: Sequence[VerdictSink] | None = None,
    policy: PostPolicy | None = None,
) -> list[Delivery]:
    """Record the deliveries this scan needs (idempotent: planning twice changes nothing)."""
    scan = store.get_scan(scan_id)
    if scan is None:
        return []
    sinks = build_sinks(settings) if sinks is None else sinks
    if not sinks:
        return []
    post = verdict_post(store, scan, settings)
    policy = policy or PostPolicy.parse(settings.post_on)
    if not policy.should_post(post.verdict, post.previous_verdict):
        return []
    deliveries = DeliveryStore(store)
    planned = []
    for sink in sinks:
        if not sink.accepts(post):
            log.info("scan %s: %s does not take a %s verdict", scan_id, sink.name, post.verdict)
            continue
        planned.append(
            deliveries.create(
                key=delivery_key(scan_id, sink.name),
                scan_id=scan_id,
                sink=sink.name,
                address=sink.address(post),
                subject=scan.ref,
                verdict=str(post.verdict),
                body=sink.payload(post),
            )
        )
    return planned


@dataclass(frozen=True)
class AttemptResult:
    state: str  # delivered | retry | failed | skipped
    detail: str = ""
    retry_in_s: float | None = None
    attempts: int = 0


def backoff_s(attempts: int, settings: Settings) -> float:
    """Wait after `attempts` failed attempts: exponential, capped (0 before the first attempt)."""
    if attempts <= 0:
        return 0.0
    return min(settings.post_backoff_max_s, settings.post_backoff_s * (2 ** min(attempts - 1, 30)))


def seconds_until_due(delivery: Delivery, settings: Settings, now: datetime | None = None) -> float:
    """0 when the delivery may be attempted now (pending and its backoff over, or a lapsed lease)."""
    now = now or datetime.now(UTC)
    if delivery.state is DeliveryState.PENDING:
        wait = backoff_s(delivery.attempts, settings)
    elif delivery.state is DeliveryState.SENDING:
        wait = lease_s(settings)
    else:
        return 0.0
    return max(0.0, (delivery.updated_at - now).total_seconds() + wait)


def lease_s(settings: Settings) -> float:
    return 2 * settings.post_timeout_s + 1.0  # longer than one send can take


def failure_subject(delivery: Delivery) -> str:
    return f"{delivery.subject} → {delivery.sink} [delivery {delivery.key}]"


def attempt(
    store: Any,
    delivery_id: int,
    settings: Settings,
    *,
    sinks: Sequence[VerdictSink] | None = None,
    honour_backoff: bool = True,
) -> AttemptResult:
    """Send one delivery once. Never sends a delivered one again; never drops a failing one.

    A copy of the task that arrives before the backoff is over (or while another attempt holds
    the lease) sends nothing and says when to look again.
    """
    deliveries = DeliveryStore(store)
    current = deliveries.get(delivery_id)
    if current is None:
        return AttemptResult("skipped", "no such delivery")
    if current.state in (DeliveryState.DELIVERED, DeliveryState.FAILED):
        return AttemptResult("skipped", f"already {current.state}", attempts=current.attempts)
    wait = seconds_until_due(current, settings) if honour_backoff else 0.0
    if wait > 0:
        return AttemptResult("retry", "not due yet", wait, current.attempts)
    taken, current = deliveries.begin_attempt(delivery_id, lease_s(settings))
    if taken is None:
        if current is not None and current.state is DeliveryState.SENDING:
            return AttemptResult("retry", "another attempt is in flight", lease_s(settings), current.attempts)
        state = current.state if current is not None else "missing"
        return AttemptResult("skipped", f"already {state}", attempts=current.attempts if current else 0)
    sink = next(
        (s for s in (build_sinks(settings) if sinks is None else sinks) if s.name == taken.sink), None
    )
    if sink is None:
        outcome = SendOutcome(False, retryable=False, detail=f"sink {taken.sink} is not configured")
    else:
        outcome = sink.send(taken.address, taken.body, taken.key)
    if outcome.delivered:
        deliveries.mark_delivered(taken.id, outcome.detail)
        store.resolve_failures(failure_subject(taken))
        log.info("delivery %s to %s: delivered after %d attempt(s)", taken.key, taken.sink, taken.attempts)
        return AttemptResult("delivered", outcome.detail, attempts=taken.attempts)
    final = not outcome.retryable or taken.attempts >= settings.post_max_attempts
    deliveries.mark_error(taken.id, outcome.detail, final=final)
    if final:
        store.record_failure(
            DELIVER_TASK,
            [taken.id],
            {"replay": True},
            queue=POST_QUEUE,
            subject=failure_subject(taken),
            error=outcome.detail,
            attempts=taken.attempts,
        )
        log.warning(
            "delivery %s to %s failed for good after %d attempt(s): %s",
            taken.key,
            taken.sink,
            taken.attempts,
            outcome.detail,
        )
        return AttemptResult("failed", outcome.detail, attempts=taken.attempts)
    delay = backoff_s(taken.attempts, settings)
    if outcome.retry_after_s is not None:
        delay = max(delay, min(outcome.retry_after_s, settings.post_backoff_max_s))
    log.info("delivery %s to %s: %s; retry in %.1fs", taken.key, taken.sink, outcome.detail, delay)
    return AttemptResult("retry", outcome.detail, delay, taken.attempts)


def replay(
    store: Any, delivery_id: int, settings: Settings, *, sinks: Sequence[VerdictSink] | None = None
) -> AttemptResult:
    """Give a failed delivery a fresh attempt budget and send it now."""
    DeliveryStore(store).reset_for_replay(delivery_id)
    return attempt(store, delivery_id, settings, sinks=sinks)


def deliver_until_done(
    store: Any,
    delivery_id: int,
    settings: Settings,
    *,
    sinks: Sequence[VerdictSink] | None = None,
    sleep: Any = None,
) -> AttemptResult:
    """Retry inline, sleeping the backoff here (no broker: `skillscan replay` on a workstation)."""
    import time

    pause = sleep or time.sleep
    while True:
        result = attempt(store, delivery_id, settings, sinks=sinks, honour_backoff=False)
        if result.state != "retry":
            return result
        pause(result.retry_in_s or 0.0)


PLANNED_MARK = "post:planned-scan-id"
_LOOKBACK = 20  # ids below the mark planned again (idempotent): concurrent writers commit out of order
FIRST_RUN_WINDOW = timedelta(hours=1)  # on a store that never posted, only recent scans are posted


def plan_new_scans(store: Any, settings: Settings, limit: int = 500) -> list[Delivery]:
    """Plan deliveries for scans recorded since the last call, so no stored verdict misses its post
    even when the worker that stored it died before asking. On a store that never posted, scans of
    the last hour are planned and older history is left alone."""
    from sqlalchemy import func, select

    from skillscan.store.engine import read_tx
    from skillscan.store.schema import ScanRow, table_of

    scans = table_of(ScanRow)
    mark = store.get_mark(PLANNED_MARK)
    with read_tx(store.engine) as conn:
        if mark is None:
            cutoff = datetime.now(UTC) - FIRST_RUN_WINDOW
            older = select(func.max(scans.c.id)).where(scans.c.scanned_at < cutoff)
            mark = int(conn.execute(older).scalar() or 0) + _LOOKBACK
        ids = [
            int(i)
            for i in conn.execute(
                select(scans.c.id).where(scans.c.id > mark - _LOOKBACK).order_by(scans.c.id).limit(limit)
            ).scalars()
        ]
    sinks = build_sinks(settings)
    planned: list[Delivery] = []
    for scan_id in ids:
        if sinks:
            planned.extend(plan_deliveries(store, scan_id, settings, sinks=sinks))
    store.advance_mark(PLANNED_MARK, max([mark, *ids]))
    return planned


def due_deliveries(store: Any, settings: Settings, limit: int = 500) -> list[Delivery]:
    """Pending deliveries whose backoff is over, and in-flight ones whose sender's lease lapsed."""
    deliveries = DeliveryStore(store)
    now = datetime.now(UTC)
    candidates = deliveries.listing(DeliveryState.PENDING, limit) + deliveries.listing(
        DeliveryState.SENDING, limit
    )
    return [d for d in candidates if seconds_until_due(d, settings, now) <= 0][:limit]
