"""The verdict policy: one table from findings and errors to a verdict and a gate decision."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from skillscan.errors import ConfigError
from skillscan.models import Category, Confidence, Decision, Finding, RuleStatus, ScanError, Severity, Verdict
from skillscan.rules import load_yaml

DEFAULT_POLICY_FILE = Path(__file__).resolve().parent / "policy_default.yaml"
_CONFIDENCE_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}
MAX_REASON_ITEMS = 3


@dataclass(frozen=True, slots=True)
class Suppression:
    """One reviewed false positive: a rule on one file with exactly this content. Any change to
    the file (its sha256) revives the finding; there are no path globs an attacker could aim at."""

    rule_id: str
    path: str
    sha256: str
    reason: str

    def matches(self, f: Finding, file_sha256: Mapping[str, str]) -> bool:
        return f.rule_id == self.rule_id and f.path == self.path and file_sha256.get(f.path) == self.sha256


@dataclass(frozen=True, slots=True)
class Policy:
    malicious_min_severity: Severity
    malicious_min_confidence: Confidence
    malicious_categories: frozenset[Category]
    suspicious_min_severity: Severity
    decisions: Mapping[Verdict, Decision]
    suppressions: tuple[Suppression, ...] = ()

    def suppressed(
        self, findings: Sequence[Finding], file_sha256: Mapping[str, str]
    ) -> tuple[list[Finding], list[str]]:
        """Findings that stand, and a note for each one a suppression removed."""
        kept: list[Finding] = []
        notes: list[str] = []
        for f in findings:
            rule = next((s for s in self.suppressions if s.matches(f, file_sha256)), None)
            if rule is None:
                kept.append(f)
            else:
                notes.append(f"suppressed {f.rule_id} at {f.path}:{f.line or 0}: {rule.reason}")
        return kept, notes

    def is_malicious_evidence(self, f: Finding) -> bool:
        return (
            f.status is RuleStatus.STABLE
            and f.severity >= self.malicious_min_severity
            and _CONFIDENCE_RANK[f.confidence] >= _CONFIDENCE_RANK[self.malicious_min_confidence]
            and f.category in self.malicious_categories
        )

    def is_suspicious_evidence(self, f: Finding) -> bool:
        return f.status is RuleStatus.STABLE and f.severity >= self.suspicious_min_severity


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, Mapping) and isinstance(out.get(key), dict)
            else value
        )
    return out


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else load_yaml(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"policy file {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"policy file {path}: expected a mapping")
    return data


def load_policy(path: Path | None = None) -> Policy:
    data = _read(DEFAULT_POLICY_FILE)
    if path is not None:
        data = _merge(data, _read(path))
    try:
        mal, sus = data["malicious"], data["suspicious"]
        return Policy(
            malicious_min_severity=Severity(mal["min_severity"]),
            malicious_min_confidence=Confidence(mal["min_confidence"]),
            malicious_categories=frozenset(Category(c) for c in mal["categories"]),
            suspicious_min_severity=Severity(sus["min_severity"]),
            decisions={Verdict(k): Decision(v) for k, v in data["decisions"].items()},
            suppressions=tuple(_suppression(x) for x in data.get("suppressions") or ()),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"invalid verdict policy: {e}") from e


def _suppression(item: Mapping[str, Any]) -> Suppression:
    sha = str(item["sha256"]).lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValueError(f"suppression of {item.get('rule_id')!r}: sha256 must be 64 hex digits")
    reason = str(item["reason"]).strip()
    if not reason:
        raise ValueError(f"suppression of {item.get('rule_id')!r}: a reason is required")
    return Suppression(str(item["rule_id"]), str(item["path"]), sha, reason)


def decide(
    findings: Sequence[Finding], errors: Sequence[ScanError], policy: Policy
) -> tuple[Verdict, Decision, str]:
    """Evidence wins: malicious evidence decides even when an analyzer failed; errors without it
    make the verdict indeterminate, never clean."""
    ranked = sorted(findings, key=Finding.sort_key)
    malicious = [f for f in ranked if policy.is_malicious_evidence(f)]
    suspicious = [f for f in ranked if policy.is_suspicious_evidence(f)]
    if malicious:
        verdict, reason = Verdict.MALICIOUS, _describe(malicious)
    elif errors:
        verdict = Verdict.INDETERMINATE
        reason = "analysis incomplete: " + "; ".join(_error_text(e) for e in errors[:MAX_REASON_ITEMS])
        if suspicious:
            reason += "; also " + _describe(suspicious)
    elif suspicious:
        verdict, reason = Verdict.SUSPICIOUS, _describe(suspicious)
    else:
        verdict = Verdict.CLEAN
        reason = "no finding reached the suspicious threshold" if ranked else "no findings"
    return verdict, policy.decisions.get(verdict, Decision.BLOCK), reason


def _describe(findings: Sequence[Finding]) -> str:
    parts = [
        f"{f.rule_id} ({f.severity}) at {f.path}{':' + str(f.line) if f.line else ''}"
        for f in findings[:MAX_REASON_ITEMS]
    ]
    more = len(findings) - MAX_REASON_ITEMS
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _error_text(e: ScanError) -> str:
    where = f" ({e.path})" if e.path else ""
    return f"{e.analyzer}{where}: {e.detail}"
