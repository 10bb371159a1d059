"""API scans on the Celery `gate` queue (SKILLSCAN_BROKER_URL set): a real worker, real Redis (DB 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.service import skills
from tests.service.conftest import REPO_ROOT, service_settings, start_server

BROKER = "redis://127.0.0.1:6379/3"


@pytest.fixture()
def clean_db3(redis_available: None) -> None:
    import redis

    redis.Redis.from_url(BROKER).flushdb()


def test_upload_runs_on_a_gate_worker(tmp_path: Path, clean_db3: None) -> None:
    settings = replace(service_settings(tmp_path), broker_url=BROKER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLSCAN_")}
    env.update(
        SKILLSCAN_BROKER_URL=BROKER,
        SKILLSCAN_DATABASE_URL=str(settings.database_url),
        SKILLSCAN_DATA_DIR=str(tmp_path),
    )
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("skillscan")),
            "worker",
            "-Q",
            "gate",
            "-c",
            "1",
            "-l",
            "WARNING",
        ],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    live = start_server(settings)
    try:
        assert live.get("/healthz", None).json()["scanner"] == "remote"  # no scanner in the API process
        job = live.wait(live.upload(skills.malicious(tmp_path / "wallet")), timeout=120)
        assert job["status"] == "done", (job, (tmp_path / "worker.log").read_text()[-3000:])
        assert job["verdict"] == "malicious"
        stored = live.store.get_scan(job["scan_id"])
        assert stored is not None and stored.source == "api-upload"
        assert live.app.state.skillscan.records.upload(job["id"]) is None  # the bundle is not kept
    finally:
        live.stop()
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
