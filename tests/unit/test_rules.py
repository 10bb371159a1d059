"""Rule locations, metadata validation and the ruleset digest that keys every stored verdict."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from skillscan.config import Settings
from skillscan.errors import RuleError
from skillscan.models import Category, Severity
from skillscan.rules import all_rules, meta_from_mapping, ruleset_digest, semgrep_rule_files, yara_rule_files

GOOD = {
    "category": "remote-exec",
    "severity": "critical",
    "confidence": "high",
    "description": "x",
    "status": "stable",
}


def test_meta_converts_to_enums() -> None:
    meta = meta_from_mapping("r-one", "yara", {"id": "r-one", **GOOD}, "r-one.yar")
    assert meta.category is Category.REMOTE_EXEC and meta.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"severity": "critcal"}, "critcal"),
        ({"category": "remote_exec"}, "remote_exec"),
        ({"status": "beta"}, "beta"),
        ({"id": "other"}, "does not match"),
    ],
)
def test_meta_typo_is_an_error(change: dict[str, str], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        meta_from_mapping("r-one", "yara", {"id": "r-one", **GOOD, **change}, "r-one.yar")


def test_meta_missing_field_is_an_error() -> None:
    with pytest.raises(RuleError, match="confidence"):
        meta_from_mapping("r-one", "yara", {k: v for k, v in GOOD.items() if k != "confidence"}, "f")


def copy_rules(tmp_path: Path) -> Settings:
    s = Settings()
    yara_dir, semgrep_dir = tmp_path / "yara", tmp_path / "semgrep"
    shutil.copytree(s.yara_rules_dir, yara_dir)
    shutil.copytree(s.semgrep_rules_dir, semgrep_dir)
    return replace(s, yara_rules_dir=yara_dir, semgrep_rules_dir=semgrep_dir)


def test_digest_is_stable_and_tracks_every_input(tmp_path: Path) -> None:
    settings = copy_rules(tmp_path)
    base = ruleset_digest(settings)
    assert base == ruleset_digest(settings) and len(base) == 16

    yar = yara_rule_files(settings)[0]
    yar.write_text(yar.read_text() + "\n// changed\n")
    after_yara = ruleset_digest(settings)
    assert after_yara != base

    sg = semgrep_rule_files(settings)[0]
    sg.write_text(sg.read_text() + "\n# changed\n")
    after_semgrep = ruleset_digest(settings)
    assert after_semgrep != after_yara

    policy = tmp_path / "policy.yaml"
    policy.write_text("suspicious:\n  min_severity: medium\n")
    assert ruleset_digest(replace(settings, policy_file=policy)) != after_semgrep


def test_shared_helpers_are_not_rules(tmp_path: Path) -> None:
    settings = copy_rules(tmp_path)
    assert all(p.parent == settings.yara_rules_dir for p in yara_rule_files(settings))


def test_all_rules_cover_every_engine_with_unique_ids() -> None:
    metas = all_rules(Settings())
    ids = [m.id for m in metas]
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids)
    assert {"yara", "semgrep", "treesitter", "manifest"} <= {m.engine for m in metas}
    settings = Settings()
    assert {p.stem for p in yara_rule_files(settings)} <= set(ids)
    assert {p.stem for p in semgrep_rule_files(settings)} <= set(ids)


def test_rule_ids_are_kebab_case() -> None:
    import re

    bad = [m.id for m in all_rules(Settings()) if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", m.id)]
    assert not bad
