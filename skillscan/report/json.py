"""Machine-readable reports: one JSON document, or one JSON object per skill per line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from skillscan.models import ScanReport


def report_summary(report: ScanReport) -> dict[str, Any]:
    """The jsonl record: the full report with `path` (the skill folder or zip, never SKILL.md)."""
    return report.to_dict()


def render_json(reports: Sequence[ScanReport]) -> str:
    return json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False) + "\n"


def render_jsonl(reports: Sequence[ScanReport]) -> str:
    return "".join(json.dumps(report_summary(r), ensure_ascii=False) + "\n" for r in reports)
