"""`GET /v1/verdicts/{fingerprint}`, the gate's lookup, on SQLite (answered on the event loop) and
PostgreSQL (answered from the thread pool): the same answer from either."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from skillscan.models import Verdict
from tests.conftest import make_report, postgres_schema_url
from tests.service.conftest import CI_TOKEN, HeldJobs, service_settings, start_server

FINGERPRINT = "ab" * 32


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'verdicts.db'}"
        return
    yield from postgres_schema_url()


def test_a_stored_verdict_is_found_by_fingerprint(database_url: str, tmp_path: Path) -> None:
    settings = replace(service_settings(tmp_path), database_url=database_url)
    live = start_server(settings, dispatcher=HeldJobs())
    try:
        st = live.app.state.skillscan
        report = make_report("wallet", owner="mallory", fingerprint=FINGERPRINT, verdict=Verdict.MALICIOUS)
        scan_id = st.verdicts.record(report, source="test", identity=("mallory", "wallet", "1.0.0"))
        r = live.get(f"/v1/verdicts/{FINGERPRINT}", CI_TOKEN)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["scan_id"], body["verdict"], body["decision"]) == (scan_id, "malicious", "block")
        assert body["skill"] == {"owner": "mallory", "slug": "wallet", "version": "1.0.0"}
        assert [f["rule_id"] for f in body["findings"]] == ["download-pipe-shell"]
        assert live.get(f"/v1/verdicts/{'cd' * 32}", CI_TOKEN).status_code == 404
        assert live.get("/v1/verdicts/not-a-fingerprint", CI_TOKEN).status_code == 404
        assert live.get(f"/v1/verdicts/{FINGERPRINT}", None).status_code == 401
    finally:
        live.stop()
