"""Run by the crash tests in a separate process: one delivery attempt, exactly as the task makes it."""

from __future__ import annotations

import sys
from dataclasses import replace

from skillscan.config import Settings
from skillscan.post.pipeline import attempt
from skillscan.store import VerdictStore

if __name__ == "__main__":
    database_url, delivery_id, webhook_url, secret, timeout_s = sys.argv[1:6]
    settings = replace(
        Settings(), webhook_url=webhook_url, webhook_secret=secret, post_timeout_s=float(timeout_s)
    )
    result = attempt(VerdictStore(database_url), int(delivery_id), settings)
    print(result.state)
