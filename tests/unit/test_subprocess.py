"""The one place that spawns tools: explicit environment, closed stdin, killed as a group."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from skillscan._subprocess import ToolFailed, ToolTimeout, run_tool

PY = sys.executable


def test_runs_with_explicit_env_and_closed_stdin(tmp_path: Path) -> None:
    os.environ["SKILLSCAN_TEST_LEAK"] = "secret"
    try:
        script = "import os,sys; print(os.getcwd()); print(os.environ.get('SKILLSCAN_TEST_LEAK')); print(repr(sys.stdin.read()))"
        result = run_tool([PY, "-c", script], cwd=tmp_path, env={"ONLY": "1"}, timeout_s=30)
    finally:
        del os.environ["SKILLSCAN_TEST_LEAK"]
    cwd, leak, stdin = result.stdout.decode().splitlines()
    assert Path(cwd) == tmp_path and leak == "None" and stdin == "''"
    assert result.returncode == 0


def test_nonzero_exit_is_a_result_not_an_error(tmp_path: Path) -> None:
    result = run_tool(
        [PY, "-c", "import sys; sys.stderr.write('bad'); sys.exit(3)"], cwd=tmp_path, env={}, timeout_s=30
    )
    assert result.returncode == 3 and result.stderr == b"bad"


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    # The tool starts a grandchild that would outlive it, then hangs.
    script = (
        "import subprocess,sys,time;"
        f"p=subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)']);"
        f"open({str(pidfile)!r},'w').write(str(p.pid));"
        "time.sleep(60)"
    )
    start = time.monotonic()
    with pytest.raises(ToolTimeout, match="wall-clock"):
        run_tool([PY, "-c", script], cwd=tmp_path, env={}, timeout_s=1.5)
    assert time.monotonic() - start < 10
    grandchild = int(pidfile.read_text())
    for _ in range(50):
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("grandchild survived the timeout")


def test_missing_tool_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ToolFailed, match="cannot start"):
        run_tool([str(tmp_path / "no-such-tool")], cwd=tmp_path, env={}, timeout_s=5)


def test_output_is_bounded(tmp_path: Path) -> None:
    with pytest.raises(ToolFailed, match="exceeded"):
        run_tool(
            [PY, "-c", "import sys; sys.stdout.write('x' * 100000)"],
            cwd=tmp_path,
            env={},
            timeout_s=30,
            max_output_bytes=1000,
        )
