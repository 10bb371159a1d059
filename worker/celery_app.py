"""The Celery application: Redis broker, queues, routing, time limits, beat schedule.

Run workers with `skillscan worker` (or `celery -A worker.celery_app worker`); beat with
`skillscan beat`, which holds a Redis lock so only one beat schedules at a time.

Timing (DESIGN §5, §7). Every task message is acked late (when the task returns), so a message
stays "unacked" in Redis for as long as a worker holds it:

* A worker that dies outright (SIGKILL, power loss) cannot give its message back. Kombu's Redis
  transport restores an unacked message once it is older than ``VISIBILITY_TIMEOUT_S``; live
  workers look for such messages every ``RESTORE_INTERVAL_S`` (throttle 1, so every interval
  really scans; a new worker also scans when it starts). A message fetched at t ≤ the moment of
  death is therefore back in its queue by t + 50 + 5 = 55 s < 60 s.
* A healthy task must never outlive the visibility timeout, or a second worker would run it too.
  With prefetch 1 and fair scheduling a fetched message starts at once, and its task is killed at
  ``HARD_TIME_LIMIT_S`` = 40 s < 50 s (soft limit 32 s first, so the task can split or record
  its batch). The scanner's own budgets sit inside the soft limit (`worker_settings`).
* A retry is a new message with an ETA, held unacked by a worker until due: its countdown plus
  the hard limit must stay below the visibility timeout, so countdowns are capped at
  ``MAX_RETRY_COUNTDOWN_S`` = 8 s (40 + 8 = 48 < 50). Longer backoff is the next poll's job: a
  version left pending or unavailable is asked about again by every poll (every few minutes).
* The unacked-restore mutex expires after ``RESTORE_MUTEX_EXPIRE_S`` rather than kombu's 5
  minutes, so a worker killed while restoring does not block restores for long.

Broker restarts. Queued and unacked messages live only in Redis: the broker Redis must persist
them (``appendonly yes``; ``appendfsync always`` also survives a crash of Redis itself, ``everysec``
may lose its last second), or a restart loses every queued task. Workers reconnect by themselves,
at startup too, for as long as it takes (retries 2, 4, 6 … s apart, at most 30 s). A task running
while Redis is away finishes and stores its result; its ack waits until the worker has reconnected
(running tasks are not cancelled: they would only be redone). An ack lost with the connection
leaves the message to the visibility timeout, and its repeat stores nothing new. A task that
cannot send its messages (the publish gives up after ≈1 s) puts its own message back and runs
again (`worker.tasks`). tests/worker/test_faults.py kills and restarts such a Redis mid-sweep.

The poll task is the exception: it is acked early (beat sends another one each interval and the
mark only advances after its versions are enqueued), so its longer limits do not meet the
visibility timeout.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

from skillscan.config import Settings

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
QUEUES = ("gate", "sweep", "post")

VISIBILITY_TIMEOUT_S = 50
RESTORE_INTERVAL_S = 5
RESTORE_MUTEX_EXPIRE_S = 15
SOFT_TIME_LIMIT_S = 32
HARD_TIME_LIMIT_S = 40
MAX_RETRY_COUNTDOWN_S = 8
SCANNER_BUDGET_S = 20  # semgrep wall clock and per-analyzer timeout inside a task
DOWNLOAD_BUDGET_S = 8  # all downloads of one batch
LIST_BUDGET_S = 15  # registry listing per sweep step
POLL_SOFT_TIME_LIMIT_S = 240
POLL_HARD_TIME_LIMIT_S = 300
WORKER_MAX_MEMORY_KB = 450_000  # a pool process above this is replaced after its current task

assert HARD_TIME_LIMIT_S + MAX_RETRY_COUNTDOWN_S < VISIBILITY_TIMEOUT_S
assert VISIBILITY_TIMEOUT_S + RESTORE_INTERVAL_S < 60
assert SCANNER_BUDGET_S + DOWNLOAD_BUDGET_S < SOFT_TIME_LIMIT_S < HARD_TIME_LIMIT_S


def worker_settings(settings: Settings) -> Settings:
    """Settings with the scanner's budgets clamped into the task time limits."""
    limits = settings.limits
    clamped = replace(
        limits,
        analyzer_timeout_s=min(limits.analyzer_timeout_s, SCANNER_BUDGET_S),
        semgrep_timeout_s=min(limits.semgrep_timeout_s, SCANNER_BUDGET_S),
    )
    return replace(settings, limits=clamped)


