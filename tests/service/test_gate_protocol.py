"""Protocol v1 parsing and the decision object: limits, severity mapping, fail-closed answers."""

from __future__ import annotations

import json

import pytest

from skillscan.service import gate_protocol as proto


def _request(**overrides: object) -> bytes:
    body: dict[str, object] = {
        "protocolVersion": 1,
        "openclawVersion": "2026.8.1",
        "targetType": "skill",
        "targetName": "weather",
        "sourcePath": "/tmp/openclaw-skill-clawhub-abc/weather",
        "sourcePathKind": "directory",
        "source": {"kind": "clawhub", "authority": "clawhub.ai", "mutable": False, "network": True},
        "origin": {
            "type": "clawhub",
            "registry": "https://clawhub.ai",
            "slug": "weather",
            "version": "1.0.0",
        },
        "request": {
            "kind": "skill-install",
            "mode": "install",
            "requestedSpecifier": "clawhub:weather@1.0.0",
        },
        "skill": {"installId": "abc"},
    }
    body.update(overrides)
    return json.dumps(body).encode()


def test_parses_a_full_v1_request() -> None:
    req = proto.parse_request(_request())
    assert req.source_path.endswith("/weather")
    assert req.source_path_kind == "directory"
    assert req.mode == "install"
    assert req.origin["slug"] == "weather"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (_request(protocolVersion=2), "protocolVersion 2"),
        (_request(protocolVersion=True), "protocolVersion true"),
        (_request(protocolVersion="1"), 'protocolVersion "1"'),
        (_request(sourcePath=""), "no sourcePath"),
        (_request(sourcePath=42), "no sourcePath"),
        (_request(sourcePathKind="socket"), "sourcePathKind"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(raw: bytes, expected: str) -> None:
    with pytest.raises(proto.GateRequestError, match=expected):
        proto.parse_request(raw)


def test_oversized_request_is_refused() -> None:
    with pytest.raises(proto.GateRequestError, match="larger than"):
        proto.parse_request(b" " * (proto.MAX_REQUEST_BYTES + 1))


def _finding(i: int, severity: str, **extra: object) -> dict[str, object]:
    return {
        "rule_id": f"rule-{i}",
        "severity": severity,
        "path": f"scripts/f{i}.sh",
        "line": i + 1,
        "message": f"message {i}",
        "evidence": f"evidence {i}",
        **extra,
    }


def test_findings_are_mapped_sorted_and_capped() -> None:
    findings = [_finding(i, sev) for i, sev in enumerate(["info", "low", "medium", "high", "critical"] * 30)]
    out = proto.protocol_findings(findings)
    assert len(out) == proto.MAX_FINDINGS
    assert {f["severity"] for f in out} <= {"info", "warn", "critical"}
    order = {"critical": 0, "warn": 1, "info": 2}
    ranks = [order[f["severity"]] for f in out]
    assert ranks == sorted(ranks)
    # 60 high+critical come first, then the 30 medium, then 10 of the 60 info/low
    assert sum(f["severity"] == "critical" for f in out) == 60
    assert sum(f["severity"] == "warn" for f in out) == 30


def test_severity_mapping() -> None:
    assert [proto.map_severity(s) for s in ("info", "low", "medium", "high", "critical")] == [
        "info",
        "info",
        "warn",
        "critical",
        "critical",
    ]


def test_text_fields_are_clipped_to_1000_chars() -> None:
    long = "x" * 5000
    out = proto.protocol_findings([_finding(1, "high", message=long, evidence=long, path=long, rule_id=long)])
    for key in ("ruleId", "message", "file", "evidence"):
        assert len(out[0][key]) <= proto.MAX_TEXT
    resp = proto.response("block", long, out)
    assert len(resp["reason"]) <= proto.MAX_TEXT


def test_experimental_findings_never_outrank_stable_ones() -> None:
    out = proto.protocol_findings([_finding(1, "critical", status="experimental"), _finding(2, "low")])
    assert out[0]["ruleId"] == "rule-2"
    assert out[1]["severity"] == "info"
    assert out[1]["message"].startswith("[experimental]")


def test_bad_lines_are_left_out() -> None:
    out = proto.protocol_findings([_finding(1, "high", line=0), _finding(2, "high", line=True)])
    assert all("line" not in f for f in out)


def test_warn_and_block_always_carry_a_reason() -> None:
    for decision in ("warn", "block"):
        resp = proto.response(decision, None)
        assert resp["reason"]
    assert proto.response("allow", None) == {"protocolVersion": 1, "decision": "allow"}


def test_unknown_decision_fails_closed() -> None:
    resp = proto.response("maybe", "x")
    assert resp["decision"] == "block"
    assert "unknown decision" in resp["reason"]


def test_worst_decision() -> None:
    assert proto.worst_decision(["allow", "warn"]) == "warn"
    assert proto.worst_decision(["allow", "block", "warn"]) == "block"
    assert proto.worst_decision([]) == "block"


def test_gate_config_reads_the_same_variables_and_defaults_as_settings() -> None:
    from skillscan.config import Settings
    from skillscan.service.gate import GateConfig

    for env in (
        {},
        {
            "SKILLSCAN_URL": "http://127.0.0.1:9",
            "SKILLSCAN_TOKEN": "t" * 20,
            "SKILLSCAN_GATE_TIMEOUT_S": "6.5",
            "SKILLSCAN_GATE_LOOKUP_TIMEOUT_S": "0.4",
            "SKILLSCAN_GATE_SUBMIT": "off",
            "SKILLSCAN_GATE_SERVICE_BUDGET_S": "2",
            "SKILLSCAN_MAX_FILES": "77",
            "SKILLSCAN_MAX_TOTAL_BYTES": "1000",
            "SKILLSCAN_API_MAX_UPLOAD_BYTES": "900",
        },
    ):
        s = Settings.from_env(env)
        g = GateConfig(env)
        assert (g.service_url, g.service_token) == (s.service_url, s.service_token)
        assert (g.timeout_s, g.lookup_timeout_s, g.submit, g.service_budget_s) == (
            s.gate_timeout_s,
            s.gate_lookup_timeout_s,
            s.gate_submit,
            s.gate_service_budget_s,
        )
        assert g.max_files == s.limits.max_files
        assert g.max_bytes == min(s.limits.max_total_bytes, s.api_max_upload_bytes)


def test_gate_fast_path_imports_stay_light() -> None:
    import subprocess
    import sys
    from pathlib import Path

    # Without site (-S): an editable install's path finder would load re, pathlib and more itself.
    # The gate connects to a listening socket of its own, so the connection's imports count too.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import _socket\n"
        "import skillscan.service.gate, skillscan.service.gate_client as c\n"
        "s = _socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
        "c._connect('127.0.0.1', s.getsockname()[1], 5.0).close()\n"
        "print(','.join(sorted(sys.modules)))"
    )
    repo = str(Path(__file__).resolve().parents[2])
    loaded = set(
        subprocess.run([sys.executable, "-S", "-c", code, repo], capture_output=True, text=True, check=True)
        .stdout.strip()
        .split(",")
    )
    heavy = {
        "skillscan.scan",
        "skillscan.config",
        "skillscan.models",
        "dataclasses",
        "typing",
        "requests",
        "http.client",
        "yara",
        # each of these costs the gate 1-9 ms per install
        "json",
        "re",
        "enum",
        "collections",
        "socket",
        "hashlib",
        "threading",
        "urllib.parse",
        "encodings.idna",
    }
    assert "skillscan.service.gate_client" in loaded
    assert not heavy & loaded, heavy & loaded
