"""The pipeline with controllable engines: failures and hangs cost a verdict, never the scan."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from skillscan.analyzers.interface import Analyzer
from skillscan.bundle import load_folder
from skillscan.config import Limits, Settings
from skillscan.models import AnalysisResult, Category, Finding, Severity, Skill, Verdict
from skillscan.scan import Scanner

SKILL_MD = "---\nname: demo\ndescription: demo skill\n---\n# Demo\n"


class Fixed(Analyzer):
    name = "fixed"

    def __init__(self, severity: Severity | None) -> None:
        self.severity = severity
        self.batches: list[int] = []

    def analyze_batch(self, skills):  # type: ignore[no-untyped-def]
        self.batches.append(len(skills))
        return super().analyze_batch(skills)

    def analyze(self, skill: Skill) -> AnalysisResult:
        if self.severity is None:
            return AnalysisResult()
        f = Finding(
            "fixed-rule", self.name, Category.REMOTE_EXEC, self.severity, "SKILL.md", 5, "bad", "curl|sh"
        )
        return AnalysisResult(findings=(f, f))  # duplicates are merged


class Crashing(Analyzer):
    name = "crashing"

    def analyze(self, skill: Skill) -> AnalysisResult:
        raise RuntimeError("engine bug")


class Hanging(Analyzer):
    name = "hanging"

    def __init__(self) -> None:
        self.release = threading.Event()

    def analyze(self, skill: Skill) -> AnalysisResult:
        self.release.wait(30)
        return AnalysisResult()


def make_skill(tmp_path: Path, name: str = "demo") -> Skill:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "SKILL.md").write_text(SKILL_MD)
    return load_folder(folder, Limits())


def scanner(*analyzers: Analyzer, timeout: float = 30.0) -> Scanner:
    settings = Settings(limits=replace(Limits(), analyzer_timeout_s=timeout))
    return Scanner(settings, analyzers=list(analyzers))


def test_clean_when_nothing_found(tmp_path: Path) -> None:
    (report,) = scanner(Fixed(None)).scan_skills([make_skill(tmp_path)])
    assert report.verdict is Verdict.CLEAN
    assert report.files and report.files[0].path == "SKILL.md"
    assert report.ruleset_digest


def test_findings_merged_and_decided(tmp_path: Path) -> None:
    (report,) = scanner(Fixed(Severity.CRITICAL)).scan_skills([make_skill(tmp_path)])
    assert report.verdict is Verdict.MALICIOUS
    assert len(report.findings) == 1


def test_crash_is_indeterminate_not_clean(tmp_path: Path) -> None:
    (report,) = scanner(Fixed(None), Crashing()).scan_skills([make_skill(tmp_path)])
    assert report.verdict is Verdict.INDETERMINATE
    assert any(e.analyzer == "crashing" and "engine bug" in e.detail for e in report.errors)


def test_evidence_wins_over_crash(tmp_path: Path) -> None:
    (report,) = scanner(Fixed(Severity.CRITICAL), Crashing()).scan_skills([make_skill(tmp_path)])
    assert report.verdict is Verdict.MALICIOUS
    assert report.errors


def test_hanging_analyzer_times_out(tmp_path: Path) -> None:
    hanging = Hanging()
    try:
        (report,) = scanner(Fixed(None), hanging, timeout=0.5).scan_skills([make_skill(tmp_path)])
    finally:
        hanging.release.set()
    assert report.verdict is Verdict.INDETERMINATE
    assert any(e.analyzer == "hanging" and "timed out" in e.detail for e in report.errors)


def test_batches_share_one_call(tmp_path: Path) -> None:
    fixed = Fixed(None)
    skills = [make_skill(tmp_path, f"s{i}") for i in range(5)]
    reports = scanner(fixed).scan_skills(skills)
    assert fixed.batches == [5]
    assert [r.source for r in reports] == [s.source for s in skills]


def test_scan_paths_finds_each_skill_of_a_parent_folder(tmp_path: Path) -> None:
    for name in ("a", "b"):
        make_skill(tmp_path, name)
    reports = scanner(Fixed(None)).scan_paths([tmp_path])
    assert sorted(Path(r.source).name for r in reports) == ["a", "b"]


def test_suppression_applies_to_this_file_content_only(tmp_path: Path) -> None:
    skill = make_skill(tmp_path)
    sha = skill.file("SKILL.md").sha256  # type: ignore[union-attr]
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(
        f"suppressions:\n  - {{rule_id: fixed-rule, path: SKILL.md, sha256: {sha}, reason: reviewed}}\n"
    )
    settings = Settings(policy_file=policy_file)
    (report,) = Scanner(settings, analyzers=[Fixed(Severity.CRITICAL)]).scan_skills([skill])
    assert report.verdict is Verdict.CLEAN and not report.findings
    assert any("suppressed fixed-rule" in n for n in report.notes)

    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / "SKILL.md").write_text(SKILL_MD + "\nmore\n")
    (report,) = Scanner(settings, analyzers=[Fixed(Severity.CRITICAL)]).scan_skills(
        [load_folder(changed, Limits())]
    )
    assert report.verdict is Verdict.MALICIOUS
