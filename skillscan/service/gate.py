"""`skillscan gate`: OpenClaw's pre-install policy command (protocol v1, clawhub-api.md §4.3).

Reads one request on stdin, writes exactly one decision object on stdout and exits 0, whatever
happens: anything that prevents a real answer is a `block` with the reason. With a service
configured (SKILLSCAN_URL) the stored verdict for the staged bundle's fingerprint answers in
milliseconds; a new skill is scanned by the warm service; anything else falls back to a local scan.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from skillscan.config import Settings
from skillscan.service import gate_protocol as proto
from skillscan.service.gate_client import ServiceClient, ServiceError, stage_fingerprint, zip_staged

if TYPE_CHECKING:
    from skillscan.models import ScanReport

Log = Callable[[str], None]
_LOCAL_RESERVE_S = 3.5  # time kept back for a local scan after the service path


def _stderr_log(msg: str) -> None:
    sys.stderr.write(f"skillscan gate: {msg}\n")


def run_gate(
    raw: bytes, settings: Settings, log: Log = _stderr_log, start: float | None = None
) -> dict[str, Any]:
    """The decision object for one request. Never raises."""
    start = time.monotonic() if start is None else start
    deadline = start + settings.gate_timeout_s
    try:
        request = proto.parse_request(raw)
    except proto.GateRequestError as e:
        return proto.block(str(e))
    try:
        return _decide(request, settings, log, deadline)
    except Exception as e:  # the gate answers, whatever broke
        log(f"internal error: {e.__class__.__name__}: {e}")
        return proto.block(
            f"skillscan internal error ({e.__class__.__name__}: {proto.clip(e, 300)}); blocking"
        )


def _decide(request: proto.GateRequest, settings: Settings, log: Log, deadline: float) -> dict[str, Any]:
    path = Path(request.source_path).expanduser()
    problem = _path_problem(path, request.source_path_kind)
    if problem:
        return proto.block(problem)

    if settings.service_url and path.is_dir():
        answer = _ask_service(path, settings, log, deadline)
        if answer is not None:
            return answer
    return _local(path, settings, log, deadline)


def _path_problem(path: Path, kind: str | None) -> str | None:
    shown = proto.clip(str(path), 300)
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.is_file()
    except OSError as e:
        return f"sourcePath {shown} cannot be read ({e.__class__.__name__})"
    if not exists:
        return f"sourcePath {shown} does not exist or is not a file or directory"
    if kind == "directory" and not is_dir:
        return f"sourcePath {shown} is not a directory although sourcePathKind is 'directory'"
    if kind == "file" and is_dir:
        return f"sourcePath {shown} is a directory although sourcePathKind is 'file'"
    if not os.access(path, os.R_OK | (os.X_OK if is_dir else 0)):
        return f"sourcePath {shown} is not readable"
    return None


def _ask_service(path: Path, settings: Settings, log: Log, deadline: float) -> dict[str, Any] | None:
    """A decision from the service, or None to fall back to a local scan."""
    limit = min(settings.limits.max_total_bytes, settings.api_max_upload_bytes)
    try:
        staged = stage_fingerprint(path, settings.limits.max_files, limit)
    except OSError as e:
        log(f"cannot fingerprint {path}: {e}; scanning locally")
        return None
    if staged is None:
        log("staged folder holds links or unpublished extras; scanning locally")
        return None
    try:
        client = ServiceClient(str(settings.service_url), settings.service_token)
        timeout = max(
            0.05, min(settings.gate_lookup_timeout_s, deadline - time.monotonic() - _LOCAL_RESERVE_S)
        )
        hit = client.verdict(staged.fingerprint, timeout=timeout)
        if hit is not None:
            log(f"stored verdict for {staged.fingerprint[:12]}: {hit.get('verdict')}")
            return _from_service(hit, hit.get("findings") or [], "stored verdict")
        if not settings.gate_submit:
            return None
        budget = min(settings.gate_service_budget_s, deadline - time.monotonic() - _LOCAL_RESERVE_S)
        if budget <= 0.2:
            return None
        until = time.monotonic() + budget
        job_id = client.submit_zip(zip_staged(staged), "staged-skill.zip", timeout=budget)
        job = client.wait_scan(job_id, until)
        report = job.get("report")
        findings = report.get("findings") if isinstance(report, dict) else None
        return _from_service(job, findings or [], f"service scan {job_id}")
    except ServiceError as e:
        log(f"service: {e}; scanning locally")
        return None


def _from_service(payload: Mapping[str, Any], findings: Sequence[Any], what: str) -> dict[str, Any]:
    decision = str(payload.get("decision") or "block")
    verdict = str(payload.get("verdict") or "unknown")
    report = payload.get("report")
    reason = str(payload.get("reason") or (report.get("reason") if isinstance(report, dict) else "") or "")
    text = f"skillscan service ({what}): {verdict}" + (f" — {reason}" if reason else "")
    good = [f for f in findings if isinstance(f, dict)]
    return proto.response(decision, text, proto.protocol_findings(good))


def _local(path: Path, settings: Settings, log: Log, deadline: float) -> dict[str, Any]:
    from skillscan.errors import SkillscanError
    from skillscan.scan import Scanner

    remaining = max(0.5, deadline - time.monotonic() - 0.5)
    limits = replace(
        settings.limits,
        analyzer_timeout_s=min(settings.limits.analyzer_timeout_s, remaining),
        semgrep_timeout_s=min(settings.limits.semgrep_timeout_s, remaining),
    )
    scanner = Scanner(replace(settings, limits=limits))
    try:
        reports = scanner.scan_paths([path])
    except SkillscanError as e:
        return proto.block(f"skillscan could not scan {proto.clip(path, 300)}: {proto.clip(e, 500)}")
    finally:
        close = getattr(scanner, "close", None)
        if callable(close):
            close()
    return _from_reports(path, reports)


def _from_reports(root: Path, reports: Sequence[ScanReport]) -> dict[str, Any]:
    if not reports:
        return proto.block(f"no skill found at {proto.clip(root, 300)}")
    decisions = [str(r.decision) for r in reports]
    decision = proto.worst_decision(decisions)
    findings: list[dict[str, Any]] = []
    reasons: list[str] = []
    for r in reports:
        prefix = _prefix(root, r.source) if len(reports) > 1 else ""
        findings += [dict(f.to_dict(), path=prefix + f.path) for f in r.findings]
        if str(r.decision) == decision:
            name = r.skill.slug or r.skill.name or (prefix.rstrip("/") or Path(r.source).name)
            reasons.append(f"{name}: {r.verdict}" + (f" — {r.reason}" if r.reason else ""))
    reason = "skillscan: " + "; ".join(reasons)
    return proto.response(decision, reason, proto.protocol_findings(findings))


def _prefix(root: Path, source: str) -> str:
    try:
        rel = Path(source).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return ""
    return "" if rel in ("", ".") else rel + "/"


class _OneAnswer:
    """Writes exactly one JSON object to the real stdout, from the main thread or the watchdog."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._lock = threading.Lock()
        self._done = False

    def write(self, obj: Mapping[str, Any]) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            self._out.write(proto.encode(obj))
            self._out.flush()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point (`skillscan gate`, `skillscan-gate`, `python -m skillscan.service.gate`). Exits 0."""
    start = time.monotonic()
    # Keep fd 1 for the answer alone: anything else (a library's print, a child process) goes to stderr.
    answer = _OneAnswer(os.fdopen(os.dup(1), "wb"))
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        settings = Settings.from_env()
    except Exception as e:
        answer.write(proto.block(f"skillscan configuration error: {proto.clip(e, 300)}"))
        os._exit(0)

    def too_late() -> None:
        answer.write(proto.block(f"skillscan did not finish within {settings.gate_timeout_s:g} s; blocking"))
        os._exit(0)

    watchdog = threading.Timer(max(0.1, settings.gate_timeout_s - (time.monotonic() - start)), too_late)
    watchdog.daemon = True
    watchdog.start()
    try:
        raw = sys.stdin.buffer.read(proto.MAX_REQUEST_BYTES + 1)
    except OSError as e:
        raw = b""
        _stderr_log(f"cannot read stdin: {e}")
    answer.write(run_gate(raw, settings, start=start))
    watchdog.cancel()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown (analyzer threads, atexit hooks): the answer is out


if __name__ == "__main__":
    main()
