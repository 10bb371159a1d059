"""The Celery task behind API scan jobs when `SKILLSCAN_BROKER_URL` is set (queue `gate`).

A thin shell: the job id is the only argument; `execute_job` does the work and is idempotent
(a finished job is skipped, a redelivered one resumes, a job that keeps killing workers fails).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Task, shared_task

from skillscan.config import Settings
from skillscan.service.jobs import TASK_NAME, ScanContext, execute_job
from skillscan.service.records import ServiceRecords
from skillscan.service.verdicts import Verdicts, policy_functions


@shared_task(bind=True, name=TASK_NAME, acks_late=True, ignore_result=True)
def run_scan_job(self: Task, job_id: str) -> None:
    execute_job(job_id, _context(self.app))


def _context(app: Any) -> ScanContext:
    """One ScanContext per worker process, sharing the worker's store and warm scanner when present."""
    cached = getattr(app, "_skillscan_jobs_context", None)
    if cached is not None and cached[0] == os.getpid():
        context: ScanContext = cached[1]
        return context
    worker = app.context() if callable(getattr(app, "context", None)) else None
    if worker is not None:
        settings, store, scanner = worker.settings, worker.store, worker.scanner()
    else:
        from skillscan.store import open_store

        settings = Settings.from_env()
        store, scanner = open_store(settings), None
    records = ServiceRecords(store)
    decide, decision_for = policy_functions(settings)
    context = ScanContext(
        settings, store, records, Verdicts(store, records, decide, decision_for), _scanner=scanner
    )
    app._skillscan_jobs_context = (os.getpid(), context)
    return context
