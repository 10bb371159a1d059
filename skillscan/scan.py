"""The scan pipeline: load skills, run every analyzer over batches of them, decide verdicts."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from skillscan import __version__
from skillscan.analyzers.interface import Analyzer
from skillscan.bundle import load_skills
from skillscan.config import Settings
from skillscan.errors import SkillscanError
from skillscan.models import AnalysisResult, FileEntry, Finding, ScanError, ScanReport, Skill
from skillscan.rules import ruleset_digest
from skillscan.verdict import Policy, decide, load_policy

CLAWHUB_PREFIX = "clawhub:"
BATCH_SIZE = 200  # skills per analyzer batch: one Semgrep call each, memory bounded by the batch


def default_analyzers(settings: Settings) -> list[Analyzer]:
    """Every engine, in report order. Reputation joins only when a VirusTotal key is configured."""
    from skillscan.analyzers.hosts import HostsAnalyzer
    from skillscan.analyzers.prompt import PromptAnalyzer
    from skillscan.analyzers.reputation import build_reputation_analyzer
    from skillscan.analyzers.semgrep import SemgrepAnalyzer
    from skillscan.analyzers.treesitter import TreeSitterAnalyzer
    from skillscan.analyzers.yara import YaraAnalyzer
    from skillscan.manifest import ManifestAnalyzer

    analyzers: list[Analyzer] = [
        ManifestAnalyzer(),
        YaraAnalyzer(settings),
        SemgrepAnalyzer(settings),
        TreeSitterAnalyzer(),
        PromptAnalyzer(),
        HostsAnalyzer(),
    ]
    reputation = build_reputation_analyzer(settings)
    if reputation is not None:
        analyzers.append(reputation)
    return analyzers


class Scanner:
    def __init__(
        self,
        settings: Settings,
        analyzers: Sequence[Analyzer] | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.settings = settings
        self.analyzers = list(analyzers) if analyzers is not None else default_analyzers(settings)
        self.policy = policy or load_policy(settings.policy_file)
        self.ruleset = ruleset_digest(settings)

    def close(self) -> None:
        for analyzer in self.analyzers:
            analyzer.close()

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, path: str | Path) -> list[Skill]:
        """Skills under one path; `clawhub:` references are fetched from the registry."""
        if isinstance(path, str) and path.startswith(CLAWHUB_PREFIX):
            from skillscan.registry.source import load_clawhub_ref

            return [load_clawhub_ref(path, self.settings)]
        return load_skills(path, self.settings.limits)

    def scan_paths(self, paths: Sequence[str | Path]) -> list[ScanReport]:
        """Scan every skill found under `paths`. Raises SkillscanError for an unusable path."""
        return [report for batch in self.iter_batches(paths) for report in batch]

    def iter_batches(self, paths: Sequence[str | Path]) -> Iterator[list[ScanReport]]:
        pending: list[Skill] = []
        for path in paths:
            for skill in self.load(path):
                pending.append(skill)
                if len(pending) >= BATCH_SIZE:
                    yield self.scan_skills(pending)
                    pending = []
        if pending:
            yield self.scan_skills(pending)

    def scan_skills(self, skills: Sequence[Skill]) -> list[ScanReport]:
        """Scan a batch: every analyzer sees the whole batch once, all analyzers concurrently."""
        if not skills:
            return []
        results, timings = self._run_analyzers(skills)
        reports = []
        for i, skill in enumerate(skills):
            findings = list(skill.findings)
            errors = list(skill.errors)
            notes: list[str] = []
            for per_skill in results.values():
                findings.extend(per_skill[i].findings)
                errors.extend(per_skill[i].errors)
                notes.extend(per_skill[i].notes)
            reports.append(self._report(skill, findings, errors, notes, timings))
        return reports

    def _run_analyzers(
        self, skills: Sequence[Skill]
    ) -> tuple[dict[str, list[AnalysisResult]], dict[str, float]]:
        timeout = self.settings.limits.analyzer_timeout_s + 0.5 * len(skills)
        results: dict[str, list[AnalysisResult]] = {}
        timings: dict[str, float] = {}
        pool = ThreadPoolExecutor(max_workers=len(self.analyzers), thread_name_prefix="analyzer")
        try:
            started = time.monotonic()
            futures: dict[str, Future[tuple[list[AnalysisResult], float]]] = {
                a.name: pool.submit(_timed, a, skills) for a in self.analyzers
            }
            for name, future in futures.items():
                remaining = max(0.0, timeout - (time.monotonic() - started))
                try:
                    per_skill, elapsed = future.result(timeout=remaining)
                    if len(per_skill) != len(skills):
                        raise SkillscanError(f"returned {len(per_skill)} results for {len(skills)} skills")
                    results[name], timings[name] = per_skill, elapsed
                except FutureTimeout:
                    results[name] = _failed(skills, name, f"timed out after {timeout:.0f} s")
                except Exception as e:  # an engine bug must cost a verdict, never the scan
                    results[name] = _failed(skills, name, f"{type(e).__name__}: {e}")
        finally:
            # A hung engine thread cannot be killed; it is abandoned and its result ignored.
            pool.shutdown(wait=False, cancel_futures=True)
        return results, timings

    def _report(
        self,
        skill: Skill,
        findings: list[Finding],
        errors: list[ScanError],
        notes: list[str],
        timings: dict[str, float],
    ) -> ScanReport:
        unique = sorted(
            {(f.rule_id, f.path, f.line): f for f in reversed(findings)}.values(), key=Finding.sort_key
        )
        verdict, decision, reason = decide(unique, errors, self.policy)
        return ScanReport(
            skill=skill.identity,
            source=skill.source,
            files=tuple(FileEntry(f.path, f.kind, f.size, f.sha256) for f in skill.real_files),
            findings=tuple(unique),
            errors=tuple(errors),
            verdict=verdict,
            decision=decision,
            reason=reason,
            tool_version=__version__,
            ruleset_digest=self.ruleset,
            timings={k: round(v, 4) for k, v in timings.items()},
            notes=tuple(notes),
        )


def _timed(analyzer: Analyzer, skills: Sequence[Skill]) -> tuple[list[AnalysisResult], float]:
    start = time.monotonic()
    out = analyzer.analyze_batch(skills)
    return out, time.monotonic() - start


def _failed(skills: Sequence[Skill], analyzer: str, detail: str) -> list[AnalysisResult]:
    return [AnalysisResult(errors=(ScanError(analyzer, None, detail),)) for _ in skills]
