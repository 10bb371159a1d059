"""The fake ClawHub itself: seeding rules, wire details, staff endpoints and the admin API."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest
import requests

from skillscan.registry.fake import FakeServer, fake_clawhub
from skillscan.registry.fake_seed import sanitize_slug
from skillscan.registry.fake_store import FakeStore
from tests.registry.conftest import STAFF_TOKEN, USER_TOKEN
from tests.registry.seedtree import BINARY


def _get(fake: FakeServer, path: str, **kwargs: object) -> requests.Response:
    return requests.get(fake.url + path, timeout=5, **kwargs)  # type: ignore[arg-type]


def test_seed_report_counts_and_warnings(fake: FakeServer) -> None:
    report = fake.seed_report
    assert report is not None
    assert report.versions == sum(len(s.versions) for s in fake.store.skills.values())
    assert any("symlink not served" in w for w in report.warnings)
    assert any("no SKILL.md" in w for w in report.warnings)  # served anyway, as a malformed skill
    assert fake.store.find_exact("local", "nomd") is not None


def test_folder_name_rules() -> None:
    assert sanitize_slug("Some_Odd.Name") == "some-odd-name"
    assert sanitize_slug("openclaw_mal_A01_001") == "openclaw-mal-a01-001"
    assert sanitize_slug("___") == "skill"


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/v1/download?slug=evil", 403, "Blocked: this skill has been flagged as malicious by ClawScan and cannot be downloaded."),
        ("/api/v1/download?slug=slowpoke", 423, "This skill is pending a ClawScan security review. Please try again in a few minutes."),
        ("/api/v1/download?slug=gone", 410, "This skill has been removed by a moderator."),
        ("/api/v1/download?slug=shade", 403, "This skill is currently unavailable."),
        ("/api/v1/download?slug=retired&version=2.0.0", 410, "Version not available"),
        ("/api/v1/download?slug=nope", 404, "Skill not found"),
        ("/api/v1/download", 400, "Missing slug"),
        ("/api/v1/skills/weather/versions/0.0.1", 404, "Version not found"),
        ("/api/v1/resolve?slug=weather", 400, "Missing slug or hash"),
        ("/api/v1/resolve?slug=weather&hash=xyz", 400, "Invalid hash"),
        ("/api/v1/skills/evil/file?path=SKILL.md", 403, "Blocked: this skill has been flagged as malicious by ClawScan and cannot be downloaded."),
        ("/api/v1/skills/weather/file?path=nope.txt", 404, "File not found"),
        ("/api/v1/skills?sort=bogus", 400, "Invalid sort query parameter"),
        ("/api/v1/skills?prefix=Bad!", 400, "Invalid prefix query parameter"),
    ],
)  # fmt: skip
def test_errors_are_clawhubs_exact_plain_text(fake: FakeServer, path: str, status: int, message: str) -> None:
    resp = _get(fake, path)
    assert resp.status_code == status
    assert resp.text == message
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_download_ambiguity_is_the_plain_text_409(fake: FakeServer) -> None:
    resp = _get(fake, "/api/v1/download?slug=notes")
    assert resp.status_code == 409 and "Retry with ownerHandle" in resp.text
    detail = _get(fake, "/api/v1/skills/notes")
    assert detail.status_code == 409 and detail.json()["code"] == "AMBIGUOUS_SKILL_SLUG"


def test_file_endpoint_serves_exact_bytes_with_hash_headers(fake: FakeServer) -> None:
    resp = _get(fake, "/api/v1/skills/weather/file?path=assets/icon.bin&version=1.1.0")
    assert resp.status_code == 200 and resp.content == BINARY
    assert len(resp.headers["X-Content-SHA256"]) == 64


def test_prefix_listing_is_name_ordered(fake: FakeServer) -> None:
    page = _get(fake, "/api/v1/skills?prefix=bulk-0&limit=4").json()
    slugs = [i["slug"] for i in page["items"]]
    assert slugs == ["bulk-00", "bulk-01", "bulk-02", "bulk-03"] and page["nextCursor"]
    rest = _get(fake, f"/api/v1/skills?prefix=bulk-0&limit=50&cursor={page['nextCursor']}").json()
    assert [i["slug"] for i in rest["items"]] == [f"bulk-0{i}" for i in range(4, 10)]
    assert rest["nextCursor"] is None


def test_non_suspicious_only_filters_flagged_skills(fake: FakeServer) -> None:
    everything = {i["slug"] for i in _get(fake, "/api/v1/skills?limit=200").json()["items"]}
    clean = {i["slug"] for i in _get(fake, "/api/v1/skills?limit=200&nonSuspiciousOnly=true").json()["items"]}
    assert {"iffy", "evil"} <= everything and {"iffy", "evil"}.isdisjoint(clean)


def test_detail_and_scan_carry_moderation(fake: FakeServer) -> None:
    evil = _get(fake, "/api/v1/skills/evil").json()
    assert evil["moderation"]["isMalwareBlocked"] is True and evil["owner"]["handle"] == "local"
    assert _get(fake, "/api/v1/skills/weather").json()["moderation"] is None
    scan = _get(fake, "/api/v1/skills/slowpoke/scan").json()
    assert scan["moderation"]["isPendingScan"] is True and scan["security"]["status"] == "pending"
    verify = _get(fake, "/api/v1/skills/evil/verify").json()
    assert verify["decision"] == "fail" and "moderation.malware_blocked" in verify["reasons"]
    install = _get(fake, "/api/v1/skills/ghost/install").json()
    assert install["installKind"] == "github" and install["github"]["repo"] == "example/ghost-skill"


def test_moderation_endpoint_records_staff_verdicts(fake: FakeServer) -> None:
    path = "/api/v1/skills/weather/versions/1.1.0/moderation"
    body = {"verdict": "malicious", "reasonCodes": ["download-pipe-shell"], "summary": "s", "findings": []}
    assert requests.post(fake.url + path, json=body, timeout=5).status_code == 401
    user = requests.post(
        fake.url + path, json=body, timeout=5, headers={"Authorization": f"Bearer {USER_TOKEN}"}
    )
    assert (user.status_code, user.text) == (403, "Moderator role required.")
    staff = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    bad = requests.post(fake.url + path, json={"verdict": "evil"}, timeout=5, headers=staff)
    assert (bad.status_code, bad.text) == (400, "Invalid verdict")
    ok = requests.post(fake.url + path, json=body, timeout=5, headers=staff)
    assert ok.status_code == 200 and ok.json()["count"] == 1
    record = _get(fake, path).json()
    assert record["latest"] == body and record["items"][0]["by"] == "mod"
    missing = requests.post(fake.url + "/api/v1/skills/weather/versions/7.0.0/moderation", json=body, timeout=5,
                            headers=staff)  # fmt: skip
    assert missing.status_code == 404


def test_admin_api_over_http(fake: FakeServer) -> None:
    files = {"SKILL.md": "---\nname: live\n---\n"}
    published = requests.post(fake.url + "/_admin/publish", json={"slug": "live", "version": "1.0.0", "files": files},
                              timeout=5).json()  # fmt: skip
    assert published["ok"] and published["createdAt"] > 0
    assert _get(fake, "/api/v1/skills/live").status_code == 200
    requests.post(fake.url + "/_admin/faults", json={"kind": "error", "status": 500, "count": 1}, timeout=5)
    assert _get(fake, "/api/v1/skills/live").status_code == 500
    requests.post(fake.url + "/_admin/moderation", json={"live": "pending"}, timeout=5)
    assert _get(fake, "/api/v1/download?slug=live").status_code == 423
    log = _get(fake, "/_admin/requests").json()["items"]
    assert [r["status"] for r in log if r["path"] == "/api/v1/skills/live"] == [200, 500]
    requests.post(fake.url + "/_admin/reset", timeout=5)
    assert _get(fake, "/api/v1/skills/live").status_code == 404
    assert _get(fake, "/_admin/state").json()["faults_pending"] == 0


def test_export_is_a_zip_rooted_at_publisher_and_slug(fake: FakeServer) -> None:
    headers = {"Authorization": f"Bearer {USER_TOKEN}"}
    assert _get(fake, "/api/v1/skills/export?startDate=0&endDate=1").status_code == 401
    resp = _get(fake, f"/api/v1/skills/export?startDate=0&endDate={2**53}&limit=5", headers=headers)
    assert resp.status_code == 200 and resp.headers["X-Has-More"] == "true"
    with zipfile.ZipFile(io.BytesIO(resp.content)) as zf:
        manifest = json.loads(zf.read("_manifest.json"))
        names = zf.namelist()
    assert len(manifest) <= 5 and all(f"{m['publisher']}/{m['slug']}/SKILL.md" in names for m in manifest)


def test_context_manager_yields_a_url(seed_dir: Path) -> None:
    with fake_clawhub([seed_dir]) as url:
        assert requests.get(url + "/.well-known/clawhub.json", timeout=5).json()["apiBase"] == url
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/.well-known/clawhub.json", timeout=2)


def test_moderation_map_warns_about_unknown_keys(seed_dir: Path) -> None:
    server = FakeServer.seeded([seed_dir], moderation={"does-not-exist": "malicious", "weather": "bogus"})
    assert server.seed_report is not None
    warnings = " ".join(server.seed_report.warnings)
    assert "no skill 'does-not-exist'" in warnings and "unknown skill state 'bogus'" in warnings
    server.httpd.server_close()


def test_whole_corpus_seeds_quickly_and_serves_verified_bundles(shared_corpus: Path) -> None:
    from skillscan.registry.clawhub import ClawHubClient
    from skillscan.registry.outcomes import Downloaded

    started = time.perf_counter()
    store = FakeStore()
    from skillscan.registry.fake_seed import seed_store

    report = seed_store(store, [shared_corpus])
    assert time.perf_counter() - started < 30  # generous bound for a loaded CI box; bench/ measures
    assert report.versions >= 1500
    with FakeServer.seeded([shared_corpus / "malicious"]) as server, ClawHubClient(server.url) as client:
        summaries = list(client.iter_skills(limit=200))
        assert len(summaries) >= 700
        outcome = client.download(summaries[0].slug)
        assert isinstance(outcome, Downloaded) and outcome.files


def test_legacy_routes_still_answer(fake: FakeServer) -> None:
    assert _get(fake, "/api/download?slug=weather").content[:2] == b"PK"
    assert _get(fake, "/api/search?q=weather").json()["results"][0]["slug"] == "weather"
    assert _get(fake, "/api/cli/whoami").status_code == 401
