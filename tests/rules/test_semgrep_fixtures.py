"""Semgrep rules: each has an annotated fixture with both `ruleid:` and `ok:` lines, and
`semgrep --test` passes on all of them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from skillscan.analyzers.semgrep import SemgrepAnalyzer, semgrep_executable
from skillscan.config import Settings
from skillscan.hashing import sha256_hex
from skillscan.models import FileKind, Skill, SkillFile, SkillIdentity
from skillscan.rules import semgrep_rule_files

FIXTURES = Path(__file__).resolve().parent / "semgrep"
RULE_FILES = semgrep_rule_files(Settings())


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: p.stem)
def test_semgrep_rule_has_annotated_fixture(rule_file: Path) -> None:
    fixtures = [p for p in FIXTURES.glob(f"{rule_file.stem}.*") if p.suffix not in (".yaml", ".yml")]
    assert fixtures, f"semgrep rule {rule_file.stem} has no fixture in tests/rules/semgrep/"
    text = "\n".join(p.read_text(encoding="utf-8") for p in fixtures)
    assert f"ruleid: {rule_file.stem}" in text, "fixture lacks a positive (ruleid:) annotation"
    assert f"ok: {rule_file.stem}" in text, "fixture lacks a benign (ok:) annotation"


def test_semgrep_fixtures_pass(tmp_path: Path) -> None:
    if not RULE_FILES:
        pytest.skip("no semgrep rules")
    env = {
        **os.environ,
        "SEMGREP_ENABLE_VERSION_CHECK": "0",
        "SEMGREP_SEND_METRICS": "off",
        "HOME": str(tmp_path),
    }
    proc = subprocess.run(
        [
            semgrep_executable(),
            "--test",
            "--json",
            "--metrics=off",
            "--config",
            str(RULE_FILES[0].parent),
            str(FIXTURES),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    result = json.loads(proc.stdout)
    assert not result.get("config_missing_tests"), result["config_missing_tests"]
    assert not result.get("config_with_errors"), result["config_with_errors"]
    assert result.get("results"), "semgrep --test checked nothing"
    failures = {
        path: r
        for path, r in result.get("results", {}).items()
        if r.get("checks") and not all(c.get("passed") for c in r["checks"].values())
    }
    assert not failures, json.dumps(failures, indent=1)[:4000]
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def _kind(path: Path) -> FileKind:
    return {".py": FileKind.PYTHON, ".js": FileKind.JAVASCRIPT, ".ts": FileKind.TYPESCRIPT}.get(
        path.suffix, FileKind.TEXT
    )


def test_scanner_path_finds_exactly_the_annotated_lines() -> None:
    """The analyzer's own invocation (batched, temp names, native CLI, hardening flags) agrees with
    `semgrep --test`: each rule fires on the line after each `ruleid:` annotation and nowhere else
    in its fixture."""
    if not RULE_FILES:
        pytest.skip("no semgrep rules")
    fixtures = sorted(p for p in FIXTURES.iterdir() if p.stem in {r.stem for r in RULE_FILES})
    files = []
    expected: set[tuple[str, str, int]] = set()
    for p in fixtures:
        text = p.read_text(encoding="utf-8")
        data = text.encode()
        files.append(SkillFile(path=p.name, kind=_kind(p), data=data, sha256=sha256_hex(data), text=text))
        for n, line in enumerate(text.splitlines(), start=1):
            if f"ruleid: {p.stem}" in line:
                expected.add((p.stem, p.name, n + 1 if line.strip().startswith(("#", "//")) else n))
    skill = Skill(source="fixtures", identity=SkillIdentity(), files=tuple(files))
    (result,) = SemgrepAnalyzer(Settings()).analyze_batch([skill])
    assert not result.errors, result.errors
    got = {(f.rule_id, f.path, f.line) for f in result.findings if f.path.startswith(f.rule_id + ".")}
    assert got == expected
    assert all(f.evidence and f.evidence != "requires login" for f in result.findings)
