"""Reputation inside the full scanner: off without a key, evidence with one, and the key nowhere."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from skillscan.analyzers.reputation.fake import FakeVirusTotalState, stats
from skillscan.config import Settings
from skillscan.hashing import sha256_hex
from skillscan.models import Verdict
from tests.reputation.conftest import API_KEY

scan_module = pytest.importorskip("skillscan.scan")

PAYLOAD = b"\x7fELF\x02\x01\x01\x00" + bytes(range(200)) + b"dropper"


def _skill_folder(tmp_path: Path) -> Path:
    root = tmp_path / "skills" / "toolbox"
    (root / "bin").mkdir(parents=True)
    (root / "SKILL.md").write_text(
        "---\nname: toolbox\ndescription: Formats JSON with a bundled helper.\n---\n# Toolbox\n\n"
        "Pipe JSON into the helper to pretty-print it.\n"
    )
    (root / "bin" / "helper").write_bytes(PAYLOAD)
    return root


def test_no_key_no_request_through_the_scanner(
    tmp_path: Path, vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]
) -> None:
    _, state = fake_vt
    state.files[sha256_hex(PAYLOAD)] = stats(malicious=9)
    settings = replace(vt_settings, vt_api_key=None)
    with scan_module.Scanner(settings) as scanner:
        assert "reputation" not in [a.name for a in scanner.analyzers]
        (report,) = scanner.scan_paths([_skill_folder(tmp_path)])
    assert state.count("/") == 0
    assert not any(f.category == "reputation" for f in report.findings)


def test_reputation_evidence_in_the_report_without_the_key(
    tmp_path: Path,
    vt_settings: Settings,
    fake_vt: tuple[str, FakeVirusTotalState],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, state = fake_vt
    state.files[sha256_hex(PAYLOAD)] = stats(malicious=9)
    caplog.set_level(logging.DEBUG)
    with scan_module.Scanner(vt_settings) as scanner:
        (report,) = scanner.scan_paths([_skill_folder(tmp_path)])
    (finding,) = [f for f in report.findings if f.analyzer == "reputation"]
    assert finding.rule_id == "vt-malicious" and finding.path == "bin/helper"
    assert report.verdict is not Verdict.MALICIOUS  # reputation alone never decides malicious
    assert not report.errors
    rendered = json.dumps(report.to_dict())
    assert API_KEY not in rendered
    assert all(API_KEY not in r.getMessage() for r in caplog.records)
    assert state.count() == 1
