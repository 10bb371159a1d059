"""A real uvicorn server on loopback with a real SQLite store, and a fake ClawHub to fetch from."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import requests

from skillscan.config import Settings
from tests.conftest import free_port
from tests.service import skills

ALICE_TOKEN = "alice-maintainer-token-7c1f3a9e"
CI_TOKEN = "ci-token-5b2d8e6f0a4c9d1e7f3a"
TOKENS = f"alice:{ALICE_TOKEN},{CI_TOKEN}"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LiveServer:
    url: str
    app: Any
    settings: Settings
    _server: Any
    _thread: threading.Thread

    @property
    def store(self) -> Any:
        return self.app.state.skillscan.store

    def get(self, path: str, token: str | None = ALICE_TOKEN, **kw: Any) -> requests.Response:
        headers = {**_auth(token), **kw.pop("headers", {})}
        return requests.get(self.url + path, headers=headers, timeout=30, **kw)

    def post(self, path: str, token: str | None = ALICE_TOKEN, **kw: Any) -> requests.Response:
        headers = {**_auth(token), **kw.pop("headers", {})}
        return requests.post(self.url + path, headers=headers, timeout=30, **kw)

    def upload(self, folder: Path, token: str = ALICE_TOKEN) -> str:
        files = {"file": (folder.name + ".zip", skills.zip_folder(folder), "application/zip")}
        r = self.post("/v1/scans", token, files=files)
        assert r.status_code == 202, r.text
        return str(r.json()["id"])

    def wait(self, job_id: str, timeout: float = 90.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(f"/v1/scans/{job_id}").json()
            if job["status"] in ("done", "failed"):
                return dict(job)
            time.sleep(0.1)
        raise AssertionError(f"scan {job_id} did not finish in {timeout} s")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class HeldJobs:
    """A dispatcher that keeps jobs queued, for tests of the HTTP layer alone (no scanner to warm)."""

    def __init__(self) -> None:
        self.dispatched: list[str] = []

    def dispatch(self, job_id: str) -> None:
        self.dispatched.append(job_id)

    def close(self) -> None:
        pass


def start_server(settings: Settings, dispatcher: Any = None) -> LiveServer:
    import uvicorn

    from skillscan.service.api import create_app

    app = create_app(settings, dispatcher=dispatcher)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    context = app.state.skillscan.context
    if context is not None and not context.ready.wait(60):  # scans in tests start warm, as in production
        raise RuntimeError("the scanner did not warm up")
    return LiveServer(f"http://127.0.0.1:{port}", app, settings, server, thread)


def service_settings(tmp: Path, **overrides: Any) -> Settings:
    base = Settings.from_env({"SKILLSCAN_API_TOKENS": TOKENS})
    return replace(
        base,
        data_dir=tmp,
        database_url=f"sqlite:///{tmp / 'verdicts.db'}",
        broker_url=None,
        session_secret="test-session-secret",
        **overrides,
    )


@pytest.fixture(scope="module")
def registry_seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seeds")
    skills.malicious(
        root / "wallet-tracker",
        {"owner": "alice", "slug": "wallet-tracker", "latest": {"version": "2.1.0"}},
    )
    skills.benign(
        root / "weather-brief", {"owner": "bob", "slug": "weather-brief", "latest": {"version": "1.0.0"}}
    )
    return root


@pytest.fixture(scope="module")
def fake_registry(registry_seeds: Path) -> Iterator[str]:
    from skillscan.registry.fake import fake_clawhub

    with fake_clawhub([registry_seeds]) as url:
        yield url


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, fake_registry: str) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("service")
    live = start_server(service_settings(tmp, registry_url=fake_registry))
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture()
def gate_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a gate subprocess: no service unless a test adds one, private data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLSCAN_")}
    env["SKILLSCAN_DATA_DIR"] = str(tmp_path / "gate-data")
    # OpenClaw's 10 s is for an idle machine; CI shares two cores, so tests give scans room
    # (the deadline itself is tested with a tiny budget).
    env["SKILLSCAN_GATE_TIMEOUT_S"] = "45"
    env["SKILLSCAN_GATE_SERVICE_BUDGET_S"] = "30"
    return env
