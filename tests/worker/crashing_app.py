"""A worker app for tests: the real skillscan app plus one task that kills its own pool process."""

from __future__ import annotations

import os
import signal
from typing import Any

from celery import Task

from worker.celery_app import app
from worker.tasks import SkillscanTask

__all__ = ["app"]


@app.task(bind=True, base=SkillscanTask, name="skillscan.test.crash_worker")
def crash_worker(self: Task, **kwargs: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # what a crashing parser or the OOM killer does to a worker
