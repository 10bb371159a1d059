"""`skillscan gate`: OpenClaw's pre-install policy command (protocol v1, clawhub-api.md §4.3).

Reads one request on stdin, writes exactly one decision object on stdout and exits 0, whatever
happens: anything that prevents a real answer is a `block` with the reason. With a service
configured (SKILLSCAN_URL) the stored verdict for the staged bundle's fingerprint answers in
milliseconds; a new skill is scanned by the warm service; anything else falls back to a local scan.

The fast path is a fresh process per install, so this module imports only modules built into the
interpreter (`_thread`, not `threading`, whose imports cost ~3 ms); the scanner and the full
Settings load only when a local scan is needed.
"""

from __future__ import annotations

import _thread
import os
import sys
import time

from skillscan.service import gate_protocol as proto
from skillscan.service.gate_client import ServiceClient, ServiceError, stage_fingerprint, zip_staged

TYPE_CHECKING = False  # see gate_protocol: the fast path avoids importing typing
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import IO, Any

    from skillscan.models import ScanReport

    Log = Callable[[str], None]

_LOCAL_RESERVE_S = 4.0  # time kept back for a local scan after the service path
_MiB = 1024 * 1024
_TRUE = {"1", "true", "yes", "on"}


class GateConfig:
    """What the fast path needs, read from the same `SKILLSCAN_*` variables with the same defaults
    as `Settings` (a test keeps them in step): importing `skillscan.config` costs more than a lookup."""

    __slots__ = (
        "lookup_timeout_s",
        "max_bytes",
        "max_files",
        "service_budget_s",
        "service_token",
        "service_url",
        "submit",
        "timeout_s",
    )

    def __init__(self, env: Mapping[str, str]) -> None:
        self.service_url = env.get("SKILLSCAN_URL") or None
        self.service_token = env.get("SKILLSCAN_TOKEN") or None
        self.timeout_s = _num(env, "SKILLSCAN_GATE_TIMEOUT_S", 8.0)
        self.lookup_timeout_s = _num(env, "SKILLSCAN_GATE_LOOKUP_TIMEOUT_S", 1.0)
        raw_submit = env.get("SKILLSCAN_GATE_SUBMIT")
        self.submit = raw_submit.strip().lower() in _TRUE if raw_submit else True
        self.service_budget_s = _num(env, "SKILLSCAN_GATE_SERVICE_BUDGET_S", 4.0)
        self.max_files = int(_num(env, "SKILLSCAN_MAX_FILES", 5000))
        total = int(_num(env, "SKILLSCAN_MAX_TOTAL_BYTES", 50 * _MiB))
        self.max_bytes = min(total, int(_num(env, "SKILLSCAN_API_MAX_UPLOAD_BYTES", 50 * _MiB)))


def _num(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if not raw:
        return default
    try:
        return float(raw) if isinstance(default, float) else int(raw)
    except ValueError as e:
        raise ValueError(f"{key}: invalid value") from e


def _stderr_log(msg: str) -> None:
    sys.stderr.write(f"skillscan gate: {msg}\n")


def run_gate(
    raw: bytes, config: GateConfig, log: Log = _stderr_log, start: float | None = None
) -> dict[str, Any]:
    """The decision object for one request. Never raises."""
    start = time.monotonic() if start is None else start
    deadline = start + config.timeout_s
    try:
        request = proto.parse_request(raw)
    except proto.GateRequestError as e:
        return proto.block(str(e))
    try:
        return _decide(request, config, log, deadline)
    except Exception as e:  # the gate answers, whatever broke
        log(f"internal error: {e.__class__.__name__}: {e}")
        return proto.block(
            f"skillscan internal error ({e.__class__.__name__}: {proto.clip(e, 300)}); blocking"
        )


def _decide(request: proto.GateRequest, config: GateConfig, log: Log, deadline: float) -> dict[str, Any]:
    path = os.path.expanduser(request.source_path)
    problem = _path_problem(path, request.source_path_kind)
    if problem:
        return proto.block(problem)

    if config.service_url and os.path.isdir(path):
        answer = _ask_service(path, config, log, deadline)
        if answer is not None:
            return answer
    return _local(path, log, deadline)


def _path_problem(path: str, kind: str | None) -> str | None:
    shown = proto.clip(path, 300)
    try:
        is_dir = os.path.isdir(path)
        exists = is_dir or os.path.isfile(path)
    except (OSError, ValueError) as e:
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


def _ask_service(path: str, config: GateConfig, log: Log, deadline: float) -> dict[str, Any] | None:
    """A decision from the service, or None to fall back to a local scan."""
    try:
        staged = stage_fingerprint(path, config.max_files, config.max_bytes)
    except OSError as e:
        log(f"cannot fingerprint {path}: {e}; scanning locally")
        return None
    if staged is None:
        log("staged folder holds links or unpublished extras; scanning locally")
        return None
    try:
        client = ServiceClient(str(config.service_url), config.service_token)
        timeout = max(0.05, min(config.lookup_timeout_s, deadline - time.monotonic() - _LOCAL_RESERVE_S))
        hit = client.verdict(staged.fingerprint, timeout=timeout)
        if hit is not None:
            log(f"stored verdict for {staged.fingerprint[:12]}: {hit.get('verdict')}")
            return _from_service(hit, hit.get("findings") or [], "stored verdict")
        if not config.submit:
            return None
        budget = min(config.service_budget_s, deadline - time.monotonic() - _LOCAL_RESERVE_S)
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


def _local(path: str, log: Log, deadline: float) -> dict[str, Any]:
    from dataclasses import replace

    from skillscan.config import Settings
    from skillscan.errors import SkillscanError
    from skillscan.scan import Scanner

    settings = Settings.from_env()

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


def _from_reports(root: str, reports: Sequence[ScanReport]) -> dict[str, Any]:
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
            name = r.skill.slug or r.skill.name or (prefix.rstrip("/") or os.path.basename(r.source))
            reasons.append(f"{name}: {r.verdict}" + (f" — {r.reason}" if r.reason else ""))
    reason = "skillscan: " + "; ".join(reasons)
    return proto.response(decision, reason, proto.protocol_findings(findings))


def _prefix(root: str, source: str) -> str:
    rel = os.path.relpath(os.path.realpath(source), os.path.realpath(root)).replace(os.sep, "/")
    return "" if rel in ("", ".") or rel.startswith("..") else rel + "/"


class _OneAnswer:
    """Writes exactly one JSON object to the real stdout, from the main thread or the watchdog."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._lock = _thread.allocate_lock()
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
    try:
        os.dup2(2, 1)
    except OSError:  # no stderr: send stray output nowhere rather than into the answer
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    if sys.stderr is None:  # started without fd 2
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr
    try:
        config = GateConfig(os.environ)
    except ValueError as e:
        answer.write(proto.block(f"skillscan configuration error: {proto.clip(e, 300)}"))
        os._exit(0)

    def too_late(seconds: float) -> None:
        time.sleep(seconds)
        answer.write(proto.block(f"skillscan did not finish within {config.timeout_s:g} s; blocking"))
        os._exit(0)

    # The watchdog is never cancelled: the process ends with os._exit once the answer is out.
    _thread.start_new_thread(too_late, (max(0.1, config.timeout_s - (time.monotonic() - start)),))
    try:
        raw = sys.stdin.buffer.read(proto.MAX_REQUEST_BYTES + 1)
    except OSError as e:
        raw = b""
        _stderr_log(f"cannot read stdin: {e}")
    answer.write(run_gate(raw, config, start=start))
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown (analyzer threads, atexit hooks): the answer is out


if __name__ == "__main__":
    main()
