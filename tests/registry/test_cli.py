"""`skillscan registry …` commands: serve as a real subprocess; ls/show/download/discover against the fake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skillscan.cli import app
from skillscan.registry.clawhub import ClawHubClient
from skillscan.registry.fake import FakeServer
from skillscan.registry.outcomes import BlockedUpstream, Downloaded

runner = CliRunner()
CLI = [sys.executable, "-c", "from skillscan.cli import main; main()"]


def _start_serve(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*CLI, "registry", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "serving on" in line or not line:
            break
    if "serving on" not in line:
        proc.kill()
        raise AssertionError(f"serve did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc, line.strip().rsplit(" ", 1)[-1]


def test_serve_runs_as_a_subprocess_and_answers(seed_dir: Path, tmp_path: Path) -> None:
    moderation = tmp_path / "moderation.json"
    moderation.write_text(json.dumps({"weather": "malicious"}))
    env = {**os.environ, "SKILLSCAN_FAKE_STAFF_TOKENS": "clh_cliStaffToken=mod"}
    proc, url = _start_serve(
        ["--seed", str(seed_dir), "--moderation", str(moderation), "--rate-limit", "1000"], env
    )
    try:
        assert url.startswith("http://127.0.0.1:")
        with ClawHubClient(url) as client:
            assert client.discover().api_base == url
            assert isinstance(client.download("weather"), BlockedUpstream)
            assert isinstance(client.download("iffy"), Downloaded)
            answer = client.transport.request("GET", "/api/v1/skills/iffy", "detail", max_bytes=1 << 20)
            assert answer.headers["X-RateLimit-Limit"] == "1000"
        with ClawHubClient(url, token="clh_cliStaffToken") as staff:
            assert staff.whoami() == "mod"
            assert staff.post_moderation("iffy", "1.0.0", {"verdict": "suspicious"})["ok"] is True
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_ls_show_download_discover(fake: FakeServer, tmp_path: Path) -> None:
    listed = runner.invoke(app, ["registry", "ls", "--registry", fake.url, "--limit", "0", "--json"])
    assert listed.exit_code == 0, listed.output
    slugs = {json.loads(line)["slug"] for line in listed.stdout.splitlines()}
    assert slugs == {s.slug for s in fake.store.listed_skills()}

    shown = runner.invoke(app, ["registry", "show", "clawhub:weather@1.1.0", "--registry", fake.url])
    assert shown.exit_code == 0 and "scripts/fetch.sh" in shown.stdout and "local/weather" in shown.stdout

    target = tmp_path / "w.zip"
    got = runner.invoke(
        app, ["registry", "download", "weather@1.0.0", "-o", str(target), "--registry", fake.url]
    )
    assert got.exit_code == 0 and target.read_bytes()[:2] == b"PK"

    blocked = runner.invoke(app, ["registry", "download", "evil", "--json", "--registry", fake.url])
    assert blocked.exit_code == 3 and json.loads(blocked.stdout)["kind"] == "blocked-upstream"

    ambiguous = runner.invoke(app, ["registry", "download", "notes", "--registry", fake.url])
    assert ambiguous.exit_code == 1 and "alice" in ambiguous.output

    mark = tmp_path / "mark.json"
    first = runner.invoke(
        app, ["registry", "discover", "--mark", str(mark), "--save", "--registry", fake.url]
    )
    assert first.exit_code == 0 and "@local/weather@1.1.0" in first.stdout
    fake.admin.publish("weather", "2.0.0", {"SKILL.md": "new\n"})
    second = runner.invoke(
        app, ["registry", "discover", "--mark", str(mark), "--save", "--registry", fake.url]
    )
    assert second.exit_code == 0 and second.stdout.split()[:1] == ["@local/weather@2.0.0"]


def test_registry_url_comes_from_the_environment(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLSCAN_REGISTRY_URL", fake.url)
    listed = runner.invoke(app, ["registry", "ls", "--limit", "3"])
    assert listed.exit_code == 0 and len(listed.stdout.splitlines()) == 3


def _has_command(name: str) -> bool:
    import typer.main

    return name in typer.main.get_command(app).commands  # type: ignore[attr-defined]


def test_scan_clawhub_reference_end_to_end(fake: FakeServer) -> None:
    if not _has_command("scan"):
        pytest.skip("the scan command is not registered yet")
    result = runner.invoke(
        app, ["scan", "clawhub:@local/weather@1.1.0", "--registry", fake.url, "--format", "json"]
    )
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    skill = reports[0]["skill"]
    assert (skill["owner"], skill["slug"], skill["version"]) == ("local", "weather", "1.1.0")
    blocked = runner.invoke(app, ["scan", "clawhub:evil", "--registry", fake.url])
    assert blocked.exit_code != 0 and "blocked-upstream" in blocked.output
