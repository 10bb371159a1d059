"""SARIF 2.1.0: one run per skill, so code-scanning UIs group results by skill root."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skillscan import __version__
from skillscan.models import Finding, ScanReport, Severity

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads a 0–10 score from this property to rank alerts.
_SCORE = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def render_sarif(reports: Sequence[ScanReport]) -> str:
    doc = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [_run(r) for r in reports]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _base_uri(source: str) -> str:
    """An absolute URI for the skill root, as SARIF wants for originalUriBaseIds."""
    if source.startswith("clawhub:"):
        return source.rstrip("/") + "/"
    return Path(source).absolute().as_uri().rstrip("/") + "/"


def _run(report: ScanReport) -> dict[str, Any]:
    rule_ids = sorted({f.rule_id for f in report.findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    first = {rid: next(f for f in report.findings if f.rule_id == rid) for rid in rule_ids}
    return {
        "tool": {
            "driver": {
                "name": "skillscan",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(first[rid]) for rid in rule_ids],
            }
        },
        "originalUriBaseIds": {"SKILLROOT": {"uri": _base_uri(report.source)}},
        "invocations": [
            {
                "executionSuccessful": not report.errors,
                "toolExecutionNotifications": [
                    {"level": "error", "message": {"text": f"{e.analyzer}: {e.detail}"}}
                    for e in report.errors
                ],
            }
        ],
        "results": [_result(f, index[f.rule_id]) for f in report.findings],
        "properties": {
            "verdict": str(report.verdict),
            "decision": str(report.decision),
            "reason": report.reason,
            "fingerprint": report.skill.fingerprint,
            "rulesetDigest": report.ruleset_digest,
        },
    }


def _rule(example: Finding) -> dict[str, Any]:
    return {
        "id": example.rule_id,
        "shortDescription": {"text": example.rule_id},
        "fullDescription": {"text": example.message},
        "defaultConfiguration": {"level": _LEVEL[example.severity]},
        "properties": {
            "category": str(example.category),
            "severity": str(example.severity),
            "security-severity": _SCORE[example.severity],
            "tags": ["security", str(example.category)],
        },
    }


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": f.path, "uriBaseId": "SKILLROOT"}}
    if f.line and f.line > 0:
        region: dict[str, Any] = {"startLine": f.line}
        if f.evidence:
            region["snippet"] = {"text": f.evidence}
        physical["region"] = region
    return {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [{"physicalLocation": physical}],
        "properties": {
            "category": str(f.category),
            "severity": str(f.severity),
            "confidence": str(f.confidence),
        },
    }
