"""Renderers of scan reports: text, json, jsonl, sarif (html lives in report/html.py)."""

from __future__ import annotations

from collections.abc import Sequence

from skillscan.models import ScanReport

FORMATS = ("text", "json", "jsonl", "sarif", "html")


def render(reports: Sequence[ScanReport], fmt: str, *, color: bool = False) -> str:
    if fmt == "text":
        from skillscan.report.text import render_text

        return render_text(reports, color=color)
    if fmt == "json":
        from skillscan.report.json import render_json

        return render_json(reports)
    if fmt == "jsonl":
        from skillscan.report.json import render_jsonl

        return render_jsonl(reports)
    if fmt == "sarif":
        from skillscan.report.sarif import render_sarif

        return render_sarif(reports)
    if fmt == "html":
        from skillscan.report.html import render_html

        return render_html(reports)
    raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
