"""Wall time of the pre-install gate as OpenClaw sees it (a fresh process per install).

    .venv/bin/python bench/bench_gate.py [--runs 30] [--cold-runs 5] [--new-runs 8] [--skill DIR]

Runs `skillscan gate` and `skillscan-gate` from two installs, interleaved:
- `editable`: this checkout's .venv (`pip install -e .`). The modules the gate's fast path loads are
  byte-compiled first, as any install leaves them (a shell with PYTHONDONTWRITEBYTECODE=1 would
  otherwise make every run compile them from source, ~9 ms). An .venv installed before
  pyproject.toml mapped `package-dir` has setuptools' import finder instead of a plain path entry:
  +15 ms on every Python start, the baseline line shows it;
- `regular`: the package as `pip install .` lays it out (byte-compiled in site-packages, the same
  console scripts): what OpenClaw runs. Built in a temporary venv that takes its dependencies from
  .venv through a plain path entry.
Cases: a cold local scan (no service), and via a warm `skillscan serve` a fingerprint the service
has seen before and a skill it has never seen. Targets (issue 11): warm p95 ≤ 50 ms seen before,
≤ 1.0 s new skill; cold ≤ 3 s.

Each line gives wall time, the gate process's own CPU time (user + sys, children included), how
often other processes took its core away (involuntary context switches) and the 1-minute load
average over the case: on this shared 2-core machine a wall p95 far above the CPU p95, with the
gate preempted, is time spent waiting for a core, not work the gate does. `other` counts answers
that did not come the expected way (stored verdict, service scan, local scan).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOKEN = "bench-token-0123456789abcdef"

SKILL_MD = """---
name: release-notes
description: Draft release notes from the git log of the current repository.
version: 1.{n}.0
---

# Release notes

Run `python3 {{baseDir}}/scripts/notes.py --since v1.{n}.0` and turn its output into release notes
grouped by feature, fix and chore. Variant {n}.
"""

NOTES_PY = '''"""Print commit subjects since a tag."""

import subprocess
import sys


def main() -> None:
    since = sys.argv[sys.argv.index("--since") + 1] if "--since" in sys.argv else "HEAD~20"
    out = subprocess.run(["git", "log", "--format=%s", f"{since}..HEAD"], capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        print("-", line)


if __name__ == "__main__":
    main()
'''


def make_skill(root: Path, n: int) -> Path:
    (root / "scripts").mkdir(parents=True, exist_ok=True)
    (root / "SKILL.md").write_text(SKILL_MD.format(n=n))
    (root / "scripts" / "notes.py").write_text(NOTES_PY + f"\n# build {n}\n")
    return root


def request(path: Path) -> bytes:
    return json.dumps(
        {
            "protocolVersion": 1,
            "targetType": "skill",
            "targetName": path.name,
            "sourcePath": str(path),
            "sourcePathKind": "directory",
            "origin": {
                "type": "clawhub",
                "registry": "https://clawhub.ai",
                "slug": path.name,
                "version": "1.0.0",
            },
            "request": {"kind": "skill-install", "mode": "install"},
        }
    ).encode()


@dataclass
class Runs:
    wall: list[float] = field(default_factory=list)  # seconds
    cpu: list[float] = field(default_factory=list)  # seconds of the gate process and its children
    preempted: list[int] = field(default_factory=list)  # involuntary context switches of the same
    load: list[float] = field(default_factory=list)
    answers: list[dict[str, object]] = field(default_factory=list)


def timed(cmd: Sequence[str], stdin: bytes, env: dict[str, str] | None, runs: Runs) -> bytes:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env, timeout=60, check=False)
    runs.wall.append(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    runs.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    runs.preempted.append(after.ru_nivcsw - before.ru_nivcsw)
    runs.load.append(os.getloadavg()[0])
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return proc.stdout


def gate(cmd: Sequence[str], path: Path, env: dict[str, str], runs: Runs) -> None:
    runs.answers.append(json.loads(timed(cmd, request(path), env, runs)))


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, runs: Runs, target: float | None = None, via: str | None = None) -> None:
    ms = [w * 1000 for w in runs.wall]
    cpu = [c * 1000 for c in runs.cpu]
    line = (
        f"{name:<40} n={len(ms):<3} wall p50={statistics.median(ms):7.1f} p95={pct(ms, 0.95):7.1f} "
        f"max={max(ms):7.1f} ms | cpu p50={statistics.median(cpu):6.1f} p95={pct(cpu, 0.95):6.1f} ms | "
        f"preempted p50={statistics.median(runs.preempted):.0f} p95={pct(runs.preempted, 0.95):.0f} | "
        f"load {min(runs.load):.1f}-{max(runs.load):.1f}"
    )
    if target is not None:
        line += (
            f" | target p95<={target * 1000:.0f} ms {'OK  ' if pct(ms, 0.95) <= target * 1000 else 'MISS'}"
        )
    if via is not None:
        decisions = ",".join(sorted({str(a.get("decision")) for a in runs.answers}))
        other = sum(not str(a.get("reason", "")).startswith(via) for a in runs.answers)
        line += f" | {decisions} via {via[:28]!r}, other: {other}"
    print(line, flush=True)


def interleaved(
    commands: Sequence[tuple[str, list[str]]],
    runs: int,
    skill_for: Callable[[int], Path],
    env: dict[str, str],
    case: str,
    target: float,
    via: str,
) -> None:
    """Run the commands in turn, so a burst of load from elsewhere hits them alike."""
    results = {label: Runs() for label, _ in commands}
    for i in range(runs):
        for label, cmd in commands:
            gate(cmd, skill_for(i), env, results[label])
    for label, _ in commands:
        summary(f"{case} ({label})", results[label], target, via)


def compile_fast_path() -> int:
    """Byte-compile the checkout's modules that a bare `skillscan gate` loads; returns how many."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import skillscan.cli, skillscan.service.gate\n"
        "print('\\n'.join(m.__file__ for m in list(sys.modules.values())"
        " if (getattr(m, '__file__', None) or '').startswith(sys.argv[1])))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code, str(REPO)], capture_output=True, text=True, check=True
    )
    files = out.stdout.split()
    for path in files:
        py_compile.compile(path, doraise=True)
    return len(files)


