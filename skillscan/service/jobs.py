"""Scan jobs submitted through the API: queued -> running -> done | failed.

Jobs run in-process on a small thread pool with one warm Scanner, unless `SKILLSCAN_BROKER_URL` is
set explicitly: then they go to the Celery `gate` queue and any worker runs `execute_job`. Either
way the job row and its upload live in the store, so a restarted service or a redelivered task
picks the job up again and nothing is lost.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from skillscan.config import Settings
from skillscan.errors import SkillscanError
from skillscan.models import ScanReport, Skill
from skillscan.service.records import Job, JobStatus, ServiceRecords
from skillscan.service.verdicts import Verdicts

if TYPE_CHECKING:
    from skillscan.store import VerdictStore

log = logging.getLogger("skillscan.api.jobs")

MAX_ATTEMPTS = 3  # a job that keeps killing its runner is failed, not retried forever
GATE_QUEUE = "gate"
TASK_NAME = "skillscan.service.run_scan_job"

# ClawHub references are built from these parts only: the registry host always comes from settings.
OWNER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,99}$")


class Dispatcher(Protocol):
    def dispatch(self, job_id: str) -> None: ...

    def close(self) -> None: ...


@dataclass
class ScanContext:
    """What running a job needs; one per process, so the scanner stays warm between jobs."""

    settings: Settings
    store: VerdictStore
    records: ServiceRecords
    verdicts: Verdicts
    _scanner: Any = None
    _digest: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    ready: threading.Event = field(default_factory=threading.Event)

    def warm(self) -> None:
        """Build the scanner and run it once on a tiny skill, so the first real scan is a warm one."""
        try:
            from skillscan.bundle import load_zip_bytes

            _ = self.ruleset
            self.scan(load_zip_bytes(_warmup_zip(), "warmup.zip", self.settings.limits))
        except Exception:  # a scanner that cannot start fails the jobs, with the reason, later
            log.exception("scanner warm-up failed")
        finally:
            self.ready.set()

    def scan(self, skill: Skill) -> ScanReport:
        with self._lock:  # one scan at a time per scanner; analyzers keep per-process state
            if self._scanner is None:
                from skillscan.scan import Scanner

                self._scanner = Scanner(self.settings)
            reports: list[ScanReport] = self._scanner.scan_skills([skill])
        return reports[0]

    @property
    def ruleset(self) -> str:
        if self._digest is None:
            from skillscan.rules import ruleset_digest

            self._digest = ruleset_digest(self.settings)
        return self._digest

    def close(self) -> None:
        scanner, self._scanner = self._scanner, None
        close = getattr(scanner, "close", None)
        if callable(close):
            close()


def execute_job(job_id: str, ctx: ScanContext) -> None:
    """Run one job to done or failed. Safe to call twice (a redelivered task): finished jobs are skipped."""
    job = ctx.records.claim(job_id)
    if job is None:
        return
    if job.attempts > MAX_ATTEMPTS:
        ctx.records.fail(job_id, f"gave up after {MAX_ATTEMPTS} attempts (the scan kept failing its runner)")
        return
    try:
        ctx.records.finish(job_id, _run(job, ctx))
    except SkillscanError as e:
        ctx.records.fail(job_id, str(e) or e.__class__.__name__)
    except Exception as e:  # recorded, never silently lost
        log.exception("scan job %s failed", job_id)
        ctx.records.fail(job_id, f"internal error: {e.__class__.__name__}: {e}")


def _run(job: Job, ctx: ScanContext) -> int:
    if job.kind == "clawhub":
        cached = ctx.store.latest_for_version(job.owner, job.slug, job.version, ruleset=ctx.ruleset)
        if cached is not None:
            return cached.id
        from skillscan.registry.source import load_clawhub_ref

        skill = load_clawhub_ref(job.ref, ctx.settings)
        identity = (job.owner, job.slug, job.version)
    else:
        data = ctx.records.upload(job.id)
        if data is None:
            raise SkillscanError("the uploaded bundle is no longer available")
        from skillscan.bundle import load_zip_bytes

        skill = load_zip_bytes(data, f"upload/{job.filename or job.id}", ctx.settings.limits)
        # An upload's _meta.json is only a claim: its verdict is found by fingerprint, and it never
        # enters a ClawHub skill's version history.
        identity = ("", "", "")
        fingerprint = skill.identity.fingerprint or ""
        cached = ctx.store.latest_by_fingerprint(fingerprint, ruleset=ctx.ruleset) if fingerprint else None
        if cached is not None:
            return cached.id
    report = ctx.scan(skill)
    diffs = None
    if job.kind == "clawhub":  # update diff against the stored previous version of this skill
        from skillscan.diff import UpdateDiffs

        diffs = UpdateDiffs(ctx.store, ctx.verdicts.decide)
        report = diffs.apply([identity], [skill], [report])[0]
    scan_id = ctx.verdicts.record(report, source=f"api-{job.kind}", identity=identity)
    if diffs is not None:
        diffs.save(identity, scan_id, report.skill.fingerprint or "")
    from skillscan.report.html import excerpts_for

    ctx.records.save_excerpts(scan_id, {k: list(v) for k, v in excerpts_for(skill, report.findings).items()})
    return scan_id


def _warmup_zip() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "SKILL.md", "---\nname: warmup\ndescription: Warm-up.\n---\n\n# Warm-up\n\nRun `echo ok`.\n"
        )
        zf.writestr("scripts/run.py", "print('ok')\n")
        zf.writestr("scripts/run.sh", "#!/bin/sh\necho ok\n")
    return buf.getvalue()


class InProcessDispatcher:
    """A small thread pool in the API process (the default when no broker is configured)."""

    def __init__(self, run: Callable[[str], None], threads: int = 1) -> None:
        self._run = run
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="scan-job")

    def dispatch(self, job_id: str) -> None:
        self._pool.submit(self._safe, job_id)

    def _safe(self, job_id: str) -> None:
        try:
            self._run(job_id)
        except Exception:
            log.exception("scan job %s crashed its runner", job_id)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class CeleryDispatcher:
    """Sends the job id to the `gate` queue; a worker running `skillscan.service.tasks` executes it."""

    def __init__(self, broker_url: str) -> None:
        from celery import Celery

        self._app = Celery("skillscan-api", broker=broker_url, set_as_current=False)
        self._app.conf.task_serializer = "json"
        self._app.conf.broker_connection_retry_on_startup = True

    def dispatch(self, job_id: str) -> None:
        self._app.send_task(TASK_NAME, args=[job_id], queue=GATE_QUEUE)

    def close(self) -> None:
        self._app.close()


class JobService:
    def __init__(self, records: ServiceRecords, dispatcher: Dispatcher) -> None:
        self.records = records
        self._dispatcher = dispatcher

    def submit_upload(self, data: bytes, filename: str, who: str) -> Job:
        job = self.records.create_job("upload", submitted_by=who, filename=filename, upload=data)
        self._dispatcher.dispatch(job.id)
        return job

    def submit_clawhub(self, owner: str, slug: str, version: str, who: str) -> Job:
        job = self.records.create_job("clawhub", submitted_by=who, owner=owner, slug=slug, version=version)
        self._dispatcher.dispatch(job.id)
        return job

    def resume_unfinished(self) -> int:
        """Dispatch jobs a stopped process left queued or running (in-process mode)."""
        jobs = self.records.unfinished()
        for job in jobs:
            self._dispatcher.dispatch(job.id)
        return len(jobs)

    def get(self, job_id: str) -> Job | None:
        return self.records.get_job(job_id)

    def close(self) -> None:
        self._dispatcher.close()


def is_finished(job: Job) -> bool:
    return job.status in (JobStatus.DONE, JobStatus.FAILED)
