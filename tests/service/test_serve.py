"""`skillscan serve` as an operator runs it: refuses to start without tokens, never logs one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.service.conftest import ALICE_TOKEN, REPO_ROOT, TOKENS, free_port

SKILLSCAN = str(Path(sys.executable).with_name("skillscan"))


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLSCAN_")}
    env.update(
        SKILLSCAN_DATA_DIR=str(tmp_path), SKILLSCAN_DATABASE_URL=f"sqlite:///{tmp_path / 'v.db'}", **extra
    )
    return env


def test_serve_refuses_to_start_without_tokens(tmp_path: Path) -> None:
    proc = subprocess.run(
        [SKILLSCAN, "serve", "--port", str(free_port())],
        env=_env(tmp_path),
        capture_output=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert proc.returncode == 2
    assert b"SKILLSCAN_API_TOKENS" in proc.stderr


def test_tokens_never_reach_the_log(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [SKILLSCAN, "serve", "--port", str(port)],
            env=_env(tmp_path, SKILLSCAN_API_TOKENS=TOKENS),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    requests.get(url + "/healthz", timeout=1)
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
                    time.sleep(0.2)
            s = requests.Session()
            assert s.get(f"{url}/login", params={"token": ALICE_TOKEN}, timeout=10).status_code == 200
            bearer = {"Authorization": f"Bearer {ALICE_TOKEN}"}
            assert (
                requests.get(f"{url}/v1/verdicts/{'0' * 64}", headers=bearer, timeout=10).status_code == 404
            )
            wrong = {"Authorization": "Bearer not-the-token-but-long-enough"}
            assert requests.get(f"{url}/reports", headers=wrong, timeout=10).status_code == 401
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    text = log.read_text()
    assert "GET /login 303" in text and "GET /v1/verdicts/" in text  # requests are logged …
    assert (
        ALICE_TOKEN not in text and "not-the-token" not in text and "token=" not in text
    )  # … secrets are not
    assert "alice" in text  # by who made them