def broker_url(settings: Settings) -> str:
    return settings.broker_url or DEFAULT_BROKER_URL


def retry_countdown(retries: int) -> float:
    """1, 2, 4, 8, 8 … seconds: exponential, capped by the visibility arithmetic above."""
    return float(min(MAX_RETRY_COUNTDOWN_S, 2**retries))


class SkillscanCelery(Celery):
    """The app plus the settings it was built from; tasks build their per-process context from them."""

    settings: Settings

    def context(self) -> Any:
        """The calling process's worker context (store, registry clients, scanner), built lazily after fork."""
        from worker.context import context_for

        return context_for(self)


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    schedule: dict[str, dict[str, Any]] = {}
    if settings.poll_interval_s > 0:
        schedule["poll-registry"] = {
            "task": "skillscan.poll_registry",
            "schedule": settings.poll_interval_s,
            # A poll that waited a whole interval is superseded by the next one.
            "options": {"queue": "sweep", "expires": settings.poll_interval_s},
        }
    if settings.post_flush_s > 0:
        # Verdict posts: plan any stored scan's missing post, send deliveries whose backoff is over.
        schedule["flush-posts"] = {
            "task": "skillscan.post.flush",
            "schedule": settings.post_flush_s,
            "options": {"queue": "post", "expires": settings.post_flush_s},
        }
    if settings.vt_api_key and settings.vt_retry_s > 0:
        # VirusTotal lookups deferred by the quota: made later, flagged versions rescanned.
        schedule["vt-retry-deferred"] = {
            "task": "skillscan.reputation.retry_deferred",
            "schedule": settings.vt_retry_s,
            "options": {"queue": "sweep", "expires": settings.vt_retry_s},
        }
    if 0 <= settings.sweep_hour < 24:
        schedule["nightly-sweep"] = {
            "task": "skillscan.nightly_sweep",
            "schedule": crontab(hour=settings.sweep_hour, minute=settings.sweep_minute),
            "options": {"queue": "sweep"},
        }
    return schedule


def create_app(settings: Settings | None = None) -> SkillscanCelery:
    settings = settings or Settings.from_env()
    app = SkillscanCelery(
        "skillscan",
        include=[
            "worker.tasks",
            "worker.discovery_tasks",
            "skillscan.service.tasks",
            "worker.post_tasks",
            "worker.reputation_tasks",
        ],
    )
    app.settings = settings
    app.conf.update(
        broker_url=broker_url(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # keep reconnecting while Redis restarts
        broker_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
            "unacked_restore_interval": RESTORE_INTERVAL_S,
            "unacked_restore_throttle": 1,
            "unacked_mutex_expire": RESTORE_MUTEX_EXPIRE_S,
            "socket_timeout": 30,
            "socket_connect_timeout": 5,
            "health_check_interval": 10,
            **({"global_keyprefix": settings.broker_key_prefix} if settings.broker_key_prefix else {}),
        },
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,  # capped: see worker.tasks.SkillscanTask
        worker_prefetch_multiplier=1,
        task_soft_time_limit=SOFT_TIME_LIMIT_S,
        task_time_limit=HARD_TIME_LIMIT_S,
        worker_max_memory_per_child=WORKER_MAX_MEMORY_KB,
        # On a broker blip a running task finishes and stores its result; the message comes back
        # later and its repeat is a no-op (idempotent store), which beats cancelling finished work.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_hijack_root_logger=False,
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="sweep",
        task_routes={"skillscan.post.*": {"queue": "post"}},
        task_default_delivery_mode="persistent",
        timezone="UTC",
        enable_utc=True,
        beat_schedule=beat_schedule(settings),
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        worker_send_task_events=False,
    )
    return app


# `celery -A worker.celery_app` finds the app here; it reads the environment once per process.
app = create_app()