def regular_install(root: Path) -> Path:
    """A venv holding the package as a regular `pip install .` leaves it; returns its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    site = root / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    shutil.copytree(REPO / "skillscan", site / "skillscan", ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(site / "skillscan", quiet=1)
    # the dependencies, as a plain path entry: .pth files there (the editable finder) are not run
    (site / "bench-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    for name in ("skillscan", "skillscan-gate"):  # pip's own console scripts, pointed at this venv
        body = (BIN / name).read_text().split("\n", 1)[1]
        script = root / "bin" / name
        script.write_text(f"#!{root / 'bin' / 'python'}\n{body}")
        script.chmod(0o755)
    return root / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def baseline(label: str, python: Path, runs: int) -> None:
    """What any fresh Python process of that install costs right now: the floor under its gate runs."""
    result = Runs()
    for _ in range(runs):
        timed([str(python), "-c", "pass"], b"", None, result)
    summary(f"baseline: python -c pass ({label})", result)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=30, help="seen-before runs")
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--new-runs", type=int, default=8)
    ap.add_argument("--skill", type=Path, help="a skill folder to use for cold and seen-before runs")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLSCAN_")}
    base_env["SKILLSCAN_DATA_DIR"] = str(tmp / "data")
    # The regular install has neither the rule folders nor a semgrep beside its python: both
    # installs scan with the checkout's rules and .venv's semgrep.
    base_env["SKILLSCAN_YARA_RULES_DIR"] = str(REPO / "yara_rules")
    base_env["SKILLSCAN_SEMGREP_RULES_DIR"] = str(REPO / "semgrep_rules")
    base_env["PATH"] = os.pathsep.join([str(BIN), base_env.get("PATH", "")])
    print(f"byte-compiled {compile_fast_path()} fast-path modules of the checkout", flush=True)
    regular = regular_install(tmp / "regular")
    commands = (
        ("editable, skillscan gate", [str(BIN / "skillscan"), "gate"]),
        ("editable, skillscan-gate", [str(BIN / "skillscan-gate")]),
        ("regular, skillscan gate", [str(regular / "skillscan"), "gate"]),
        ("regular, skillscan-gate", [str(regular / "skillscan-gate")]),
    )
    skill = args.skill.resolve() if args.skill else make_skill(tmp / "release-notes", 0)
    server = None
    try:
        baseline("editable", BIN / "python", args.runs)
        baseline("regular", regular / "python", args.runs)
        interleaved(
            commands, args.cold_runs, lambda _: skill, base_env, "cold local scan", 3.0, "skillscan: "
        )

        port = free_port()
        server_env = {
            **base_env,
            "SKILLSCAN_API_TOKENS": TOKEN,
            "SKILLSCAN_DATABASE_URL": f"sqlite:///{tmp / 'service.db'}",
            # hundreds of lookups in seconds from one token: past the default rate they would get
            # 429 and fall back to local scans
            "SKILLSCAN_API_RATE_PER_MINUTE": "1000000",
        }
        server = subprocess.Popen(
            [str(BIN / "skillscan"), "serve", "--port", str(port)],
            env=server_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("skillscan serve did not start") from None
                time.sleep(0.1)
        warm_env = {**base_env, "SKILLSCAN_URL": url, "SKILLSCAN_TOKEN": TOKEN}
        # warm the service's scanner with one skill, store the benchmark skill's verdict, and run
        # each command once so that every file they read is in the page cache
        gate(commands[0][1], make_skill(tmp / "warmup", 999), warm_env, Runs())
        for _, cmd in commands:
            gate(cmd, skill, warm_env, Runs())

        stored = "skillscan service (stored verdict)"
        interleaved(commands, args.runs, lambda _: skill, warm_env, "warm, seen before", 0.05, stored)
        fresh = iter(range(1, 1 + args.new_runs * len(commands)))

        def new_skill(_: int) -> Path:
            n = next(fresh)
            return make_skill(tmp / f"new-{n}", n)

        scanned = "skillscan service (service scan"
        interleaved(commands, args.new_runs, new_skill, warm_env, "warm, new skill", 1.0, scanned)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
