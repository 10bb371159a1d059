from __future__ import annotations

import re
from pathlib import Path

import pytest

from skillscan.analyzers.yara import YaraAnalyzer
from skillscan.bundle import load_folder
from skillscan.config import Limits, Settings
from skillscan.errors import RuleError
from skillscan.models import Category, Severity

RULE = """rule {name}
{{
    meta:
        id = "{id}"
        category = "{category}"
        severity = "critical"
        confidence = "high"
        description = "test rule"
        status = "stable"
    strings:
        $a = "evil-marker-{id}"
    condition:
        $a
}}
"""


def rules_dir(tmp_path: Path, rule_id: str = "test-marker", category: str = "remote-exec") -> Path:
    d = tmp_path / "yara"
    d.mkdir()
    (d / f"{rule_id}.yar").write_text(
        RULE.format(name=rule_id.replace("-", "_"), id=rule_id, category=category)
    )
    return d


def skill(tmp_path: Path, body: str) -> Path:
    s = tmp_path / "skill"
    s.mkdir()
    (s / "SKILL.md").write_text(f"---\nname: s\ndescription: d\n---\nline two\n{body}\n")
    return s


def test_match_maps_to_real_line_and_metadata(tmp_path: Path) -> None:
    analyzer = YaraAnalyzer(Settings(yara_rules_dir=rules_dir(tmp_path)))
    result = analyzer.analyze(load_folder(skill(tmp_path, "x evil-marker-test-marker y"), Limits()))
    (f,) = [f for f in result.findings if f.path == "SKILL.md"]
    assert (f.rule_id, f.line, f.category, f.severity) == (
        "test-marker",
        6,
        Category.REMOTE_EXEC,
        Severity.CRITICAL,
    )
    assert "evil-marker" in f.evidence


def test_match_inside_code_block_points_to_markdown_line(tmp_path: Path) -> None:
    analyzer = YaraAnalyzer(Settings(yara_rules_dir=rules_dir(tmp_path)))
    body = "```bash\necho hi\necho evil-marker-test-marker\n```"
    result = analyzer.analyze(load_folder(skill(tmp_path, body), Limits()))
    assert {f.line for f in result.findings} == {8}


def test_no_match_on_clean_skill(tmp_path: Path) -> None:
    analyzer = YaraAnalyzer(Settings(yara_rules_dir=rules_dir(tmp_path)))
    assert not analyzer.analyze(load_folder(skill(tmp_path, "nothing here"), Limits())).findings


def test_metadata_typo_fails(tmp_path: Path) -> None:
    with pytest.raises(RuleError):
        YaraAnalyzer(Settings(yara_rules_dir=rules_dir(tmp_path, category="remote-exce")))


def test_rule_name_must_match_file(tmp_path: Path) -> None:
    d = rules_dir(tmp_path)
    (d / "test-marker.yar").rename(d / "other-name.yar")
    with pytest.raises(RuleError):
        YaraAnalyzer(Settings(yara_rules_dir=d))


def test_shipped_rules_compile_with_warnings_as_errors() -> None:
    analyzer = YaraAnalyzer(Settings(), strict=True)
    assert analyzer.rules(), "no YARA rules shipped"
    assert all(m.engine == "yara" for m in analyzer.rules())


def test_decoded_payload_is_scanned_and_mapped_to_its_line(tmp_path: Path) -> None:
    import base64

    analyzer = YaraAnalyzer(Settings(yara_rules_dir=rules_dir(tmp_path)))
    blob = base64.b64encode(b"#!/bin/sh\nrun evil-marker-test-marker now; more padding text here\n").decode()
    result = analyzer.analyze(load_folder(skill(tmp_path, f"Setup key: {blob}"), Limits()))
    assert ("SKILL.md", 6) in {(f.path, f.line) for f in result.findings}


def test_compiled_once_per_process(tmp_path: Path) -> None:
    import os

    analyzer = YaraAnalyzer(Settings(yara_rules_dir=rules_dir(tmp_path)))
    first = analyzer._rules()
    assert analyzer._rules() is first
    analyzer._compiled_pid = os.getpid() + 1  # as seen from a forked child
    assert analyzer._rules() is not first


def test_repeated_match_reports_its_first_line(tmp_path: Path) -> None:
    analyzer = YaraAnalyzer(Settings(yara_rules_dir=rules_dir(tmp_path)))
    body = "clean\n" + "evil-marker-test-marker\n" * 5000
    result = analyzer.analyze(load_folder(skill(tmp_path, body), Limits()))
    assert [(f.path, f.line) for f in result.findings] == [("SKILL.md", 7)]


# Counted sets of short fixed literals (extension IDs): storing their matches costs no regex work.
COUNTED_FIXED_LITERALS = {"credential-crypto-wallet.yar"}


def test_shipped_conditions_name_strings_alone() -> None:
    """YARA's fast mode stops at a string's first match only when the condition names the string
    alone; inside `any of (...)`, `all of` or `N of (...)` every match is still searched and stored
    (slow on hostile files)."""
    rules = Path(__file__).resolve().parents[2] / "yara_rules"
    offenders = [
        p.name
        for p in sorted(rules.glob("*.yar"))
        if re.search(r"\b(?:any|all|\d+) of\b", p.read_text().split("condition:")[1])
        and p.name not in COUNTED_FIXED_LITERALS
    ]
    assert not offenders
