"""Update diffs: which version an update replaces, what it adds, and the finding it earns."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillscan.bundle import load_folder
from skillscan.config import Limits
from skillscan.diff import (
    RULE_ID,
    ProfileDiff,
    UpdateDiffs,
    added_severity,
    diff_for_scan,
    diff_profiles,
    pick_previous,
    update_finding,
)
from skillscan.models import (
    Category,
    Decision,
    FileEntry,
    ScanReport,
    Severity,
    Skill,
    SkillIdentity,
    Verdict,
)
from skillscan.profile import (
    AGENT_COMMANDS,
    BINARIES,
    CREDENTIAL_PATHS,
    ENV_VARS,
    INSTALL_SPECS,
    NETWORK_HOSTS,
    PERSISTENCE,
    PROCESS_EXEC,
    CapabilityProfile,
    Location,
)
from skillscan.store import VerdictStore

SEED = Path(__file__).resolve().parent.parent / "post" / "seed"


def _weather(version: str) -> tuple[Skill, ScanReport]:
    skill = load_folder(SEED / f"weather@{version}", Limits())
    report = ScanReport(
        skill=SkillIdentity(
            owner="acme", slug="weather", version=version, fingerprint=skill.identity.fingerprint
        ),
        source=f"clawhub:@acme/weather@{version}",
        files=tuple(FileEntry(f.path, f.kind, f.size, f.sha256) for f in skill.real_files),
        findings=(),
        errors=(),
        verdict=Verdict.CLEAN,
        decision=Decision.ALLOW,
        reason="no findings",
        tool_version="0.1.0",
        ruleset_digest="r1",
    )
    return skill, report


@pytest.fixture
def store(tmp_path: Path):
    s = VerdictStore(f"sqlite:///{tmp_path / 'verdicts.db'}")
    yield s
    s.close()


def _scan(store: VerdictStore, differ: UpdateDiffs, versions: list[str]) -> dict[str, ScanReport]:
    pairs = [_weather(v) for v in versions]
    keys = [("acme", "weather", v) for v in versions]
    reports = differ.apply(keys, [s for s, _ in pairs], [r for _, r in pairs])
    out = {}
    for key, report in zip(keys, reports, strict=True):
        scan_id = store.record_scan(report)
        differ.save(key, scan_id, report.skill.fingerprint or "")
        out[key[2]] = report
    return out


def test_pick_previous() -> None:
    assert pick_previous("1.1.0", {"1.0.0": 1, "1.0.5": 2, "2.0.0": 3}) == "1.0.5"
    assert pick_previous("v1.1.0", {"v1.0.0": 4}) == "v1.0.0"  # node-semver's leading v
    assert pick_previous("1.0.0", {"1.1.0": 9}) is None  # only newer versions: this is the first
    assert pick_previous("1.0.0", {}) is None
    assert pick_previous("nightly", {"a": 3, "b": 7}) == "b"  # not semver: the latest scanned
    assert pick_previous("1.0.0", {"1.0.0": 5}) is None  # a rescan of itself is no update


@pytest.mark.parametrize(
    ("caps", "expected"),
    [
        ({PROCESS_EXEC, NETWORK_HOSTS}, Severity.HIGH),
        ({CREDENTIAL_PATHS, NETWORK_HOSTS}, Severity.HIGH),
        ({PERSISTENCE, PROCESS_EXEC}, Severity.HIGH),
        ({BINARIES, PROCESS_EXEC}, Severity.HIGH),
        ({PROCESS_EXEC}, Severity.MEDIUM),
        ({INSTALL_SPECS}, Severity.MEDIUM),
        ({BINARIES}, Severity.MEDIUM),
        ({NETWORK_HOSTS}, Severity.LOW),
        ({ENV_VARS, AGENT_COMMANDS}, Severity.LOW),
        (set(), None),
    ],
)
def test_severity_follows_the_capability(caps: set[str], expected: Severity | None) -> None:
    assert added_severity({cap: ("x",) for cap in caps}) == expected


def test_update_finding_lists_what_was_added() -> None:
    old = CapabilityProfile({NETWORK_HOSTS: {"api.example.com": Location("a.py", 3)}})
    new = CapabilityProfile(
        {
            NETWORK_HOSTS: {"api.example.com": Location("a.py", 3), "203.0.113.5": Location("b.sh", 2)},
            PROCESS_EXEC: {"interactive shell": Location("b.sh", 2)},
        }
    )
    diff = diff_profiles(old, new, version="2.0.0", previous_version="1.0.0")
    assert diff.added == {PROCESS_EXEC: ("interactive shell",), NETWORK_HOSTS: ("203.0.113.5",)}
    finding = update_finding(diff, new)
    assert finding is not None
    assert finding.rule_id == RULE_ID and finding.category is Category.SUPPLY_CHAIN
    assert finding.severity is Severity.HIGH
    assert (finding.path, finding.line) == ("b.sh", 2)
    assert (
        "interactive shell" in finding.message
        and "203.0.113.5" in finding.message
        and "1.0.0" in finding.message
    )
    removed = diff_profiles(new, old, version="3.0.0", previous_version="2.0.0")
    assert removed.removed and update_finding(removed, old) is None  # losing powers is not a finding
    first = ProfileDiff(version="1.0.0", previous_version=None, added={PROCESS_EXEC: ("x",)})
    assert update_finding(first, new) is None


def test_weather_update_gets_the_finding_and_the_first_version_none(store: VerdictStore) -> None:
    differ = UpdateDiffs(store)
    first = _scan(store, differ, ["1.0.0"])["1.0.0"]
    assert not any(f.rule_id == RULE_ID for f in first.findings)
    second = _scan(store, UpdateDiffs(store), ["1.1.0"])["1.1.0"]
    (finding,) = [f for f in second.findings if f.rule_id == RULE_ID]
    assert finding.severity is Severity.HIGH
    assert "203.0.113.7" in finding.message and "/dev/tcp" in finding.message
    assert finding.path == "scripts/update.sh"


def test_versions_in_one_batch_compare_with_each_other(store: VerdictStore) -> None:
    reports = _scan(store, UpdateDiffs(store), ["1.1.0", "1.0.0"])  # newest first, as a listing returns them
    assert any(f.rule_id == RULE_ID for f in reports["1.1.0"].findings)
    assert not any(f.rule_id == RULE_ID for f in reports["1.0.0"].findings)
    # a later rescan of 1.0.0 (every other version is newer) earns nothing either
    again = _scan(store, UpdateDiffs(store), ["1.0.0"])["1.0.0"]
    assert not any(f.rule_id == RULE_ID for f in again.findings)


def test_the_verdict_is_decided_again(store: VerdictStore) -> None:
    def decide(findings, errors):  # the scanner's policy, reduced to its table for high findings
        worst = max((f.severity for f in findings), default=Severity.INFO)
        return (
            (Verdict.SUSPICIOUS, Decision.WARN, "high finding")
            if worst >= Severity.HIGH
            else (
                Verdict.CLEAN,
                Decision.ALLOW,
                "",
            )
        )

    _scan(store, UpdateDiffs(store, decide), ["1.0.0"])
    updated = _scan(store, UpdateDiffs(store, decide), ["1.1.0"])["1.1.0"]
    assert updated.verdict is Verdict.SUSPICIOUS and updated.decision is Decision.WARN


def test_diff_for_scan_feeds_the_report_page(store: VerdictStore) -> None:
    differ = UpdateDiffs(store)
    _scan(store, differ, ["1.0.0", "1.1.0"])
    latest = store.latest_for_version("acme", "weather", "1.1.0")
    first = store.latest_for_version("acme", "weather", "1.0.0")
    assert latest is not None and first is not None
    diff = diff_for_scan(store, latest.id)
    assert diff is not None
    page = diff.to_dict()
    assert page["previous_version"] == "1.0.0" and page["severity"] == "high"
    assert "203.0.113.7" in page["added"][NETWORK_HOSTS]
    assert page["labels"][PROCESS_EXEC] == "process execution"
    assert diff_for_scan(store, first.id) is None  # the first version has nothing to compare with
    assert diff_for_scan(store, 999_999) is None


def test_rule_metadata_matches_the_finding() -> None:
    from skillscan.diff import rules

    (meta,) = rules()
    assert meta.id == RULE_ID and meta.category is Category.SUPPLY_CHAIN
    assert meta.severity is Severity.HIGH  # the most it reports: new exec together with a new host
    assert added_severity({PROCESS_EXEC: ("x",), NETWORK_HOSTS: ("y",)}) is meta.severity
