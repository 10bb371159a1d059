"""Effective verdicts: a stored scan with the maintainers' suppressions and override applied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from skillscan.config import Settings
from skillscan.models import Decision, Finding, ScanError, ScanReport, Verdict
from skillscan.service.actions import Decide, DecisionFor, Effective, apply_actions, file_hashes
from skillscan.service.records import ServiceRecords

if TYPE_CHECKING:
    from skillscan.store import StoredScan, VerdictStore

# The documented defaults, for a policy file that leaves a verdict's decision out.
DEFAULT_DECISIONS = {
    Verdict.MALICIOUS: Decision.BLOCK,
    Verdict.SUSPICIOUS: Decision.WARN,
    Verdict.INDETERMINATE: Decision.BLOCK,
    Verdict.CLEAN: Decision.ALLOW,
}


def policy_functions(settings: Settings) -> tuple[Decide, DecisionFor]:
    """`decide(findings, errors)` and `decision_for(verdict)` from the configured verdict policy."""
    from skillscan.verdict import decide, load_policy

    policy = load_policy(settings.policy_file)

    def decide_with_policy(
        findings: Sequence[Finding], errors: Sequence[ScanError]
    ) -> tuple[Verdict, Decision, str]:
        return decide(list(findings), list(errors), policy)

    def decision_for(verdict: Verdict) -> Decision:
        return policy.decisions.get(verdict, DEFAULT_DECISIONS[verdict])

    return decide_with_policy, decision_for


class Verdicts:
    def __init__(
        self, store: VerdictStore, records: ServiceRecords, decide: Decide, decision_for: DecisionFor
    ):
        self.store = store
        self.records = records
        self.decide = decide
        self.decision_for = decision_for

    def effective(self, stored: StoredScan) -> Effective:
        original = self.records.original(stored.id) or stored.report
        return self._apply(original, stored.id, stored.fingerprint)

    def for_new(self, report: ScanReport) -> Effective:
        """Actions already recorded for these files / this bundle, applied before a scan is stored."""
        return self._apply(report, -1, report.skill.fingerprint or "")

    def refresh(self, scan_id: int) -> Effective | None:
        """Recompute after a maintainer action and make the result the stored verdict."""
        stored = self.store.get_scan(scan_id)
        if stored is None:
            return None
        effective = self.effective(stored)
        self.records.replace_stored(scan_id, effective.original, effective.report)
        return effective

    def record(self, report: ScanReport, *, source: str, identity: tuple[str, str, str]) -> int:
        effective = self.for_new(report)
        owner, slug, version = identity
        scan_id = self.store.record_scan(
            effective.report, owner=owner, slug=slug, version=version, source=source
        )
        if effective.suppressed or effective.override is not None:
            self.records.replace_stored(scan_id, effective.original, effective.report)
        return scan_id

    def _apply(self, report: ScanReport, scan_id: int, fingerprint: str) -> Effective:
        suppressions = self.records.suppressions_for(report.findings, file_hashes(report))
        override = self.records.override_for(scan_id, fingerprint)
        return apply_actions(report, suppressions, override, self.decide, self.decision_for)
