"""Wall time of the pre-install gate as OpenClaw sees it (a fresh process per install).

    .venv/bin/python bench/bench_gate.py [--runs 30] [--cold-runs 5] [--new-runs 8] [--skill DIR]

Measures, for both `skillscan gate` and `skillscan-gate` (the installed console scripts): a cold
local scan (no service), and via a warm `skillscan serve` both a fingerprint the service has seen
before and a skill it has never seen. Targets (issue 11): warm p95 ≤ 50 ms seen
before, ≤ 1.0 s new skill; cold ≤ 3 s. Prints one line per case.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
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


def gate(cmd: list[str], path: Path, env: dict[str, str]) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, input=request(path), capture_output=True, env=env, timeout=60, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"gate exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed, json.loads(proc.stdout)


def summary(name: str, times: list[float], target: float, answers: list[dict[str, object]]) -> None:
    times_ms = sorted(t * 1000 for t in times)
    p50 = statistics.median(times_ms)
    p95 = times_ms[min(len(times_ms) - 1, round(0.95 * (len(times_ms) - 1)))]
    decisions = sorted({str(a.get("decision")) for a in answers})
    ok = "OK " if p95 <= target * 1000 else "MISS"
    reasons = sorted({str(a.get("reason", ""))[:38] for a in answers})
    print(
        f"{name:<38} n={len(times):<3} p50={p50:8.1f} ms  p95={p95:8.1f} ms  max={times_ms[-1]:8.1f} ms"
        f"  target p95<={target * 1000:.0f} ms {ok}  decisions={','.join(decisions)}  via={reasons[0]!r}"
        f"  load {os.getloadavg()[0]:.1f}"
    )


def interleaved(
    commands: Sequence[tuple[str, list[str]]],
    runs: int,
    skill_for: Callable[[int], Path],
    env: dict[str, str],
    case: str,
    target: float,
) -> None:
    """Run the commands in turn, so a burst of load from elsewhere hits them alike."""
    times: dict[str, list[float]] = {label: [] for label, _ in commands}
    answers: dict[str, list[dict[str, object]]] = {label: [] for label, _ in commands}
    for i in range(runs):
        for label, cmd in commands:
            t, a = gate(cmd, skill_for(i), env)
            times[label].append(t)
            answers[label].append(a)
    for label, _ in commands:
        summary(f"{case} ({label})", times[label], target, answers[label])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    # Both console scripts as pip installs them: what OpenClaw runs, wrapper included.
    typer_cmd = [str(BIN / "skillscan"), "gate"]
    lean_cmd = [str(BIN / "skillscan-gate")]
    commands = (("skillscan gate", typer_cmd), ("skillscan-gate", lean_cmd))
    skill = args.skill.resolve() if args.skill else make_skill(tmp / "release-notes", 0)
    server = None
    try:
        # What any fresh Python process costs on this machine right now: the floor under every gate run.
        base = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            base.append(time.perf_counter() - start)
        base_ms = sorted(b * 1000 for b in base)
        print(
            f"{'baseline: python -c pass':<38} n={len(base):<3} p50={statistics.median(base_ms):8.1f} ms  "
            f"p95={base_ms[round(0.95 * (len(base_ms) - 1))]:8.1f} ms  (load average {os.getloadavg()[0]:.1f})"
        )
        interleaved(commands, args.cold_runs, lambda _: skill, base_env, "cold local scan", 3.0)

        port = free_port()
        server_env = {
            **base_env,
            "SKILLSCAN_API_TOKENS": TOKEN,
            "SKILLSCAN_DATABASE_URL": f"sqlite:///{tmp / 'service.db'}",
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
        # warm the service's scanner with one skill, then store the benchmark skill's verdict
        gate(typer_cmd, make_skill(tmp / "warmup", 999), warm_env)
        gate(typer_cmd, skill, warm_env)

        interleaved(commands, args.runs, lambda _: skill, warm_env, "warm, seen before", 0.05)
        fresh = iter(range(1, 1 + args.new_runs * len(commands)))

        def new_skill(_: int) -> Path:
            n = next(fresh)
            return make_skill(tmp / f"new-{n}", n)

        interleaved(commands, args.new_runs, new_skill, warm_env, "warm, new skill", 1.0)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
