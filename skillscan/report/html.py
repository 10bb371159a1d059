"""Maintainer report (HTML): the verdict, findings grouped by category with their evidence in
context, the rule's description, errors, maintainer actions, update diff and reputation results.

Server-rendered with Jinja2 and autoescape on for every template; no template marks skill content
safe, no scripts and no external assets. Used by the API and standalone via `render_html`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from skillscan.models import Category, Finding, RuleMeta, ScanReport, Severity

if TYPE_CHECKING:
    from skillscan.config import Settings
    from skillscan.models import Skill
    from skillscan.service.actions import Override, Suppression

TEMPLATES = Path(__file__).resolve().parent.parent / "service" / "templates"
CONTEXT_LINES = 3
_MAX_LINE = 400

Excerpt = Sequence[tuple[int, str]]  # (1-based line number, text)


@dataclass(frozen=True)
class Forms:
    """Where the maintainer action forms post, and the CSRF token they carry."""

    suppress_url: str
    override_url: str
    csrf: str


@dataclass(frozen=True)
class ReportPage:
    report: ScanReport  # effective report (after maintainer actions)
    scan_id: int | None = None
    scanned_at: str | None = None
    original: ScanReport | None = None  # before maintainer actions, when they changed something
    suppressed: Sequence[tuple[Finding, Suppression]] = ()
    override: Override | None = None
    excerpts: Mapping[str, Excerpt] = field(default_factory=dict)  # key: excerpt_key(path, line)
    diff: Mapping[str, Any] | None = None
    history: Sequence[Mapping[str, Any]] = ()
    forms: Forms | None = None
    job_error: str | None = None


def excerpt_key(path: str, line: int | None) -> str:
    return f"{path}:{line or 0}"


def excerpts_for(
    skill: Skill, findings: Iterable[Finding], radius: int = CONTEXT_LINES
) -> dict[str, Excerpt]:
    """Lines around each finding, taken from the skill's real files (for reports stored later)."""
    texts = {f.path: f.text for f in skill.real_files if f.text is not None}
    out: dict[str, Excerpt] = {}
    for finding in findings:
        text = texts.get(finding.path)
        if text is None or not finding.line:
            continue
        lines = text.splitlines()
        lo, hi = max(1, finding.line - radius), min(len(lines), finding.line + radius)
        out[excerpt_key(finding.path, finding.line)] = [
            (n, lines[n - 1][:_MAX_LINE]) for n in range(lo, hi + 1)
        ]
    return out


def highlight(text: str, evidence: str) -> list[tuple[str, bool]]:
    """Split `text` into (segment, is_evidence) parts; the template escapes every part."""
    needle = evidence.strip()
    if len(needle) < 3:
        return [(text, False)]
    at = text.find(needle)
    if at < 0:
        # evidence is often a prefix of a long line, or the line a prefix of the evidence
        probe = needle[:60]
        at = text.find(probe)
        if at < 0:
            return [(text, False)]
        needle = text[at:] if needle.startswith(text[at:]) else probe
    return [(text[:at], False), (text[at : at + len(needle)], True), (text[at + len(needle) :], False)]


class HtmlRenderer:
    """One Jinja2 environment (templates parsed once), autoescape on for every template name."""

    def __init__(self, rules: Mapping[str, RuleMeta] | None = None) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.globals["highlight"] = highlight
        self._env.globals["excerpt_key"] = excerpt_key
        self.rules: Mapping[str, RuleMeta] = rules or {}

    def page(self, template: str, **context: Any) -> str:
        return self._env.get_template(template).render(**context)

    def report(self, page: ReportPage, *, standalone: bool = False) -> str:
        return self.page(
            "report.html",
            p=page,
            groups=group_findings(page.report.findings),
            rules=self.rules,
            standalone=standalone,
            title=_title(page.report),
        )

    def reports(self, pages: Sequence[ReportPage]) -> str:
        sections = [(p, group_findings(p.report.findings)) for p in pages]
        return self.page("standalone.html", sections=sections, rules=self.rules, title="skillscan report")


def group_findings(findings: Iterable[Finding]) -> list[tuple[Category, list[Finding]]]:
    """Categories ordered by their worst finding; findings most severe first inside each."""
    groups: dict[Category, list[Finding]] = {}
    for f in sorted(findings, key=Finding.sort_key):
        groups.setdefault(f.category, []).append(f)
    return sorted(groups.items(), key=lambda kv: (-max(f.severity.rank for f in kv[1]), str(kv[0])))


def _title(report: ScanReport) -> str:
    s = report.skill
    name = f"{s.owner}/{s.slug}" if s.owner and s.slug else s.slug or s.name or Path(report.source).name
    return f"{name} {s.version or ''}".strip()


def load_rules(settings: Settings) -> dict[str, RuleMeta]:
    """Rule metadata by id; an unreadable rule set leaves descriptions out, it does not fail a page."""
    try:
        from skillscan.rules import all_rules

        return {r.id: r for r in all_rules(settings)}
    except Exception:
        return {}


def render_html(reports: Sequence[ScanReport], settings: Settings | None = None) -> str:
    """A standalone HTML document for one or more reports (no maintainer actions)."""
    from skillscan.config import Settings

    renderer = HtmlRenderer(load_rules(settings or Settings.from_env()))
    return renderer.reports([ReportPage(report=r) for r in reports])


SEVERITIES = [s.value for s in Severity]
