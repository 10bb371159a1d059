"""OpenClaw `security.installPolicy` protocol v1 (clawhub-api.md §4.3): the request we read on stdin
and the one decision object we write on stdout.

Pure and import-light: the gate's fast path loads this module and nothing heavy.
"""

from __future__ import annotations

from skillscan.service import gate_json

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the fast path ~2 ms
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

PROTOCOL_VERSION = 1
MAX_FINDINGS = 100  # OpenClaw keeps at most 100 and fails a warn with more closed
MAX_TEXT = 1000  # every text field
MAX_REQUEST_BYTES = 1024 * 1024

DECISIONS = ("allow", "warn", "block")
_DECISION_RANK = {d: i for i, d in enumerate(DECISIONS)}

# skillscan severity -> protocol severity
_SEVERITY = {"info": "info", "low": "info", "medium": "warn", "high": "critical", "critical": "critical"}
_SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


class GateRequestError(ValueError):
    """The request cannot be served; the message becomes the block reason."""


class GateRequest:
    """A validated request (a plain class: `dataclasses` alone would double the gate's import time)."""

    __slots__ = ("mode", "origin", "source_path", "source_path_kind", "target_name", "target_type")

    def __init__(
        self,
        source_path: str,
        source_path_kind: str | None,  # "directory" | "file" | None when not given
        target_type: str | None,
        target_name: str | None,
        mode: str | None,
        origin: Mapping[str, Any],
    ) -> None:
        self.source_path = source_path
        self.source_path_kind = source_path_kind
        self.target_type = target_type
        self.target_name = target_name
        self.mode = mode
        self.origin = origin


def clip(text: object, limit: int = MAX_TEXT) -> str:
    s = "" if text is None else str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def parse_request(raw: bytes) -> GateRequest:
    """Validate a protocol-v1 request. Raises GateRequestError with a reason fit for the operator."""
    if len(raw) > MAX_REQUEST_BYTES:
        raise GateRequestError(f"install-policy request larger than {MAX_REQUEST_BYTES} bytes")
    if not raw.strip():
        raise GateRequestError("empty install-policy request on stdin")
    try:
        data = gate_json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise GateRequestError(f"install-policy request is not valid JSON ({clip(e, 200)})") from e
    except RecursionError as e:
        raise GateRequestError("install-policy request is not valid JSON (nested too deeply)") from e
    if not isinstance(data, dict):
        raise GateRequestError("install-policy request must be a JSON object")
    version = data.get("protocolVersion")
    if isinstance(version, bool) or version != PROTOCOL_VERSION:
        raise GateRequestError(
            f"unsupported install-policy protocolVersion {clip(_shown(version), 50)}; "
            f"skillscan speaks version {PROTOCOL_VERSION}"
        )
    path = data.get("sourcePath")
    if not isinstance(path, str) or not path.strip():
        raise GateRequestError("install-policy request has no sourcePath")
    if "\x00" in path:
        raise GateRequestError("sourcePath contains a NUL byte")
    kind = data.get("sourcePathKind")
    if kind is not None and kind not in ("directory", "file"):
        raise GateRequestError(f"unknown sourcePathKind {clip(_shown(kind), 50)}")
    origin = data.get("origin")
    request = data.get("request")
    return GateRequest(
        source_path=path,
        source_path_kind=kind,
        target_type=_opt_str(data.get("targetType")),
        target_name=_opt_str(data.get("targetName")),
        mode=_opt_str(request.get("mode")) if isinstance(request, dict) else None,
        origin=origin if isinstance(origin, dict) else {},
    )


def _shown(value: object) -> str:
    import json  # only for a refusal: as the request spelled it

    return json.dumps(value)


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def map_severity(severity: str) -> str:
    return _SEVERITY.get(severity, "warn")


def protocol_findings(findings: Iterable[Mapping[str, Any]], prefix: str = "") -> list[dict[str, Any]]:
    """skillscan findings (report dicts) -> protocol findings, most severe first, at most 100.

    Experimental rules never change a verdict, so they are shown as info after the stable ones.
    """

    def key(f: Mapping[str, Any]) -> tuple[int, int, str, int, str]:
        experimental = f.get("status") == "experimental"
        rank = _SEVERITY_RANK.get(str(f.get("severity")), 2)
        return (
            int(experimental),
            -rank,
            str(f.get("path") or ""),
            _line(f.get("line")) or 0,
            str(f.get("rule_id")),
        )

    out: list[dict[str, Any]] = []
    for f in sorted(findings, key=key)[:MAX_FINDINGS]:
        experimental = f.get("status") == "experimental"
        message = str(f.get("message") or f.get("rule_id") or "finding")
        item: dict[str, Any] = {
            "ruleId": clip(f.get("rule_id") or "unknown"),
            "message": clip(("[experimental] " if experimental else "") + message),
            "severity": "info" if experimental else map_severity(str(f.get("severity"))),
        }
        path = f.get("path")
        if path:
            item["file"] = clip(prefix + str(path))
        line = _line(f.get("line"))
        if line is not None:
            item["line"] = line
        evidence = f.get("evidence")
        if evidence:
            item["evidence"] = clip(evidence)
        out.append(item)
    return out


def _line(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


def worst_decision(decisions: Sequence[str]) -> str:
    return max(decisions, key=lambda d: _DECISION_RANK.get(d, 2)) if decisions else "block"


def response(decision: str, reason: str | None, findings: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """Build the one object written on stdout. Unknown decisions fail closed."""
    if decision not in DECISIONS:
        reason = f"skillscan produced an unknown decision {clip(decision, 50)!r}; blocking"
        decision = "block"
    out: dict[str, Any] = {"protocolVersion": PROTOCOL_VERSION, "decision": decision}
    if reason or decision != "allow":
        out["reason"] = clip(reason or f"skillscan decided {decision}")
    if findings:
        out["findings"] = [dict(f) for f in findings[:MAX_FINDINGS]]
    return out


def block(reason: str) -> dict[str, Any]:
    return response("block", reason)


def encode(obj: Mapping[str, Any]) -> bytes:
    return (gate_json.dumps_compact(obj) + "\n").encode("utf-8")
