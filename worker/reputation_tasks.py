"""Deferred VirusTotal lookups, made later within the shared quota (beat, when a key is configured).

A lookup deferred by quota or a 429 never failed its scan; this task makes it once the quota
allows, caches the answer, and rescans (forced) every version whose deferred lookup came back
flagged, so the stored verdict carries that evidence.
"""

from __future__ import annotations

from typing import Any

from celery import Task

from skillscan.analyzers.reputation import refs_to_rescan, retry_deferred
from worker.celery_app import app
from worker.tasks import SCAN_VERSION, SkillscanTask

RETRY_DEFERRED = "skillscan.reputation.retry_deferred"


@app.task(bind=True, base=SkillscanTask, name=RETRY_DEFERRED, acks_late=False)
def retry_deferred_lookups(self: Task, limit: int = 50) -> dict[str, Any]:
    settings = self.app.context().settings
    results = retry_deferred(settings, limit)
    rescan = refs_to_rescan(results, settings)
    for owner, slug, version in rescan:
        app.send_task(
            SCAN_VERSION,
            kwargs={"targets": [[owner, slug, version]], "source": "reputation", "force": True},
            queue="sweep",
        )
    done = sum(1 for r in results if r.status in ("found", "unknown"))
    return {"looked_up": done, "still_deferred": len(results) - done, "rescans": len(rescan)}
