"""The human report: per skill a verdict line and a table of findings, most severe first."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from skillscan.models import ScanReport, Severity, Verdict

_VERDICT_STYLE = {
    Verdict.CLEAN: "bold green",
    Verdict.SUSPICIOUS: "bold yellow",
    Verdict.MALICIOUS: "bold red",
    Verdict.INDETERMINATE: "bold magenta",
}
_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
MAX_ROWS = 50


def render_text(reports: Sequence[ScanReport], *, color: bool = False, width: int = 140) -> str:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False)
    for report in reports:
        _render_one(console, report)
    counts = {v: sum(r.verdict is v for r in reports) for v in Verdict}
    console.print(
        f"{len(reports)} skill(s): " + ", ".join(f"{n} {v}" for v, n in counts.items() if n),
        style="bold",
    )
    return buf.getvalue()


def _render_one(console: Console, report: ScanReport) -> None:
    ident = report.skill
    name = "/".join(x for x in (ident.owner, ident.slug) if x) or ident.name or report.source
    version = f"@{ident.version}" if ident.version else ""
    console.print(
        f"[{_VERDICT_STYLE[report.verdict]}]{report.verdict.upper()}[/] ({report.decision})  "
        f"{escape(name + version)}  [dim]{escape(report.source)}[/]"
    )
    console.print(f"  [dim]reason:[/] {escape(report.reason)}")
    if report.findings:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, padding=(0, 1))
        for col in ("severity", "rule", "location", "message"):
            table.add_column(col, overflow="fold")
        for f in report.findings[:MAX_ROWS]:
            where = f.path + (f":{f.line}" if f.line else "")
            exp = " [dim](experimental)[/]" if f.status == "experimental" else ""
            table.add_row(
                f"[{_SEVERITY_STYLE[f.severity]}]{f.severity}[/]",
                escape(f.rule_id) + exp,
                escape(where),
                escape(f.message) + (f"\n[dim]{escape(f.evidence)}[/]" if f.evidence else ""),
            )
        console.print(table)
        if len(report.findings) > MAX_ROWS:
            console.print(f"  … {len(report.findings) - MAX_ROWS} more findings (use --format json)")
    for e in report.errors:
        console.print(
            f"  [magenta]error[/] {escape(e.analyzer)}{escape(' ' + e.path if e.path else '')}: {escape(e.detail)}"
        )
    for note in report.notes:
        console.print(f"  [dim]note: {escape(note)}[/]")
    console.print()
