"""The reputation analyzer: VirusTotal's view of a skill's binaries, bundle ZIP and (optionally) URLs.

Evidence beside skillscan's own analysis, never the only judge: engine votes become findings in
the `reputation` category, everything that could not be looked up becomes a report note, and
nothing here ever turns into a scan error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import yaml

from skillscan.analyzers.interface import Analyzer
from skillscan.analyzers.reputation.backends import Backends
from skillscan.analyzers.reputation.interface import (
    LookupKind,
    LookupResult,
    LookupStatus,
    LookupTarget,
    ReputationService,
)
from skillscan.analyzers.reputation.virustotal import VirusTotalOptions, VirusTotalService
from skillscan.config import Settings
from skillscan.models import (
    AnalysisResult,
    Category,
    Confidence,
    FileKind,
    Finding,
    RuleMeta,
    RuleStatus,
    Severity,
    Skill,
)

log = logging.getLogger("skillscan.reputation")

RULES_FILE = Path(__file__).with_name("rules.yaml")
BUNDLE_PATH = "."  # findings about the bundle ZIP point at the skill root
_URL_RE = re.compile(r"https?://[A-Za-z0-9.\-]{1,253}(?::\d{1,5})?(?:/[^\s\"'<>`)\]}]{0,2000})?")
_MAX_NOTE_LABELS = 5


def load_rules() -> list[RuleMeta]:
    raw = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    return [
        RuleMeta(
            id=r["id"],
            engine="reputation",
            category=Category(r["category"]),
            severity=Severity(r["severity"]),
            confidence=Confidence(r["confidence"]),
            description=" ".join(str(r["description"]).split()),
            status=RuleStatus(r.get("status", "stable")),
        )
        for r in raw
    ]


def lookup_targets(skill: Skill, settings: Settings) -> tuple[list[LookupTarget], int]:
    """What to look up for one skill, bundle ZIP first; returns (targets, how many were left out)."""
    keep_bytes = settings.vt_upload
    targets: list[LookupTarget] = []
    if skill.zip_sha256:
        targets.append(LookupTarget(LookupKind.FILE, skill.zip_sha256.lower(), BUNDLE_PATH, "bundle ZIP"))
    for f in sorted(skill.real_files, key=lambda f: f.path):
        if f.size and (f.kind is FileKind.BINARY or f.text is None):
            data = f.data if keep_bytes else None
            targets.append(LookupTarget(LookupKind.FILE, f.sha256.lower(), f.path, f.path, data))
    if settings.vt_url_lookups:
        for f in skill.files:
            for m in _URL_RE.finditer(f.text or ""):
                url = m.group(0).rstrip(".,;:")
                targets.append(LookupTarget(LookupKind.URL, url, f.real_path, url))
    unique = list({t.cache_key: t for t in reversed(targets)}.values())[::-1]  # first occurrence wins
    cap = max(0, settings.vt_max_lookups_per_skill)
    return unique[:cap], max(0, len(unique) - cap)


class ReputationAnalyzer(Analyzer):
    name = "reputation"

    def __init__(
        self,
        settings: Settings,
        service_factory: Callable[[], ReputationService],
        backends: Backends | None = None,
    ) -> None:
        self._settings = settings
        self._service_factory = service_factory
        self._backends = backends
        self._rules = load_rules()

    def close(self) -> None:
        if self._backends is not None:
            self._backends.close()

    def rules(self) -> Sequence[RuleMeta]:
        return list(self._rules)

    def analyze(self, skill: Skill) -> AnalysisResult:
        return self.analyze_batch([skill])[0]

    def analyze_batch(self, skills: Sequence[Skill]) -> list[AnalysisResult]:
        planned = [lookup_targets(skill, self._settings) for skill in skills]
        refs: dict[str, set[tuple[str, str, str]]] = {}
        for skill, (targets, _) in zip(skills, planned, strict=True):
            ident = skill.identity
            for t in targets:
                if ident.slug and ident.version:
                    refs.setdefault(t.cache_key, set()).add((ident.owner or "", ident.slug, ident.version))
        unique = {
            t.cache_key: replace(t, refs=tuple(sorted(refs.get(t.cache_key, ()))))
            for targets, _ in planned
            for t in targets
        }
        answers: dict[str, LookupResult] = {}
        failure = ""
        if unique:
            service: ReputationService | None = None
            try:
                service = self._service_factory()  # a fresh client per call: nothing shared across forks
                answers = {r.target.cache_key: r for r in service.lookup(list(unique.values()))}
            except Exception as e:  # store unusable, a bug, a library surprise: a note, not a scan error
                failure = f"VirusTotal lookups failed ({type(e).__name__}); the verdict stands on the local analysis"
                log.warning("%s", failure)
            finally:
                if service is not None:
                    service.close()
        results = []
        for targets, left_out in planned:
            if failure:
                results.append(AnalysisResult(notes=(failure,)))
                continue
            # a target deduplicated across skills keeps this skill's own path and label
            outcomes = [replace(answers[t.cache_key], target=t) for t in targets if t.cache_key in answers]
            results.append(self._result(outcomes, left_out))
        return results

    def _result(self, outcomes: list[LookupResult], left_out: int) -> AnalysisResult:
        findings: list[Finding] = []
        deferred: dict[str, list[str]] = {}
        failed: dict[str, list[str]] = {}
        uploaded: list[str] = []
        for r in outcomes:
            if r.status is LookupStatus.DEFERRED:
                deferred.setdefault(r.detail or "deferred", []).append(r.target.label)
            elif r.status is LookupStatus.FAILED:
                failed.setdefault(r.detail or "failed", []).append(r.target.label)
            elif r.reputation is not None:
                if r.reputation.uploaded and not r.cached:
                    uploaded.append(r.target.label)
                finding = self._finding(r)
                if finding is not None:
                    findings.append(finding)
        notes = [
            f"VirusTotal: lookup of {_labels(labels)} deferred ({why}); retried later, not part of this verdict"
            for why, labels in deferred.items()
        ]
        notes += [
            f"VirusTotal: lookup of {_labels(labels)} failed ({why}); the verdict stands on the local analysis"
            for why, labels in failed.items()
        ]
        if uploaded:
            notes.append(f"VirusTotal: {_labels(uploaded)} uploaded for analysis (operator opt-in)")
        if left_out:
            notes.append(f"VirusTotal: {left_out} more object(s) not looked up (per-skill cap)")
        return AnalysisResult(findings=tuple(findings), notes=tuple(notes))

    def _finding(self, r: LookupResult) -> Finding | None:
        rep = r.reputation
        assert rep is not None
        s = self._settings
        what = (
            "the bundle ZIP"
            if r.target.path == BUNDLE_PATH and r.target.kind is LookupKind.FILE
            else r.target.label
        )
        if not rep.known:
            if r.target.kind is LookupKind.URL:
                return None  # most URLs were never submitted: not even a hint
            return self._make(
                "vt-unknown", Severity.INFO, Confidence.LOW, r, f"VirusTotal has never seen {what}"
            )
        malicious, suspicious = rep.count("malicious"), rep.count("suspicious")
        total = sum(rep.stats.values())
        if malicious >= max(1, s.vt_malicious_high):
            critical = malicious >= max(1, s.vt_malicious_critical)
            severity, confidence = (
                (Severity.CRITICAL, Confidence.HIGH) if critical else (Severity.HIGH, Confidence.MEDIUM)
            )
            message = f"{malicious} of {total} VirusTotal engines flag {what} as malicious"
            return self._make("vt-malicious", severity, confidence, r, message)
        if suspicious >= max(1, s.vt_suspicious_medium) or malicious:
            message = f"{suspicious + malicious} of {total} VirusTotal engines flag {what} as suspicious or malicious"
            return self._make("vt-suspicious", Severity.MEDIUM, Confidence.MEDIUM, r, message)
        return None

    def _make(
        self, rule_id: str, severity: Severity, confidence: Confidence, r: LookupResult, message: str
    ) -> Finding:
        rep = r.reputation
        assert rep is not None
        stats = " ".join(f"{k}={rep.count(k)}" for k in ("malicious", "suspicious", "undetected", "harmless"))
        ident = f"sha256:{rep.key}" if rep.kind is LookupKind.FILE else rep.key
        evidence = f"{ident} {stats}" if rep.known else ident
        return Finding(
            rule_id=rule_id,
            analyzer=self.name,
            category=Category.REPUTATION,
            severity=severity,
            path=r.target.path,
            line=None,
            message=message,
            evidence=evidence[:200],
            confidence=confidence,
        )


def _labels(labels: list[str]) -> str:
    shown = ", ".join(labels[:_MAX_NOTE_LABELS])
    more = len(labels) - _MAX_NOTE_LABELS
    return f"{shown} and {more} more" if more > 0 else shown


def virustotal_options(settings: Settings) -> VirusTotalOptions:
    return VirusTotalOptions(
        host=settings.vt_url or None,
        timeout_s=settings.vt_timeout_s,
        cache_ttl_s=float(settings.vt_cache_ttl_s),
        upload=settings.vt_upload,
        upload_max_bytes=settings.vt_upload_max_bytes,
        analysis_wait_s=settings.vt_analysis_wait_s,
        # well inside the scanner's per-analyzer timeout, so VirusTotal never costs a verdict
        budget_s=max(1.0, settings.limits.analyzer_timeout_s / 2),
    )


def build_reputation_analyzer(settings: Settings) -> ReputationAnalyzer | None:
    """The reputation analyzer when a VirusTotal key is configured; None otherwise (no lookups at all)."""
    key = settings.vt_api_key
    if not key:
        return None
    backends = Backends(settings)

    def factory() -> ReputationService:
        return VirusTotalService(key, backends.cache, backends.quota, virustotal_options(settings))

    return ReputationAnalyzer(settings, factory, backends)


def retry_deferred(settings: Settings, limit: int = 50) -> list[LookupResult]:
    """Make lookups that were deferred by quota or a 429, within the quota; answers land in the cache.

    Lookups still over quota stay deferred for the next call.
    """
    key = settings.vt_api_key
    if not key:
        return []
    backends = Backends(settings)
    try:
        targets = backends.cache.deferred(limit)
        if not targets:
            return []
        service = VirusTotalService(key, backends.cache, backends.quota, virustotal_options(settings))
        return service.lookup(targets)
    finally:
        backends.close()


def refs_to_rescan(results: Sequence[LookupResult], settings: Settings) -> list[tuple[str, str, str]]:
    """Versions whose deferred lookup came back flagged: their stored verdict lacks that evidence."""
    flagged: set[tuple[str, str, str]] = set()
    for r in results:
        rep = r.reputation
        if r.status is not LookupStatus.FOUND or rep is None:
            continue
        malicious = rep.count("malicious") >= max(1, settings.vt_malicious_high)
        if malicious or rep.count("suspicious") >= max(1, settings.vt_suspicious_medium):
            flagged.update(r.target.refs)
    return sorted(flagged)
