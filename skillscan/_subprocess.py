"""The only place that spawns a tool. Explicit argv, clean environment, own process group,
wall-clock timeout that kills the whole group, bounded output."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from skillscan.errors import AnalyzerError


class ToolTimeout(AnalyzerError):
    """The tool ran past its wall-clock limit and was killed with its process group."""


class ToolFailed(AnalyzerError):
    """The tool could not be started or died abnormally."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    returncode: int
    stdout: bytes
    stderr: bytes
    elapsed_s: float


def run_tool(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    max_output_bytes: int = 256 * 1024 * 1024,
) -> ToolResult:
    """Run `argv` to completion. Output goes to temp files so a chatty tool cannot block on a pipe."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        except OSError as e:
            raise ToolFailed(f"{argv[0]}: cannot start: {e.strerror or e}") from e
        try:
            returncode = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired as e:
            _kill_group(proc)
            raise ToolTimeout(f"{Path(argv[0]).name}: killed after {timeout_s:.0f} s wall-clock limit") from e
        finally:
            if proc.poll() is None:
                _kill_group(proc)
        _kill_group(proc)  # reap stragglers the tool left in its group
        out.seek(0)
        err.seek(0)
        stdout = out.read(max_output_bytes + 1)
        stderr = err.read(64 * 1024)
    if len(stdout) > max_output_bytes:
        raise ToolFailed(f"{Path(argv[0]).name}: output exceeded {max_output_bytes} bytes")
    return ToolResult(returncode, stdout, stderr, time.monotonic() - start)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
