"""Maintainer actions on a stored verdict: suppress one finding, override a verdict.

Pure: takes a report and the recorded actions, returns the effective report. A suppression names a
rule id, a file path and that file's sha256 — never a glob — so it stops matching as soon as the
file changes. An override replaces the verdict outright; both are recorded with who and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from skillscan.models import Decision, Finding, ScanError, ScanReport, Verdict

Decide = Callable[[Sequence[Finding], Sequence[ScanError]], tuple[Verdict, Decision, str]]
DecisionFor = Callable[[Verdict], Decision]


@dataclass(frozen=True, slots=True)
class Suppression:
    id: int
    rule_id: str
    path: str
    file_sha256: str
    reason: str
    who: str
    created_at: datetime
    scan_id: int | None = None  # the report it was made on

    def matches(self, finding: Finding, file_hashes: Mapping[str, str]) -> bool:
        return (
            finding.rule_id == self.rule_id
            and finding.path == self.path
            and file_hashes.get(finding.path) == self.file_sha256
        )


@dataclass(frozen=True, slots=True)
class Override:
    id: int
    scan_id: int
    verdict: Verdict
    reason: str
    who: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Effective:
    """A report after maintainer actions, with what changed it."""

    report: ScanReport
    original: ScanReport
    suppressed: tuple[tuple[Finding, Suppression], ...]
    override: Override | None

    @property
    def changed(self) -> bool:
        return self.report.verdict != self.original.verdict or self.report.decision != self.original.decision


def file_hashes(report: ScanReport) -> dict[str, str]:
    return {f.path: f.sha256 for f in report.files}


def apply_actions(
    report: ScanReport,
    suppressions: Sequence[Suppression],
    override: Override | None,
    decide: Decide,
    decision_for: DecisionFor,
) -> Effective:
    hashes = file_hashes(report)
    kept: list[Finding] = []
    suppressed: list[tuple[Finding, Suppression]] = []
    for finding in report.findings:
        match = next((s for s in suppressions if s.matches(finding, hashes)), None)
        if match is None:
            kept.append(finding)
        else:
            suppressed.append((finding, match))
    effective = report
    if suppressed:
        verdict, decision, reason = decide(kept, report.errors)
        n = len(suppressed)
        reason = f"{reason} ({n} finding{'s' if n > 1 else ''} suppressed by maintainers)"
        effective = replace(report, findings=tuple(kept), verdict=verdict, decision=decision, reason=reason)
    if override is not None:
        effective = replace(
            effective,
            verdict=override.verdict,
            decision=decision_for(override.verdict),
            reason=f"verdict overridden by {override.who}: {override.reason}",
        )
    return Effective(effective, report, tuple(suppressed), override)
