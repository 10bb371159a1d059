"""CLI commands: evaluation (`skillscan eval MANIFEST.tsv`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from skillscan.evaluate import EvalReport, Outcome, Rates


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_command(
        manifest: Annotated[
            Path, typer.Argument(help="Labelled manifest (TSV: path, label, origin, category, …).")
        ],
        as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
        batch_size: Annotated[
            int, typer.Option("--batch-size", min=1, max=10_000, help="Skills per scanner call.")
        ] = 50,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    ) -> None:
        """Measure recall and false-positive rates on a labelled corpus."""
        from skillscan.config import Settings
        from skillscan.evaluate import ManifestError, evaluate
        from skillscan.scan import Scanner

        if not manifest.is_file():
            typer.echo(f"manifest not found: {manifest}", err=True)
            raise typer.Exit(2)
        scanner = Scanner(Settings.from_env())

        def progress(done: int, total: int) -> None:
            if not quiet:
                print(f"\r{done}/{total} skills scanned", end="", file=sys.stderr, flush=True)

        try:
            report = evaluate(manifest, scanner.scan_paths, batch_size=batch_size, progress=progress)
        except ManifestError as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(2) from e
        finally:
            close = getattr(scanner, "close", None)
            if callable(close):
                close()
        if not quiet:
            print(file=sys.stderr)
        typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else render_text(report))


def _pct(value: float | None) -> str:
    return "   n/a" if value is None else f"{100 * value:5.1f}%"


def _rates_line(name: str, r: Rates) -> list[str]:
    d = r.to_dict()
    lines = []
    if r.malicious:
        lines.append(
            f"  {name:<28} malicious {r.malicious:>5} ({r.malicious_distinct:>4} distinct)  "
            f"recall {_pct(d['recall'])}  malicious-verdict {_pct(d['recall_malicious_verdict'])}  "
            f"distinct {_pct(d['recall_distinct'])}"
        )
    if r.benign:
        lines.append(
            f"  {name:<28} benign    {r.benign:>5} ({r.benign_distinct:>4} distinct)  "
            f"FP malicious {_pct(d['fp_malicious'])}  FP suspicious/indeterminate "
            f"{_pct(d['fp_suspicious_or_indeterminate'])}  distinct {_pct(d['fp_malicious_distinct'])} / "
            f"{_pct(d['fp_suspicious_or_indeterminate_distinct'])}"
        )
    return lines


def _outcome_line(o: Outcome) -> str:
    top = o.top
    why = (
        f"{top.rule_id} ({top.severity}) {top.path}:{top.line or '-'}"
        if top is not None
        else (o.error or "no findings")
    )
    absent = f"  (not in the corpus: {o.row.skipped})" if o.row.skipped else ""
    return f"  {o.verdict:<13} {o.row.path}  [{o.row.origin_class}]  {why}{absent}"


def render_text(report: EvalReport) -> str:
    out = [f"evaluation of {report.manifest}: {len(report.outcomes)} skills in {report.seconds:.1f} s"]
    sps = report.skills_per_second
    out.append(f"throughput: {sps:.2f} skills/s" if sps is not None else "throughput: n/a")
    out.append("")
    out.append("headline (label-noise and vulnerable rows excluded)")
    out += _rates_line("all", report.overall)
    for origin, rates in report.by_origin.items():
        out += _rates_line(f"origin {origin}", rates)
    out.append("")
    out.append("per category")
    for category, rates in report.by_category.items():
        out += _rates_line(category[:28], rates)
    sections = (
        ("misses (malicious, verdict clean or indeterminate)", report.misses),
        ("false alarms (benign, verdict not clean)", report.false_alarms),
        ("possible label noise (excluded)", report.label_noise),
        ("vulnerable (excluded)", report.vulnerable),
        ("unknown labels (excluded)", report.unlabelled),
    )
    for title, items in sections:
        if not items:
            continue
        out.append("")
        out.append(f"{title}: {len(items)}")
        out += [_outcome_line(o) for o in items]
    return "\n".join(out)
