"""Detection quality on a labelled manifest: recall, false-positive rates, misses, throughput.

The manifest is a TSV with at least `path` and `label` (benign | malicious | vulnerable) and
optionally `category`, `origin`, `skillmd_sha`, `notes` and `skipped` (files of the published skill
left out of the corpus, e.g. binaries); paths are relative to the manifest.
Skills are scanned in batches through the scanner (one Semgrep call per batch).

Definitions (every figure is also given per origin class, i.e. the first word of `origin`):
- detected = verdict suspicious or malicious; recall = detected / malicious rows;
  malicious-only recall = verdict malicious / malicious rows;
- benign false-positive rates: verdict malicious / benign rows, and verdict suspicious or
  indeterminate / benign rows (a scan that failed counts as indeterminate);
- per distinct SKILL.md (`skillmd_sha`, or the path when empty): a group of near-duplicates is
  detected only when every sample in it is, and a benign group alarms when any sample does;
- rows whose `notes` say "possible label noise" and rows labelled `vulnerable` are reported on
  their own and left out of every headline figure;
- a miss whose row lists `skipped` files shows them: the evidence may be in what was left out.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillscan.errors import SkillscanError
from skillscan.models import Finding, RuleStatus, ScanReport, Verdict

LABEL_NOISE = "possible label noise"
DETECTED = frozenset({Verdict.SUSPICIOUS, Verdict.MALICIOUS})
REQUIRED_COLUMNS = ("path", "label")

ScanFn = Callable[[Sequence[Path]], Sequence[ScanReport]]


class ManifestError(SkillscanError):
    """The manifest cannot be read or lacks required columns."""


@dataclass(frozen=True, slots=True)
class ManifestRow:
    path: str
    label: str
    category: str = ""
    origin: str = ""
    skillmd_sha: str = ""
    notes: str = ""
    skipped: str = ""

    @property
    def origin_class(self) -> str:
        return self.origin.split()[0] if self.origin.strip() else "unknown"

    @property
    def group(self) -> str:
        return self.skillmd_sha or f"path:{self.path}"

    @property
    def label_noise(self) -> bool:
        return LABEL_NOISE in self.notes.lower()


@dataclass(frozen=True, slots=True)
class Outcome:
    row: ManifestRow
    verdict: Verdict  # INDETERMINATE when the scan itself failed
    top: Finding | None = None
    error: str | None = None


def read_manifest(path: Path) -> list[ManifestRow]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ManifestError(f"{path}: missing column(s) {', '.join(missing)}")
            rows = [
                ManifestRow(
                    path=(r.get("path") or "").strip(),
                    label=(r.get("label") or "").strip().lower(),
                    category=(r.get("category") or "").strip(),
                    origin=(r.get("origin") or "").strip(),
                    skillmd_sha=(r.get("skillmd_sha") or "").strip(),
                    notes=(r.get("notes") or "").strip(),
                    skipped=(r.get("skipped") or "").strip(),
                )
                for r in reader
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ManifestError(f"{path}: {e}") from e
    return [r for r in rows if r.path]


def top_finding(findings: Iterable[Finding]) -> Finding | None:
    """The finding that best explains a verdict: stable first, then severity, then confidence."""
    rank = {"low": 0, "medium": 1, "high": 2}
    return max(
        findings,
        key=lambda f: (f.status is RuleStatus.STABLE, f.severity.rank, rank.get(str(f.confidence), 0)),
        default=None,
    )


def scan_rows(
    rows: Sequence[ManifestRow],
    base: Path,
    scan: ScanFn,
    batch_size: int = 50,
    progress: Callable[[int, int], None] | None = None,
) -> list[Outcome]:
    """Scan every row, `batch_size` skills per scanner call; a failed batch is retried one by one."""
    out: list[Outcome] = []
    for start in range(0, len(rows), max(1, batch_size)):
        batch = rows[start : start + max(1, batch_size)]
        try:
            reports = list(scan([base / r.path for r in batch]))
            if len(reports) != len(batch):
                raise SkillscanError(f"scanner returned {len(reports)} reports for {len(batch)} skills")
            out.extend(_outcome(r, rep) for r, rep in zip(batch, reports, strict=True))
        except Exception:
            for row in batch:
                out.append(_scan_one(row, base, scan))
        if progress is not None:
            progress(len(out), len(rows))
    return out


def _scan_one(row: ManifestRow, base: Path, scan: ScanFn) -> Outcome:
    try:
        reports = list(scan([base / row.path]))
    except Exception as e:  # a skill the scanner cannot handle is data for the evaluation
        return Outcome(row=row, verdict=Verdict.INDETERMINATE, error=f"{type(e).__name__}: {e}"[:300])
    if len(reports) != 1:
        return Outcome(row=row, verdict=Verdict.INDETERMINATE, error=f"{len(reports)} reports for one skill")
    return _outcome(row, reports[0])


def _outcome(row: ManifestRow, report: ScanReport) -> Outcome:
    return Outcome(row=row, verdict=report.verdict, top=top_finding(report.findings))


# ---------------------------------------------------------------- metrics


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass(frozen=True)
class Rates:
    """Figures for one slice of the outcomes (all, one origin class, one category)."""

    malicious: int = 0
    malicious_distinct: int = 0
    detected: int = 0
    detected_malicious: int = 0
    detected_distinct: int = 0
    benign: int = 0
    benign_distinct: int = 0
    fp_malicious: int = 0
    fp_suspicious_or_indeterminate: int = 0
    fp_malicious_distinct: int = 0
    fp_suspicious_or_indeterminate_distinct: int = 0

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Rates:
        mal = [o for o in outcomes if o.row.label == "malicious"]
        ben = [o for o in outcomes if o.row.label == "benign"]
        mal_groups = _groups(mal)
        ben_groups = _groups(ben)
        return cls(
            malicious=len(mal),
            malicious_distinct=len(mal_groups),
            detected=sum(o.verdict in DETECTED for o in mal),
            detected_malicious=sum(o.verdict is Verdict.MALICIOUS for o in mal),
            detected_distinct=sum(all(o.verdict in DETECTED for o in g) for g in mal_groups.values()),
            benign=len(ben),
            benign_distinct=len(ben_groups),
            fp_malicious=sum(o.verdict is Verdict.MALICIOUS for o in ben),
            fp_suspicious_or_indeterminate=sum(_soft_alarm(o) for o in ben),
            fp_malicious_distinct=sum(
                any(o.verdict is Verdict.MALICIOUS for o in g) for g in ben_groups.values()
            ),
            fp_suspicious_or_indeterminate_distinct=sum(
                any(_soft_alarm(o) for o in g) for g in ben_groups.values()
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "malicious": self.malicious,
            "malicious_distinct": self.malicious_distinct,
            "recall": _ratio(self.detected, self.malicious),
            "recall_malicious_verdict": _ratio(self.detected_malicious, self.malicious),
            "recall_distinct": _ratio(self.detected_distinct, self.malicious_distinct),
            "benign": self.benign,
            "benign_distinct": self.benign_distinct,
            "fp_malicious": _ratio(self.fp_malicious, self.benign),
            "fp_suspicious_or_indeterminate": _ratio(self.fp_suspicious_or_indeterminate, self.benign),
            "fp_malicious_distinct": _ratio(self.fp_malicious_distinct, self.benign_distinct),
            "fp_suspicious_or_indeterminate_distinct": _ratio(
                self.fp_suspicious_or_indeterminate_distinct, self.benign_distinct
            ),
            "counts": {
                "detected": self.detected,
                "detected_malicious_verdict": self.detected_malicious,
                "detected_distinct": self.detected_distinct,
                "fp_malicious": self.fp_malicious,
                "fp_suspicious_or_indeterminate": self.fp_suspicious_or_indeterminate,
                "fp_malicious_distinct": self.fp_malicious_distinct,
                "fp_suspicious_or_indeterminate_distinct": self.fp_suspicious_or_indeterminate_distinct,
            },
        }


def _soft_alarm(o: Outcome) -> bool:
    return o.verdict in {Verdict.SUSPICIOUS, Verdict.INDETERMINATE}


def _groups(outcomes: Sequence[Outcome]) -> dict[str, list[Outcome]]:
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.row.group, []).append(o)
    return groups


@dataclass(frozen=True)
class EvalReport:
    manifest: str
    outcomes: tuple[Outcome, ...]
    seconds: float
    overall: Rates = field(default_factory=Rates)
    by_origin: dict[str, Rates] = field(default_factory=dict)
    by_category: dict[str, Rates] = field(default_factory=dict)

    @classmethod
    def build(cls, manifest: str, outcomes: Sequence[Outcome], seconds: float) -> EvalReport:
        headline = [o for o in outcomes if _headline(o.row)]
        by_origin: dict[str, list[Outcome]] = {}
        by_category: dict[str, list[Outcome]] = {}
        for o in headline:
            by_origin.setdefault(o.row.origin_class, []).append(o)
            by_category.setdefault(o.row.category or "(none)", []).append(o)
        return cls(
            manifest=manifest,
            outcomes=tuple(outcomes),
            seconds=seconds,
            overall=Rates.of(headline),
            by_origin={k: Rates.of(v) for k, v in sorted(by_origin.items())},
            by_category={k: Rates.of(v) for k, v in sorted(by_category.items())},
        )

    @property
    def skills_per_second(self) -> float | None:
        return len(self.outcomes) / self.seconds if self.seconds > 0 else None

    @property
    def misses(self) -> list[Outcome]:
        return [
            o
            for o in self.outcomes
            if _headline(o.row) and o.row.label == "malicious" and o.verdict not in DETECTED
        ]

    @property
    def false_alarms(self) -> list[Outcome]:
        return [
            o
            for o in self.outcomes
            if _headline(o.row) and o.row.label == "benign" and o.verdict is not Verdict.CLEAN
        ]

    @property
    def label_noise(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.row.label_noise]

    @property
    def vulnerable(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.row.label == "vulnerable" and not o.row.label_noise]

    @property
    def unlabelled(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.row.label not in {"benign", "malicious", "vulnerable"}]

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "skills": len(self.outcomes),
            "seconds": round(self.seconds, 3),
            "skills_per_second": self.skills_per_second,
            "overall": self.overall.to_dict(),
            "by_origin": {k: v.to_dict() for k, v in self.by_origin.items()},
            "by_category": {k: v.to_dict() for k, v in self.by_category.items()},
            "misses": [_outcome_dict(o) for o in self.misses],
            "false_alarms": [_outcome_dict(o) for o in self.false_alarms],
            "label_noise": [_outcome_dict(o) for o in self.label_noise],
            "vulnerable": [_outcome_dict(o) for o in self.vulnerable],
            "unlabelled": [_outcome_dict(o) for o in self.unlabelled],
            "errors": [_outcome_dict(o) for o in self.outcomes if o.error],
        }


def _headline(row: ManifestRow) -> bool:
    return row.label in {"benign", "malicious"} and not row.label_noise


def _outcome_dict(o: Outcome) -> dict[str, Any]:
    top = o.top
    return {
        "path": o.row.path,
        "label": o.row.label,
        "origin": o.row.origin_class,
        "category": o.row.category,
        "verdict": str(o.verdict),
        "top_finding": None
        if top is None
        else {
            "rule_id": top.rule_id,
            "severity": str(top.severity),
            "path": top.path,
            "line": top.line,
            "message": top.message,
        },
        "error": o.error,
        "skipped": o.row.skipped,
    }


def evaluate(
    manifest: Path,
    scan: ScanFn,
    batch_size: int = 50,
    progress: Callable[[int, int], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> EvalReport:
    """Scan every skill of `manifest` and compute the figures."""
    rows = read_manifest(manifest)
    started = clock()
    outcomes = scan_rows(rows, manifest.parent, scan, batch_size=batch_size, progress=progress)
    return EvalReport.build(str(manifest), outcomes, clock() - started)
