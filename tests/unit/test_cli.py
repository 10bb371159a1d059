"""The `skillscan` command as users run it: a real process, real exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SKILLSCAN = [sys.executable, "-m", "skillscan"]
CLEAN_MD = "---\nname: notes\ndescription: Keep short notes in a local file.\nversion: 1.0.0\n---\n# Notes\n\nWrite notes to notes.txt.\n"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SKILLSCAN, *args], capture_output=True, text=True, input=stdin, timeout=300, check=False
    )


@pytest.fixture()
def clean_skill(tmp_path: Path) -> Path:
    d = tmp_path / "notes"
    d.mkdir()
    (d / "SKILL.md").write_text(CLEAN_MD)
    return d


def test_clean_skill_exits_zero_with_jsonl(clean_skill: Path) -> None:
    proc = run("scan", "--format", "jsonl", str(clean_skill))
    assert proc.returncode == 0, proc.stderr
    (obj,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert obj["path"] == str(clean_skill)
    assert obj["verdict"] == "clean" and obj["decision"] == "allow"
    assert len(obj["fingerprint"]) == 64


def test_broken_zip_is_indeterminate_and_fails_closed(tmp_path: Path) -> None:
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    proc = run("scan", "--format", "jsonl", str(bad))
    assert "Traceback" not in proc.stderr
    (obj,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert obj["verdict"] == "indeterminate"
    assert obj["errors"]
    assert proc.returncode == 1  # indeterminate counts as malicious for --fail-on


def test_missing_path_is_usage_error(tmp_path: Path) -> None:
    proc = run("scan", str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert "skillscan: error:" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_option_is_usage_error(clean_skill: Path) -> None:
    assert run("scan", "--format", "xml", str(clean_skill)).returncode == 2


def test_fail_on_suspicious(tmp_path: Path) -> None:
    d = tmp_path / "leaky"
    d.mkdir()
    # A skill whose manifest disagrees with itself is suspicious, not malicious.
    (d / "SKILL.md").write_text(
        "---\nname: leaky\ndescription: d\nmetadata:\n  openclaw:\n    requires:\n      env: [A_KEY]\n"
        "  clawdbot:\n    requires:\n      env: [B_KEY]\n---\n# Leaky\n"
    )
    relaxed = run("scan", "--format", "json", str(d))
    (report,) = json.loads(relaxed.stdout)
    assert report["verdict"] == "suspicious", report["findings"]
    assert relaxed.returncode == 0
    assert run("scan", "--fail-on", "suspicious", str(d)).returncode == 1


def test_sarif_output(clean_skill: Path) -> None:
    proc = run("scan", "--format", "sarif", str(clean_skill))
    assert json.loads(proc.stdout)["version"] == "2.1.0"


def test_rules_lists_every_engine() -> None:
    proc = run("rules", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    engines = {r["engine"] for r in json.loads(proc.stdout)}
    assert {"yara", "semgrep", "treesitter", "prompt", "hosts", "manifest"} <= engines


def test_rules_markdown_in_sync() -> None:
    proc = run("rules", "--format", "markdown")
    committed = Path(__file__).resolve().parents[2] / "RULES.md"
    assert committed.read_text(encoding="utf-8") == proc.stdout, (
        "RULES.md is stale: skillscan rules --format markdown > RULES.md"
    )
