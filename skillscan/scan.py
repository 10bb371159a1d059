"""The scan pipeline: load skills, run every analyzer over batches of them, decide verdicts."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from skillscan import __version__
from skillscan._subprocess import ToolTimeout
from skillscan.analyzers.interface import Analyzer
from skillscan.bundle import load_skills
from skillscan.config import Settings
from skillscan.errors import SkillscanError
from skillscan.memory import limit_heap_arenas, release_free_memory
from skillscan.models import AnalysisResult, FileEntry, Finding, ScanError, ScanReport, Skill
from skillscan.rules import ruleset_digest
from skillscan.verdict import Policy, decide, load_policy

CLAWHUB_PREFIX = "clawhub:"
BATCH_SIZE = 200  # skills per analyzer batch: one Semgrep call each, memory bounded by the batch


def default_analyzers(settings: Settings) -> list[Analyzer]:
    """Every engine, in report order. Engines whose module is not installed are left out;
    reputation joins only when configured (a VirusTotal key)."""
    from skillscan.analyzers.semgrep import SemgrepAnalyzer
    from skillscan.analyzers.treesitter import TreeSitterAnalyzer
    from skillscan.analyzers.yara import YaraAnalyzer
    from skillscan.manifest import ManifestAnalyzer

    analyzers: list[Analyzer] = [
        ManifestAnalyzer(),
        YaraAnalyzer(settings),
        SemgrepAnalyzer(settings),
        TreeSitterAnalyzer(),
    ]
    for module, attr in (("prompt", "PromptAnalyzer"), ("hosts", "HostsAnalyzer")):
        factory = _optional(f"skillscan.analyzers.{module}", attr)
        engine = factory() if factory is not None else None
        if engine is not None:
            analyzers.append(engine)
    if settings.vt_api_key:  # without a key there are no lookups: spare the CLI the import
        build_reputation = _optional("skillscan.analyzers.reputation", "build_reputation_analyzer")
        reputation = build_reputation(settings) if build_reputation is not None else None
        if reputation is not None:
            analyzers.append(reputation)
    return analyzers


def load_path(path: str | Path, settings: Settings) -> list[Skill]:
    """Skills under one path; `clawhub:` references are fetched from the registry."""
    if isinstance(path, str) and path.startswith(CLAWHUB_PREFIX):
        from skillscan.registry.source import load_clawhub_ref

        return [load_clawhub_ref(path, settings)]
    return load_skills(path, settings.limits)


def load_batches(paths: Sequence[str | Path], settings: Settings, size: int) -> Iterator[list[Skill]]:
    """The skills under `paths`, in order, `size` at a time (the last batch may be smaller)."""
    pending: list[Skill] = []
    for path in paths:
        for skill in load_path(path, settings):
            pending.append(skill)
            if len(pending) == size:
                yield pending
                pending = []
    if pending:
        yield pending


def _optional(module: str, attr: str) -> Callable[..., Analyzer | None] | None:
    """An engine's factory when its module exists; any other import failure is a real bug."""
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name == module:
            return None
        raise
    factory: Callable[..., Analyzer | None] | None = getattr(found, attr, None)
    return factory


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
        limit_heap_arenas()  # before any analyzer thread: per-thread arenas fragment (memory.py)

    def close(self) -> None:
        for analyzer in self.analyzers:
            analyzer.close()

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scan_paths(self, paths: Sequence[str | Path]) -> list[ScanReport]:
        """Scan every skill found under `paths`. Raises SkillscanError for an unusable path."""
        return [report for batch in self.iter_batches(paths) for report in batch]

    def iter_batches(self, paths: Sequence[str | Path]) -> Iterator[list[ScanReport]]:
        for skills in load_batches(paths, self.settings, BATCH_SIZE):
            yield self.scan_skills(skills)

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
        release_free_memory()  # a long-lived scanner's RSS stays flat across batches (memory.py)
        return reports

    def _run_analyzers(
        self, skills: Sequence[Skill]
    ) -> tuple[dict[str, list[AnalysisResult]], dict[str, float]]:
        """Every analyzer in its own daemon thread, each waited for within its budget. A hung
        engine cannot be killed from Python: its thread is abandoned (daemon threads never hold
        up process exit) and its result becomes a ScanError for every skill of the batch."""
        base = self.settings.limits.analyzer_timeout_s + 0.5 * len(skills)
        started = time.monotonic()
        running: list[tuple[str, float, Future[tuple[list[AnalysisResult], float]]]] = []
        for analyzer in self.analyzers:
            future: Future[tuple[list[AnalysisResult], float]] = Future()
            threading.Thread(
                target=_run_into,
                args=(future, analyzer, skills),
                name=f"analyzer-{analyzer.name}",
                daemon=True,
            ).start()
            running.append((analyzer.name, max(base, _own_budget(analyzer, len(skills))), future))
        results: dict[str, list[AnalysisResult]] = {}
        timings: dict[str, float] = {}
        for name, budget, future in running:
            remaining = max(0.0, budget - (time.monotonic() - started))
            try:
                per_skill, elapsed = future.result(timeout=remaining)
                if len(per_skill) != len(skills):
                    raise SkillscanError(f"returned {len(per_skill)} results for {len(skills)} skills")
                results[name], timings[name] = per_skill, elapsed
            except FutureTimeout:
                results[name] = _failed(skills, name, f"timed out after {budget:.0f} s", timed_out=True)
                timings[name] = time.monotonic() - started
            except Exception as e:  # an engine bug must cost a verdict, never the scan
                detail = f"{type(e).__name__}: {e}"
                results[name] = _failed(skills, name, detail, timed_out=isinstance(e, ToolTimeout))
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
        if self.policy.suppressions:
            unique, suppressed = self.policy.suppressed(unique, {f.path: f.sha256 for f in skill.real_files})
            notes = [*notes, *suppressed]
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


def _run_into(
    future: Future[tuple[list[AnalysisResult], float]], analyzer: Analyzer, skills: Sequence[Skill]
) -> None:
    if not future.set_running_or_notify_cancel():
        return
    start = time.monotonic()
    try:
        out = analyzer.analyze_batch(skills)
    except BaseException as e:  # delivered to the waiting scanner, which records it
        future.set_exception(e)
    else:
        future.set_result((out, time.monotonic() - start))


def _own_budget(analyzer: Analyzer, n_skills: int) -> float:
    """An engine that enforces its own wall clock (Semgrep kills its process group) says how long
    that is, so the scanner waits for its clean timeout instead of abandoning a live tool."""
    budget = getattr(analyzer, "budget_s", None)
    return float(budget(n_skills)) if callable(budget) else 0.0


def _failed(
    skills: Sequence[Skill], analyzer: str, detail: str, *, timed_out: bool = False
) -> list[AnalysisResult]:
    error = ScanError(analyzer, None, detail, timed_out=timed_out)
    return [AnalysisResult(errors=(error,)) for _ in skills]
