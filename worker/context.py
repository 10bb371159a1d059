"""What a worker process keeps between tasks: the store, one scanner, a registry client per URL.

Built lazily in the process that runs the task, so nothing (database connections, compiled YARA
rules, HTTP sessions) crosses a fork; a context found in a forked child is rebuilt.
"""

from __future__ import annotations

import os
from typing import Any

import redis

from skillscan.config import Settings
from skillscan.pipeline import Pipeline
from skillscan.registry.clawhub import ClawHubClient
from skillscan.registry.http import RetryPolicy
from skillscan.store import VerdictStore, open_store
from worker.celery_app import (
    DOWNLOAD_BUDGET_S,
    SOFT_TIME_LIMIT_S,
    SkillscanCelery,
    broker_url,
    worker_settings,
)

# Inside a task the client must answer within the task's budget; longer waits are the retry's job.
CLIENT_TIMEOUT_S = 8.0
CLIENT_POLICY = RetryPolicy(max_attempts=3, backoff_base_s=0.5, backoff_max_s=2.0, max_sleep_s=4.0)
# What a batch should take, leaving room below the soft time limit for a slower machine.
SCAN_BUDGET_S = SOFT_TIME_LIMIT_S - 10.0
# Reports of a scan that ended before the soft limit fired are sound; the margin covers the few
# milliseconds between the pool starting the task's clock and the task reading its own.
DEADLINE_MARGIN_S = 0.5


class BatchSizer:
    """How many versions fit in one task's scan budget, learned from this process's own batches.

    The estimate rises at once with a slow batch and falls gradually, so a loaded machine shrinks
    batches before they meet the time limit, and an idle one lets them grow to the configured size.
    """

    def __init__(self, budget_s: float, per_version_s: float = 0.1) -> None:
        self.budget_s = budget_s
        self.per_version_s = per_version_s

    def fits(self) -> int:
        return max(1, int(self.budget_s / self.per_version_s))

    def observe(self, versions: int, seconds: float) -> None:
        if versions > 0:
            sample = seconds / versions
            self.per_version_s = max(sample, 0.7 * self.per_version_s + 0.3 * sample)

    def overran(self, versions: int, seconds: float) -> None:
        """A batch of `versions` was still running after `seconds`: each took at least that share."""
        floor = seconds / versions if versions > 0 else 0.0
        self.per_version_s = max(2 * self.per_version_s, 1.5 * floor)


class WorkerContext:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pid = os.getpid()
        self.sizer = BatchSizer(SCAN_BUDGET_S)
        self._store: VerdictStore | None = None
        self._scanner: Any = None
        self._ruleset: str | None = None
        self._pipelines: dict[str, Pipeline] = {}
        self._redis: redis.Redis | None = None

    @property
    def store(self) -> VerdictStore:
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store

    @property
    def ruleset(self) -> str:
        if self._ruleset is None:
            from skillscan.rules import ruleset_digest

            self._ruleset = ruleset_digest(self.settings)
        return self._ruleset

    def scanner(self) -> Any:
        if self._scanner is None:
            from skillscan.scan import Scanner

            self._scanner = Scanner(self.settings)
        return self._scanner

    def registry_url(self, registry: str | None) -> str:
        return (registry or self.settings.registry_url).rstrip("/")

    def client(self, registry: str | None) -> ClawHubClient:
        return ClawHubClient(
            self.registry_url(registry),
            token=self.settings.clawhub_token,
            timeout_s=min(self.settings.registry_timeout_s, CLIENT_TIMEOUT_S),
            policy=CLIENT_POLICY,
            max_download_bytes=self.settings.registry_max_download_bytes,
            download_deadline_s=DOWNLOAD_BUDGET_S,
            limits=self.settings.limits,
        )

    def pipeline(self, registry: str | None = None) -> Pipeline:
        url = self.registry_url(registry)
        if url not in self._pipelines:
            self._pipelines[url] = Pipeline(
                self.settings,
                self.store,
                self.client(url),
                self.scanner,
                self.ruleset,
                download_budget_s=DOWNLOAD_BUDGET_S,
            )
        return self._pipelines[url]

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            self._redis = redis.Redis.from_url(
                broker_url(self.settings), socket_timeout=10, socket_connect_timeout=5
            )
        return self._redis

    def close(self) -> None:
        for pipeline in self._pipelines.values():
            pipeline.client.close()
        closer = getattr(self._scanner, "close", None)
        if callable(closer):
            closer()
        if self._store is not None:
            self._store.close()


def context_for(app: SkillscanCelery) -> WorkerContext:
    ctx: WorkerContext | None = getattr(app, "_skillscan_context", None)
    if ctx is None or ctx.pid != os.getpid():
        ctx = WorkerContext(worker_settings(app.settings))
        app._skillscan_context = ctx
    return ctx
