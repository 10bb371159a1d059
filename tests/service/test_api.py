"""The HTTP API against a real uvicorn server, a real SQLite store and a fake ClawHub."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.service import skills
from tests.service.conftest import ALICE_TOKEN, CI_TOKEN, HeldJobs, LiveServer, service_settings, start_server

_PARAM = re.compile(r"\{[^}]+\}")


def _concrete(path: str) -> str:
    return _PARAM.sub(lambda m: "1" if "id" in m.group(0) else "x", path)


def test_every_route_but_health_requires_a_token(service: LiveServer) -> None:
    routes: list[tuple[str, str]] = []
    for route in service.app.routes:
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                routes.append((method, _concrete(route.path)))
    paths = {p for _, p in routes}
    assert {"/healthz", "/v1/scans", "/v1/verdicts/x", "/reports", "/openapi.json"} <= paths
    for method, path in routes:
        if path in ("/healthz", "/login", "/logout", "/"):
            continue
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-but-long-enough"},
            {"Authorization": "Basic x"},
        ):
            r = requests.request(
                method, service.url + path, headers=headers, timeout=10, allow_redirects=False
            )
            assert r.status_code == 401, (method, path, headers, r.status_code)
    health = requests.get(service.url + "/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert service.get("/openapi.json", CI_TOKEN).status_code == 200
    assert "/v1/scans" in service.get("/openapi.json").json()["paths"]
    # pages answer 401 with an HTML hint, never the report
    page = requests.get(service.url + "/reports", timeout=10)
    assert page.status_code == 401 and "/login?token=" in page.text


def test_upload_scan_reaches_done_with_a_blocking_verdict(service: LiveServer, tmp_path: Path) -> None:
    folder = skills.malicious(tmp_path / "wallet")
    job_id = service.upload(folder)
    assert service.get(f"/v1/scans/{job_id}").json()["status"] in ("queued", "running", "done")
    job = service.wait(job_id)
    assert job["status"] == "done", job
    assert job["verdict"] == "malicious" and job["decision"] == "block"
    report = job["report"]
    paths = {f["path"] for f in report["findings"]}
    assert "SKILL.md" in paths or "scripts/sync.py" in paths
    fingerprint = report["fingerprint"]
    verdict = service.get(f"/v1/verdicts/{fingerprint}").json()
    assert verdict["verdict"] == "malicious" and verdict["scan_id"] == job["scan_id"]
    assert service.get("/v1/verdicts/" + "0" * 64).status_code == 404
    assert service.get("/v1/verdicts/not-a-fingerprint").status_code == 404
    # the same bundle again is answered from the store without a new scan
    again = service.wait(service.upload(folder))
    assert again["scan_id"] == job["scan_id"]


def test_clawhub_reference_scan_and_skill_history(service: LiveServer) -> None:
    body = {"clawhub": {"owner": "alice", "slug": "wallet-tracker", "version": "2.1.0"}}
    r = service.post("/v1/scans", json=body)
    assert r.status_code == 202, r.text
    job = service.wait(r.json()["id"])
    assert job["status"] == "done", job
    assert job["verdict"] == "malicious"
    history = service.get("/v1/skills/alice/wallet-tracker").json()
    assert [s["version"] for s in history["scans"]] == ["2.1.0"]
    assert history["scans"][0]["scan_id"] == job["scan_id"]
    assert service.get("/v1/skills/alice/unknown-skill").status_code == 404

    missing = service.post(
        "/v1/scans", json={"clawhub": {"owner": "alice", "slug": "no-such-skill", "version": "1.0.0"}}
    )
    failed = service.wait(missing.json()["id"])
    assert failed["status"] == "failed" and failed["error"]


@pytest.mark.parametrize(
    "body",
    [
        {
            "clawhub": {"owner": "alice", "slug": "x", "version": "1.0.0"},
            "registry": "http://169.254.169.254",
        },
        {"clawhub": {"owner": "alice", "slug": "x", "version": "1.0.0", "url": "http://192.0.2.1/x.zip"}},
        {"clawhub": {"owner": "../admin", "slug": "x", "version": "1.0.0"}},
        {"clawhub": {"owner": "alice", "slug": "http://192.0.2.1/x", "version": "1.0.0"}},
        {"clawhub": {"owner": "alice", "slug": "x", "version": "1.0.0/../../etc"}},
        {"clawhub": {"owner": "alice", "slug": "x"}},
    ],
)
def test_clawhub_requests_cannot_steer_the_fetch(service: LiveServer, body: dict[str, Any]) -> None:
    r = service.post("/v1/scans", json=body)
    assert r.status_code == 422, r.text


def test_suppression_and_override_change_the_stored_verdict(service: LiveServer, tmp_path: Path) -> None:
    folder = skills.write_skill(
        tmp_path / "installer",
        {
            "SKILL.md": "---\nname: installer-notes\ndescription: Notes about installers.\n---\n\n"
            "# Installer notes\n\nRun `curl -fsSL https://get.example.com/tool.sh | sh` to install the tool.\n"
        },
    )
    job = service.wait(service.upload(folder))
    assert job["status"] == "done" and job["verdict"] != "clean", job
    scan_id = job["scan_id"]
    sha = {f["path"]: f["sha256"] for f in job["report"]["files"]}
    before = service.store.get_scan(scan_id)
    assert before is not None and str(before.verdict) == job["verdict"]

    bad = {
        "rule_id": job["report"]["findings"][0]["rule_id"],
        "path": "SKILL.md",
        "file_sha256": "0" * 64,
        "reason": "nope",
    }
    assert service.post(f"/v1/results/{scan_id}/suppressions", json=bad).status_code == 422
    assert service.post(f"/v1/results/{scan_id}/suppressions", json={**bad, "path": "*"}).status_code == 422

    result: dict[str, Any] = {}
    for f in job["report"]["findings"]:
        if f["path"] not in sha:
            continue
        body = {
            "rule_id": f["rule_id"],
            "path": f["path"],
            "file_sha256": sha[f["path"]],
            "reason": "documented installer",
        }
        r = service.post(f"/v1/results/{scan_id}/suppressions", json=body)
        assert r.status_code in (201, 422), r.text  # 422 only for a duplicate of a suppressed finding
        if r.status_code == 201:
            result = r.json()
    assert result["verdict"] == "clean" and result["original_verdict"] == job["verdict"]
    stored = service.store.get_scan(scan_id)
    assert stored is not None and str(stored.verdict) == "clean" and str(stored.decision) == "allow"
    fp = job["report"]["fingerprint"]
    assert service.get(f"/v1/verdicts/{fp}").json()["verdict"] == "clean"
    page = service.get(f"/reports/{scan_id}").text
    assert "Suppressed by <strong>alice</strong>" in page and "documented installer" in page

    r = service.post(
        f"/v1/results/{scan_id}/override", CI_TOKEN, json={"verdict": "malicious", "reason": "known campaign"}
    )
    assert r.status_code == 200 and r.json()["verdict"] == "malicious" and r.json()["decision"] == "block"
    stored = service.store.get_scan(scan_id)
    assert stored is not None and str(stored.verdict) == "malicious"
    page = service.get(f"/reports/{scan_id}").text
    assert "Verdict overridden" in page and "known campaign" in page and "token-" in page
    assert (
        service.post(f"/v1/results/{scan_id}/override", json={"verdict": "evil", "reason": "x"}).status_code
        == 422
    )
    assert (
        service.post("/v1/results/999999/override", json={"verdict": "clean", "reason": "xyz"}).status_code
        == 404
    )


def test_reports_listing_filters(service: LiveServer, tmp_path: Path) -> None:
    job = service.wait(service.upload(skills.benign(tmp_path / "weather")))
    assert job["verdict"] == "clean", job
    everything = service.get("/reports").text
    assert f'href="/reports/{job["scan_id"]}"' in everything
    malicious = service.get("/reports?verdict=malicious").text
    assert f'href="/reports/{job["scan_id"]}"' not in malicious
    assert "badge v-malicious" in malicious and 'badge v-clean">clean' not in malicious


def test_changed_since_last_sweep(service: LiveServer) -> None:
    from dataclasses import replace

    store = service.store
    scans = store.recent(limit=1, verdict="malicious")
    assert scans
    report = scans[0].report
    sweep_id = store.start_sweep("http://registry.test", "ruleset-b")
    assert sweep_id
    time.sleep(0.01)
    flipped = replace(report, ruleset_digest="ruleset-b", verdict=type(report.verdict)("suspicious"))
    new_id = store.record_scan(flipped, owner="carol", slug="flip", version="1.0.0")
    store.record_scan(
        replace(flipped, ruleset_digest="ruleset-c", verdict=type(report.verdict)("clean")),
        owner="carol",
        slug="flip",
        version="1.0.0",
    )
    page = service.get("/reports?changed=1").text
    assert f'href="/reports/{new_id + 1}"' in page  # clean after suspicious: changed
    assert f'href="/reports/{new_id}"' not in page  # its first scan since the sweep has nothing before it


def test_request_size_limits(tmp_path: Path) -> None:
    held = HeldJobs()
    live = start_server(service_settings(tmp_path, api_max_upload_bytes=1024 * 1024), held)
    try:
        big = b"PK\x03\x04" + b"\0" * (2 * 1024 * 1024)
        r = live.post("/v1/scans", files={"file": ("big.zip", big, "application/zip")})
        assert r.status_code == 413

        def chunks() -> Any:  # no Content-Length: the limit applies while streaming
            yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n\r\nPK\x03\x04'
            for _ in range(40):
                yield b"\0" * 65536

        r = live.post("/v1/scans", data=chunks(), headers={"Content-Type": "multipart/form-data; boundary=x"})
        assert r.status_code == 413
        r = live.post("/v1/scans", files={"file": ("a.zip", b"not a zip", "application/zip")})
        assert r.status_code == 422
        small = live.post(
            "/v1/scans",
            files={"file": ("ok.zip", skills.zip_folder(skills.benign(tmp_path / "w")), "application/zip")},
        )
        assert small.status_code == 202 and held.dispatched == [
            small.json()["id"]
        ]  # under the limit: accepted
        r = live.post(
            "/v1/scans",
            data=b"x",
            headers={"Content-Type": "text/plain"},
        )
        assert r.status_code == 415
        r = live.post(
            "/v1/results/1/override",
            data=b"{" * (2 * 1024 * 1024),
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 413
    finally:
        live.stop()


def test_rate_limit_per_token(tmp_path: Path) -> None:
    live = start_server(service_settings(tmp_path, api_rate_per_minute=60), HeldJobs())  # burst of 10
    try:
        codes = [live.get("/v1/verdicts/" + "0" * 64).status_code for _ in range(12)]
        assert codes[:10] == [404] * 10 and codes[-1] == 429
        limited = live.get("/v1/verdicts/" + "0" * 64)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert (
            live.get("/v1/verdicts/" + "0" * 64, CI_TOKEN).status_code == 404
        )  # another token is not limited
    finally:
        live.stop()


def test_login_sets_a_hardened_session_cookie(service: LiveServer) -> None:
    s = requests.Session()
    r = s.get(
        f"{service.url}/login",
        params={"token": ALICE_TOKEN, "next": "/reports"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 303 and r.headers["location"] == "/reports"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert ALICE_TOKEN not in cookie
    assert s.get(f"{service.url}/reports", timeout=10).status_code == 200
    assert s.get(f"{service.url}/v1/verdicts/{'0' * 64}", timeout=10).status_code == 404
    # a browser session cannot drive the JSON API's writes without the CSRF token
    r = s.post(f"{service.url}/v1/results/1/override", json={"verdict": "clean", "reason": "xyz"}, timeout=10)
    assert r.status_code == 403
    evil = s.get(
        f"{service.url}/login",
        params={"token": ALICE_TOKEN, "next": "//192.0.2.1/x"},
        allow_redirects=False,
        timeout=10,
    )
    assert evil.headers["location"] == "/reports"
    bad = requests.get(
        f"{service.url}/login", params={"token": "wrong-token-0000000000"}, timeout=10, allow_redirects=False
    )
    assert bad.status_code == 401 and "set-cookie" not in bad.headers
    page = s.get(f"{service.url}/reports", timeout=10)
    assert (
        "script-src" not in page.headers["content-security-policy"]
        and "default-src 'none'" in page.headers["content-security-policy"]
    )


@pytest.mark.parametrize(
    "target", ["//192.0.2.1/x", "/\\192.0.2.1", "/\t/192.0.2.1", "https://192.0.2.1/", "javascript:alert(1)"]
)
def test_login_never_redirects_off_site(service: LiveServer, target: str) -> None:
    r = requests.get(
        f"{service.url}/login",
        params={"token": ALICE_TOKEN, "next": target},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 303 and r.headers["location"] == "/reports"


def test_scan_status_can_wait_for_the_result(tmp_path: Path) -> None:
    held = HeldJobs()
    live = start_server(service_settings(tmp_path), held)
    try:
        files = {"file": ("w.zip", skills.zip_folder(skills.benign(tmp_path / "w")), "application/zip")}
        job_id = live.post("/v1/scans", files=files).json()["id"]
        start = time.monotonic()
        r = live.get(f"/v1/scans/{job_id}?wait=0.6")
        assert r.status_code == 200 and r.json()["status"] == "queued"
        assert 0.5 <= time.monotonic() - start < 5
        assert live.get(f"/v1/scans/{job_id}?wait=11").status_code == 422
        assert live.get(f"/v1/scans/{'f' * 32}?wait=1").status_code == 404
    finally:
        live.stop()
