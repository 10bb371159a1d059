"""`clawhub:` scan sources: parsing, verified load into a Skill, and clear errors otherwise."""

from __future__ import annotations

from dataclasses import replace

import pytest

from skillscan.config import Settings
from skillscan.errors import RegistryError
from skillscan.registry.errors import AmbiguousSlugError
from skillscan.registry.fake import FakeServer
from skillscan.registry.outcomes import OutcomeKind
from skillscan.registry.source import ClawHubRef, RegistryOutcomeError, load_clawhub_ref, parse_clawhub_ref


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("clawhub:weather", ClawHubRef(None, "weather", None)),
        ("clawhub:weather@1.2.3", ClawHubRef(None, "weather", "1.2.3")),
        ("clawhub:@Alice/Weather@v1.2.3-rc.1", ClawHubRef("alice", "weather", "v1.2.3-rc.1")),
        ("clawhub:alice/weather", ClawHubRef("alice", "weather", None)),
        ("weather@2.0.0", ClawHubRef(None, "weather", "2.0.0")),
    ],
)
def test_parse_references(ref: str, expected: ClawHubRef) -> None:
    assert parse_clawhub_ref(ref) == expected


@pytest.mark.parametrize(
    "ref", ["clawhub:", "clawhub:../etc", "clawhub:a/b/c", "clawhub:we ather", "clawhub:@/x", "clawhub:x@"]
)
def test_bad_references_are_refused(ref: str) -> None:
    with pytest.raises(RegistryError, match="not a ClawHub reference"):
        parse_clawhub_ref(ref)


@pytest.fixture
def settings(fake: FakeServer) -> Settings:
    return replace(Settings(), registry_url=fake.url)


def test_load_clawhub_ref_returns_the_verified_skill(settings: Settings) -> None:
    skill = load_clawhub_ref("clawhub:@local/weather@1.0.0", settings)
    assert (skill.identity.owner, skill.identity.slug, skill.identity.version) == (
        "local",
        "weather",
        "1.0.0",
    )
    assert skill.source == "clawhub:@local/weather@1.0.0"
    assert skill.identity.fingerprint and skill.zip_sha256
    assert {f.path for f in skill.real_files} - {"_meta.json"} == {"SKILL.md", "run.py"}


@pytest.mark.parametrize(
    ("ref", "kind", "retry_hint"),
    [
        ("clawhub:evil", OutcomeKind.BLOCKED, False),
        ("clawhub:slowpoke", OutcomeKind.PENDING, True),
        ("clawhub:gone", OutcomeKind.REMOVED, False),
        ("clawhub:ghost", OutcomeKind.GITHUB, False),
        ("clawhub:nothing-here", OutcomeKind.NOT_FOUND, False),
    ],
)
def test_non_downloads_raise_with_the_outcome(
    settings: Settings, ref: str, kind: OutcomeKind, retry_hint: bool
) -> None:
    with pytest.raises(RegistryOutcomeError) as err:
        load_clawhub_ref(ref, settings)
    assert err.value.outcome.kind is kind
    assert str(kind) in str(err.value)
    assert ("retry later" in str(err.value)) is retry_hint


def test_tampered_bundle_never_reaches_the_scanner(settings: Settings, fake: FakeServer) -> None:
    fake.admin.tamper("weather", "run.py", b"import os\n")
    with pytest.raises(RegistryOutcomeError, match=r"run\.py"):
        load_clawhub_ref("clawhub:weather", settings)


def test_ambiguous_reference_names_the_owners(settings: Settings) -> None:
    with pytest.raises(AmbiguousSlugError, match="alice"):
        load_clawhub_ref("clawhub:notes", settings)
    assert load_clawhub_ref("clawhub:@bob/notes", settings).identity.owner == "bob"


def test_scanner_routes_clawhub_references(settings: Settings) -> None:
    scan = pytest.importorskip("skillscan.scan")
    if not hasattr(scan, "Scanner"):
        pytest.skip("skillscan.scan.Scanner is not available yet")
    with scan.Scanner(settings, analyzers=[]) as scanner:  # routing only; test_cli runs the full scan
        reports = scanner.scan_paths(["clawhub:@local/weather@1.1.0"])
    assert len(reports) == 1
    report = reports[0]
    assert (report.skill.owner, report.skill.slug, report.skill.version) == ("local", "weather", "1.1.0")
    assert {f.path for f in report.files} >= {"SKILL.md", "scripts/fetch.sh"}
