"""Headless Chromium reads the maintainer reports the way a maintainer would (Debian's `chromium`)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.service import skills
from tests.service.conftest import ALICE_TOKEN, REPO_ROOT, LiveServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
OUT = REPO_ROOT / "bench" / "out"


def _chromium(url: str, profile: Path, *extra: str) -> str:
    assert CHROMIUM is not None
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        *extra,
        url,
    ]
    proc = subprocess.run(args, capture_output=True, timeout=90)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    return proc.stdout.decode(errors="replace")


def _login_url(service: LiveServer, page: str) -> str:
    return f"{service.url}/login?token={quote(ALICE_TOKEN)}&next={quote(page)}"


def test_malicious_report_shows_file_and_line(service: LiveServer, tmp_path: Path) -> None:
    job = service.wait(service.upload(skills.malicious(tmp_path / "wallet-browser")))
    assert job["status"] == "done" and job["verdict"] == "malicious", job
    finding = next(f for f in job["report"]["findings"] if f["line"])
    dom = _chromium(_login_url(service, f"/reports/{job['scan_id']}"), tmp_path / "profile", "--dump-dom")
    assert "badge v-malicious" in dom
    locations = set(re.findall(r'<span class="file">([^<]*)</span>:<span class="line">(\d+)</span>', dom))
    assert (html.escape(finding["path"], quote=False), str(finding["line"])) in locations
    OUT.mkdir(parents=True, exist_ok=True)
    shot = OUT / "report-malicious.png"
    _chromium(
        _login_url(service, f"/reports/{job['scan_id']}"),
        tmp_path / "profile2",
        f"--screenshot={shot}",
        "--window-size=1280,2200",
        "--hide-scrollbars",
    )
    assert shot.stat().st_size > 10_000


def test_script_named_skill_is_text_not_code(service: LiveServer, tmp_path: Path) -> None:
    job = service.wait(service.upload(skills.script_named(tmp_path / "notes")))
    assert job["status"] == "done", job
    for page in (f"/reports/{job['scan_id']}", "/reports"):
        dom = _chromium(_login_url(service, page), tmp_path / f"profile{len(page)}", "--dump-dom")
        title = re.search(r"<title>(.*?)</title>", dom, re.S)
        assert title is not None and "pwned" not in title.group(1), title  # no payload ran
        assert "<script" not in dom.lower()  # no element was created from skill content
        assert "<img" not in dom.lower()  # the onerror payload stayed text too
    report_dom = _chromium(
        _login_url(service, f"/reports/{job['scan_id']}"), tmp_path / "profile-r", "--dump-dom"
    )
    assert html.escape(skills.SCRIPT_NAME, quote=False) in report_dom  # shown as text
    OUT.mkdir(parents=True, exist_ok=True)
    _chromium(
        _login_url(service, f"/reports/{job['scan_id']}"),
        tmp_path / "profile-shot",
        f"--screenshot={OUT / 'report-script-named.png'}",
        "--window-size=1280,1600",
        "--hide-scrollbars",
    )
