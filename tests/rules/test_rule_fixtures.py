"""Every rule of every engine fires on its positive fixture and stays quiet on its benign one.

Fixture layout under tests/rules/<engine>/ (engine = yara | treesitter | prompt | hosts | manifest):
- ``<rule-id>.pos.md`` / ``.neg.md``: the skill's SKILL.md;
- ``<rule-id>.pos.<ext>``: ``scripts/fixture.<ext>`` beside a minimal SKILL.md;
- ``<rule-id>.pos.<name.ext>`` (two dots, e.g. ``.pos.package.json``): that file name at the root;
- ``<rule-id>.pos/``: a folder that is the whole skill (flows across files).
All fixtures are scanned in one batch by the full default scanner, so this also exercises batching.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from skillscan.bundle import load_folder
from skillscan.config import Settings
from skillscan.models import ScanReport
from skillscan.rules import all_rules
from skillscan.scan import Scanner

FIXTURES = Path(__file__).resolve().parent
ENGINES_WITH_FILE_FIXTURES = ("yara", "treesitter", "prompt", "hosts", "manifest")
MINIMAL_SKILL_MD = """---
name: fixture-skill
description: Fixture for one detection rule.
version: 1.0.0
---
# Fixture skill

The helper in scripts/ is documented here.
"""

# Engines whose rules a skill folder alone cannot show; each is tested both ways where it lives.
TESTED_ELSEWHERE = {
    "semgrep": "tests/rules/test_semgrep_fixtures.py (`semgrep --test`, ruleid:/ok: annotations)",
    "bundle": "tests/hostile and tests/unit/test_bundle.py (hostile archives and folders)",
    "reputation": "tests/reputation (a fake VirusTotal)",
    "update-diff": "tests/unit/test_diff.py (two versions of a skill)",
}

SETTINGS = Settings()
ALL_RULES = all_rules(SETTINGS)
RULES = [r for r in ALL_RULES if r.engine in ENGINES_WITH_FILE_FIXTURES]


def test_every_engine_has_a_fixture_route() -> None:
    """A new engine must get file fixtures here or name where its rules are tested both ways."""
    unrouted = {r.engine for r in ALL_RULES} - set(ENGINES_WITH_FILE_FIXTURES) - set(TESTED_ELSEWHERE)
    assert not unrouted, f"rules of engine(s) {sorted(unrouted)} have no fixture harness"


def fixture_for(engine: str, rule_id: str, polarity: str) -> Path | None:
    folder = FIXTURES / engine
    exact = folder / f"{rule_id}.{polarity}"
    if exact.is_dir():
        return exact
    matches = sorted(folder.glob(f"{rule_id}.{polarity}.*"))
    return matches[0] if matches else None


def materialize(fixture: Path, dest: Path) -> Path:
    """Lay a fixture out as a skill folder under `dest`."""
    if fixture.is_dir():
        shutil.copytree(fixture, dest)
        return dest
    dest.mkdir(parents=True)
    marker = ".pos." if ".pos." in fixture.name else ".neg."
    suffix = fixture.name.split(marker, 1)[1]  # "md", "py", or a file name such as "package.json"
    if suffix == "md":
        shutil.copyfile(fixture, dest / "SKILL.md")
        return dest
    (dest / "SKILL.md").write_text(MINIMAL_SKILL_MD, encoding="utf-8")
    if "." in suffix:
        shutil.copyfile(fixture, dest / suffix)
    else:
        (dest / "scripts").mkdir()
        shutil.copyfile(fixture, dest / "scripts" / f"fixture.{suffix}")
    return dest


@pytest.fixture(scope="module")
def fixture_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], ScanReport]:
    root = tmp_path_factory.mktemp("rule-fixtures")
    skills, keys = [], []
    for meta in RULES:
        for polarity in ("pos", "neg"):
            fixture = fixture_for(meta.engine, meta.id, polarity)
            if fixture is None:
                continue
            folder = materialize(fixture, root / f"{meta.id}.{polarity}")
            skills.append(load_folder(folder, SETTINGS.limits, source=str(fixture)))
            keys.append((meta.id, polarity))
    with Scanner(SETTINGS) as scanner:
        reports = scanner.scan_skills(skills)
    return dict(zip(keys, reports, strict=True))


@pytest.mark.parametrize("meta", RULES, ids=lambda m: m.id)
def test_rule_has_both_fixtures(meta) -> None:  # type: ignore[no-untyped-def]
    for polarity in ("pos", "neg"):
        assert fixture_for(meta.engine, meta.id, polarity) is not None, (
            f"{meta.engine} rule {meta.id} lacks tests/rules/{meta.engine}/{meta.id}.{polarity}.*"
        )


@pytest.mark.parametrize("meta", RULES, ids=lambda m: m.id)
def test_rule_fires_on_positive_only(meta, fixture_reports) -> None:  # type: ignore[no-untyped-def]
    pos = fixture_reports.get((meta.id, "pos"))
    neg = fixture_reports.get((meta.id, "neg"))
    if pos is None or neg is None:
        pytest.fail(f"{meta.id}: fixture missing (see test_rule_has_both_fixtures)")
    pos_ids = {f.rule_id for f in pos.findings}
    assert meta.id in pos_ids, (
        f"{meta.id} did not fire on its positive fixture; got {sorted(pos_ids)}; errors {pos.errors}"
    )
    neg_hits = [f for f in neg.findings if f.rule_id == meta.id]
    assert not neg_hits, (
        f"{meta.id} fired on its benign fixture: {neg_hits[0].path}:{neg_hits[0].line} {neg_hits[0].evidence}"
    )
