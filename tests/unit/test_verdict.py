from __future__ import annotations

from pathlib import Path

import pytest

from skillscan.errors import ConfigError
from skillscan.models import Category, Confidence, Decision, Finding, RuleStatus, ScanError, Severity, Verdict
from skillscan.verdict import decide, load_policy

POLICY = load_policy()


def finding(
    severity: Severity,
    category: Category = Category.REMOTE_EXEC,
    status: RuleStatus = RuleStatus.STABLE,
    confidence: Confidence = Confidence.HIGH,
    rule_id: str = "r",
) -> Finding:
    return Finding(rule_id, "test", category, severity, "SKILL.md", 3, "m", "e", confidence, status)


ERR = ScanError("semgrep", None, "timed out")


@pytest.mark.parametrize(
    ("findings", "errors", "verdict", "decision"),
    [
        ([], [], Verdict.CLEAN, Decision.ALLOW),
        ([finding(Severity.MEDIUM)], [], Verdict.CLEAN, Decision.ALLOW),
        ([finding(Severity.HIGH)], [], Verdict.SUSPICIOUS, Decision.WARN),
        ([finding(Severity.CRITICAL)], [], Verdict.MALICIOUS, Decision.BLOCK),
        # evidence wins over errors
        ([finding(Severity.CRITICAL)], [ERR], Verdict.MALICIOUS, Decision.BLOCK),
        # errors without decisive evidence: never clean
        ([], [ERR], Verdict.INDETERMINATE, Decision.BLOCK),
        ([finding(Severity.HIGH)], [ERR], Verdict.INDETERMINATE, Decision.BLOCK),
        # hygiene categories never decide malicious alone
        ([finding(Severity.CRITICAL, Category.HOSTNAME_LEAK)], [], Verdict.SUSPICIOUS, Decision.WARN),
        ([finding(Severity.CRITICAL, Category.SECRET_LEAK)], [], Verdict.SUSPICIOUS, Decision.WARN),
        # experimental rules report but never change the verdict
        ([finding(Severity.CRITICAL, status=RuleStatus.EXPERIMENTAL)], [], Verdict.CLEAN, Decision.ALLOW),
        # low confidence critical is not proof
        ([finding(Severity.CRITICAL, confidence=Confidence.LOW)], [], Verdict.SUSPICIOUS, Decision.WARN),
    ],
)
def test_policy_table(findings, errors, verdict, decision) -> None:  # type: ignore[no-untyped-def]
    got_verdict, got_decision, reason = decide(findings, errors, POLICY)
    assert (got_verdict, got_decision) == (verdict, decision)
    assert reason


def test_reason_names_top_finding_and_location() -> None:
    _, _, reason = decide(
        [finding(Severity.HIGH, rule_id="low-one"), finding(Severity.CRITICAL, rule_id="top")], [], POLICY
    )
    assert reason.startswith("top (critical) at SKILL.md:3")


def test_policy_override_file(tmp_path: Path) -> None:
    override = tmp_path / "policy.toml"
    override.write_text('[decisions]\nsuspicious = "block"\n[suspicious]\nmin_severity = "medium"\n')
    policy = load_policy(override)
    verdict, decision, _ = decide([finding(Severity.MEDIUM)], [], policy)
    assert (verdict, decision) == (Verdict.SUSPICIOUS, Decision.BLOCK)
    # untouched keys keep their defaults
    assert policy.decisions[Verdict.MALICIOUS] is Decision.BLOCK


def test_policy_typo_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("suspicious:\n  min_severity: hihg\n")
    with pytest.raises(ConfigError):
        load_policy(bad)


def test_suppression_needs_sha256_and_reason(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("suppressions:\n  - {rule_id: r, path: SKILL.md, sha256: abc, reason: fine}\n")
    with pytest.raises(ConfigError, match="64 hex"):
        load_policy(bad)
    bad.write_text(f"suppressions:\n  - {{rule_id: r, path: SKILL.md, sha256: {'a' * 64}, reason: ''}}\n")
    with pytest.raises(ConfigError, match="reason"):
        load_policy(bad)


def test_suppression_matches_rule_path_and_content(tmp_path: Path) -> None:
    override = tmp_path / "policy.yaml"
    override.write_text(
        f"suppressions:\n  - {{rule_id: r, path: SKILL.md, sha256: {'a' * 64}, reason: reviewed}}\n"
    )
    policy = load_policy(override)
    f = finding(Severity.CRITICAL)
    kept, notes = policy.suppressed([f], {"SKILL.md": "a" * 64})
    assert kept == [] and notes == ["suppressed r at SKILL.md:3: reviewed"]
    kept, _ = policy.suppressed([f], {"SKILL.md": "b" * 64})  # the file changed: the finding is back
    assert kept == [f]
    other_rule = finding(Severity.CRITICAL, rule_id="other")
    assert policy.suppressed([other_rule], {"SKILL.md": "a" * 64})[0] == [other_rule]
