"""Manifest engine: frontmatter parsing, every rule against its fixtures, and targeted checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from skillscan.bundle import load_folder
from skillscan.config import Limits
from skillscan.manifest import ManifestAnalyzer, inventory_rules, parse_frontmatter
from skillscan.models import Category, Severity, Skill

FIXTURES = Path(__file__).resolve().parent.parent / "rules" / "manifest"
MINIMAL_SKILL_MD = (
    "---\nname: fixture-skill\ndescription: A fixture skill.\n---\n\n# Fixture\n\nUse the script.\n"
)


@pytest.fixture(scope="module")
def analyzer() -> ManifestAnalyzer:
    return ManifestAnalyzer()


def _write_skill(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return root


def _skill(tmp_path: Path, files: dict[str, str | bytes]) -> Skill:
    return load_folder(_write_skill(tmp_path / "skill", files), Limits())


def _fixture_skill(fixture: Path, tmp_path: Path) -> Skill:
    """Harness convention: a .md is the SKILL.md, any other file is scripts/fixture.<ext> beside a
    minimal SKILL.md, and a folder is the whole skill (for rules about the folder itself)."""
    root = tmp_path / fixture.name.replace(".", "_")
    if fixture.is_dir():
        shutil.copytree(fixture, root)
    elif fixture.suffix == ".md":
        root.mkdir()
        shutil.copyfile(fixture, root / "SKILL.md")
    else:
        (root / "scripts").mkdir(parents=True)
        (root / "SKILL.md").write_text(MINIMAL_SKILL_MD)
        shutil.copyfile(fixture, root / "scripts" / f"fixture{fixture.suffix}")
    return load_folder(root, Limits())


def _find_fixture(rule_id: str, kind: str) -> Path | None:
    folder = FIXTURES / f"{rule_id}.{kind}"
    if folder.is_dir():
        return folder
    return next(iter(sorted(FIXTURES.glob(f"{rule_id}.{kind}.*"))), None)


def _rule_ids() -> list[str]:
    return [r.id for r in ManifestAnalyzer().rules()]


@pytest.mark.parametrize("rule_id", _rule_ids())
def test_rule_fixtures(rule_id: str, analyzer: ManifestAnalyzer, tmp_path: Path) -> None:
    pos, neg = _find_fixture(rule_id, "pos"), _find_fixture(rule_id, "neg")
    assert pos is not None and neg is not None, f"{rule_id}: needs .pos and .neg fixtures in {FIXTURES}"
    pos_ids = {f.rule_id for f in analyzer.analyze(_fixture_skill(pos, tmp_path)).findings}
    neg_ids = {f.rule_id for f in analyzer.analyze(_fixture_skill(neg, tmp_path)).findings}
    assert rule_id in pos_ids, f"{pos.name} does not trigger {rule_id} (got {sorted(pos_ids)})"
    assert rule_id not in neg_ids, f"{neg.name} triggers {rule_id}"


def test_rule_metadata_is_typed_and_never_critical(analyzer: ManifestAnalyzer) -> None:
    metas = list(analyzer.rules()) + inventory_rules()
    assert len({m.id for m in metas}) == len(metas)
    for m in metas:
        assert m.severity < Severity.CRITICAL, m.id
        assert m.description
    assert {m.engine for m in analyzer.rules()} == {"manifest"}
    assert {m.engine for m in inventory_rules()} == {"bundle"}


def test_findings_use_rule_metadata(analyzer: ManifestAnalyzer, tmp_path: Path) -> None:
    skill = _skill(tmp_path, {"SKILL.md": "---\nname: clawhub\n---\nbody\n"})
    findings = {f.rule_id: f for f in analyzer.analyze(skill).findings}
    meta = {m.id: m for m in analyzer.rules()}
    for rid, f in findings.items():
        assert f.category is meta[rid].category
        assert f.analyzer == "manifest"
    assert findings["slug-reserved"].line == 2
    assert findings["description-missing"].path == "SKILL.md"


# ----------------------------------------------------------------------------- parse_frontmatter


def test_frontmatter_basic_and_body_line() -> None:
    fm = parse_frontmatter("---\nname: demo\ndescription: A demo.\n---\n# Title\n")
    assert fm.data == {"name": "demo", "description": "A demo."}
    assert fm.error is None and fm.present and fm.closed
    assert fm.body_start_line == 5
    assert fm.key_lines == {"name": 2, "description": 3}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.10", "1.10"),
        ("1.0", "1.0"),
        ("'2.0.0'", "2.0.0"),
        ("v1.2.3", "v1.2.3"),
        ("1", "1"),
        ("1e3", "1e3"),
    ],
)
def test_version_is_always_a_string(raw: str, expected: str) -> None:
    fm = parse_frontmatter(f"---\nname: x\nversion: {raw}\n---\n")
    assert fm.data is not None
    assert fm.data["version"] == expected


def test_crlf_and_bom_are_normalised() -> None:
    fm = parse_frontmatter("\ufeff---\r\nname: demo\r\ndescription: d\r\n---\r\nbody\r\n")
    assert fm.data == {"name": "demo", "description": "d"}
    assert fm.body_start_line == 5


def test_mixed_line_endings() -> None:
    fm = parse_frontmatter("---\rname: demo\r\ndescription: d\n---\rbody")
    assert fm.data == {"name": "demo", "description": "d"}


def test_no_frontmatter() -> None:
    fm = parse_frontmatter("# Just markdown\n---\nname: not frontmatter\n---\n")
    assert fm.data is None and not fm.present and fm.error is None


def test_unclosed_frontmatter() -> None:
    fm = parse_frontmatter("---\nname: demo\n\n# body\n")
    assert fm.present and not fm.closed
    assert fm.data is None and fm.error is not None and "never closed" in fm.error


def test_duplicate_keys_are_recorded_last_wins() -> None:
    fm = parse_frontmatter("---\nname: a\nname: b\nmetadata:\n  x: 1\n  x: 2\n---\n")
    assert fm.data is not None and fm.data["name"] == "b"
    assert set(fm.duplicate_keys) == {"name", "x"}


def test_metadata_json_string_with_trailing_commas() -> None:
    fm = parse_frontmatter('---\nname: a\nmetadata: \'{"openclaw": {"always": true,},}\'\n---\n')
    assert fm.data is not None
    assert fm.data["metadata"] == {"openclaw": {"always": True}}
    assert fm.metadata_error is None


def test_metadata_bad_json_string() -> None:
    fm = parse_frontmatter("---\nname: a\nmetadata: '{\"openclaw\": '\n---\n")
    assert fm.metadata_error is not None
    assert fm.data is not None and fm.data["metadata"] == '{"openclaw": '


def test_yaml_syntax_error_has_line() -> None:
    fm = parse_frontmatter("---\nname: a\ndescription: b: c\n---\n")
    assert fm.data is None and fm.error is not None
    assert fm.error_line == 3


def test_frontmatter_not_a_mapping() -> None:
    fm = parse_frontmatter("---\n- a\n- b\n---\n")
    assert fm.data is None and fm.error is not None and "not a mapping" in fm.error


def test_python_tags_are_refused() -> None:
    fm = parse_frontmatter("---\nname: !!python/object/apply:os.system ['echo pwned']\n---\n")
    assert fm.data is None and fm.error is not None


def test_keys_not_matching_clawhub_pattern_are_dropped() -> None:
    fm = parse_frontmatter("---\nname: a\n'bad key!': 1\nuser-invocable: false\n---\n")
    assert fm.data == {"name": "a", "user-invocable": False}


# ----------------------------------------------------------------------------- targeted checks


def test_missing_skill_md_mentions_nested(analyzer: ManifestAnalyzer, tmp_path: Path) -> None:
    skill = _skill(tmp_path, {"inner/SKILL.md": MINIMAL_SKILL_MD})
    [f] = [f for f in analyzer.analyze(skill).findings if f.rule_id == "skill-md-missing"]
    assert "inner/SKILL.md" in f.message


def test_lowercase_skill_md_is_accepted(analyzer: ManifestAnalyzer, tmp_path: Path) -> None:
    skill = _skill(tmp_path, {"Skill.md": MINIMAL_SKILL_MD})
    ids = {f.rule_id for f in analyzer.analyze(skill).findings}
    assert "skill-md-missing" not in ids and "frontmatter-missing" not in ids


def test_blocks_disagree_names_fields(analyzer: ManifestAnalyzer, tmp_path: Path) -> None:
    md = (
        "---\nname: a\ndescription: b\nmetadata: "
        '{"clawdbot": {"requires": {"env": []}}, "openclaw": {"requires": {"env": ["X_TOKEN"]}, "always": true}}\n'
        "---\n"
    )
    findings = analyzer.analyze(_skill(tmp_path, {"SKILL.md": md})).findings
    [f] = [f for f in findings if f.rule_id == "metadata-blocks-disagree"]
    assert f.severity is Severity.HIGH
    assert "always" in f.message and "requires" in f.message
    [a] = [f for f in findings if f.rule_id == "always-enabled"]
    assert a.severity is Severity.MEDIUM  # only in metadata: ClawHub's check misses it


def test_top_level_always_is_low(analyzer: ManifestAnalyzer, tmp_path: Path) -> None:
    md = "---\nname: a\ndescription: b\nalways: true\n---\n"
    [a] = [
        f
        for f in analyzer.analyze(_skill(tmp_path, {"SKILL.md": md})).findings
        if f.rule_id == "always-enabled"
    ]
    assert a.severity is Severity.LOW and a.line == 4


def test_https_download_is_medium(analyzer: ManifestAnalyzer, tmp_path: Path) -> None:
    md = (
        "---\nname: a\ndescription: b\nmetadata: "
        '{"openclaw": {"install": [{"kind": "download", "url": "https://example.com/t.tar.gz"}]}}\n---\n'
    )
    [f] = [
        f
        for f in analyzer.analyze(_skill(tmp_path, {"SKILL.md": md})).findings
        if f.rule_id == "install-download"
    ]
    assert f.severity is Severity.MEDIUM and f.category is Category.SUPPLY_CHAIN
    assert f.evidence == "https://example.com/t.tar.gz"


def test_declared_env_is_not_reported(analyzer: ManifestAnalyzer, tmp_path: Path) -> None:
    md = (
        "---\nname: a\ndescription: b\nmetadata: "
        '{"openclaw": {"requires": {"env": ["A_TOKEN"]}, "primaryEnv": "B_KEY", "envVars": [{"name": "C_URL"}]}}\n'
        "---\n"
    )
    script = (
        "import os\na = os.environ['A_TOKEN']\nb = os.getenv('B_KEY')\nc = os.environ.get('C_URL')\n"
        "d = os.environ['D_SECRET']\n"
    )
    findings = analyzer.analyze(_skill(tmp_path, {"SKILL.md": md, "run.py": script})).findings
    env = [(f.rule_id, f.evidence, f.line) for f in findings if f.rule_id.startswith("undeclared")]
    assert env == [("undeclared-credential-env", "D_SECRET", 5)]


def test_shell_env_locals_defaults_and_powershell(analyzer: ManifestAnalyzer, tmp_path: Path) -> None:
    script = (
        '#!/bin/bash\nOUT=/tmp/x\necho $OUT $HOME ${REGION:-eu}\n# $COMMENTED_TOKEN\ncurl -H "$API_TOKEN" x\n'
    )
    ps = "$k = $env:SERVICE_PASSWORD\n"
    findings = analyzer.analyze(_skill(tmp_path, {"SKILL.md": MINIMAL_SKILL_MD, "a.sh": script, "b.ps1": ps}))
    got = sorted(
        (f.path, f.evidence, f.line) for f in findings.findings if f.rule_id.startswith("undeclared")
    )
    assert got == [("a.sh", "API_TOKEN", 5), ("b.ps1", "SERVICE_PASSWORD", 1)]


def test_undeclared_binary_only_when_bins_declared(analyzer: ManifestAnalyzer, tmp_path: Path) -> None:
    script = "#!/bin/sh\nset -e\nfetch() { curl -s x; }\nfetch\nyt-dlp URL | jq .\ncat <<EOF\nnotacommand here\nEOF\n"
    undeclared = analyzer.analyze(_skill(tmp_path / "a", {"SKILL.md": MINIMAL_SKILL_MD, "run.sh": script}))
    assert not [f for f in undeclared.findings if f.rule_id == "undeclared-binary"]
    md = '---\nname: a\ndescription: b\nmetadata: {"openclaw": {"requires": {"bins": ["jq"]}}}\n---\n'
    declared = analyzer.analyze(_skill(tmp_path / "b", {"SKILL.md": md, "run.sh": script}))
    got = sorted(f.evidence for f in declared.findings if f.rule_id == "undeclared-binary")
    assert got == ["curl", "yt-dlp"]


def test_slug_from_meta_json(analyzer: ManifestAnalyzer, tmp_path: Path) -> None:
    meta = '{"ownerId": "u1", "slug": "Official-Tools", "version": "1.0.0", "publishedAt": 1}'
    skill = _skill(tmp_path, {"SKILL.md": MINIMAL_SKILL_MD, "_meta.json": meta})
    findings = {f.rule_id: f for f in analyzer.analyze(skill).findings}
    assert findings["slug-protected-affix"].path == "_meta.json"
    assert "slug-invalid" not in findings  # slugs are compared lowercased, like ClawHub


def test_findings_are_capped_per_rule(analyzer: ManifestAnalyzer, tmp_path: Path) -> None:
    script = "import os\n" + "".join(f"v{i} = os.environ['VAR_NUMBER_{i}']\n" for i in range(30))
    findings = analyzer.analyze(_skill(tmp_path, {"SKILL.md": MINIMAL_SKILL_MD, "x.py": script})).findings
    assert len([f for f in findings if f.rule_id == "undeclared-env-var"]) == 10


@pytest.mark.parametrize(
    "doc",
    [
        "name: a\nversion: 1.10\nmetadata:\n  openclaw: {always: true, requires: {bins: [jq]}}\n",
        "a: &x [1, 2]\nb: *x\ndup: 1\ndup: 2\n",
        "description: >\n  folded\n  text\nlist:\n  - 1\n  - two\n",
        "a: " + "[" * 60 + "]" * 60 + "\n",
        "bad: [unclosed\n",
    ],
)
def test_fast_and_pure_python_loaders_agree(doc: str) -> None:
    from skillscan import frontmatter

    results = []
    for loader in {frontmatter._LOADERS[0], frontmatter._Loader}:
        inst = loader(doc)
        try:
            node = inst.get_single_node()
            results.append(("ok", inst.construct_document(node) if node else None, tuple(inst.duplicates)))
        except yaml.YAMLError:  # both refuse, with a YAML error (bounds included)
            results.append(("err", None, ()))
        finally:
            inst.dispose()
    assert all(r == results[0] for r in results)


def test_frontmatter_data_is_json_shaped() -> None:
    import json

    fm = parse_frontmatter("---\nd: 2024-01-01\nb: !!binary aGVsbG8=\ns: !!set {a, b}\n---\n")
    assert fm.data == {"d": "2024-01-01", "b": "aGVsbG8=", "s": ["a", "b"]}
    json.dumps(fm.data)
