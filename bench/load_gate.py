"""Gate latency under load: concurrent installs ask the service while a registry sweep runs.

    .venv/bin/python bench/load_gate.py [--seconds 60] [--clients 4] [--skills 150] [--new-share 0.2]

Starts a fake ClawHub seeded from ../shared/corpus (the first --skills skill folders), Redis DB 3
as the broker, one Celery worker on the `gate` queue and one on `sweep,post`, and `skillscan serve`
sending API scans to the gate queue. Then it enqueues a sweep and, while the sweep runs, --clients
threads run `skillscan-gate` processes the way OpenClaw does: mostly skills the service has seen,
some never seen. Prints gate p50/p95 per kind, errors (any answer that is not a service verdict or
a crash), and how far the sweep got — the sweep must not starve the gate queue.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CORPUS = REPO.parent / "shared" / "corpus"
TOKEN = "load-token-0123456789abcdef"
BROKER = "redis://127.0.0.1:6379/3"

sys.path.insert(0, str(REPO))
from bench.bench_gate import make_skill, request  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pick_seeds(limit: int) -> list[Path]:
    """`limit` corpus skill folders, a fixed sample of benign and malicious (read only; nothing runs)."""
    folders = sorted(p for kind in ("benign", "malicious") for p in (CORPUS / kind).iterdir() if p.is_dir())
    random.Random(7).shuffle(folders)
    return folders[:limit]


def wait_http(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"{what} did not start") from None
            time.sleep(0.2)


def percentiles(values: list[float]) -> str:
    if not values:
        return "n=0"
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"n={len(ms):<4} p50={statistics.median(ms):8.1f} ms  p95={p95:8.1f} ms  max={ms[-1]:8.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--skills", type=int, default=150, help="corpus skills seeded into the fake registry")
    ap.add_argument("--seen", type=int, default=10, help="distinct seen-before skills")
    ap.add_argument("--new-share", type=float, default=0.2)
    args = ap.parse_args()
    if not (CORPUS / "MANIFEST.tsv").is_file():
        raise SystemExit(f"corpus not found at {CORPUS}")

    import redis

    from skillscan.registry.fake import FakeServer
    from skillscan.store import VerdictStore

    redis.Redis.from_url(BROKER).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="load-gate-"))
    procs: list[subprocess.Popen[bytes]] = []
    registry = FakeServer.seeded(pick_seeds(args.skills)).start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLSCAN_")}
    env.update(
        SKILLSCAN_DATA_DIR=str(tmp / "data"),
        SKILLSCAN_DATABASE_URL=f"sqlite:///{tmp / 'verdicts.db'}",
        SKILLSCAN_BROKER_URL=BROKER,
        SKILLSCAN_REGISTRY_URL=registry.url,
        SKILLSCAN_API_TOKENS=TOKEN,
        SKILLSCAN_POLL_INTERVAL_S="0",
    )
    logs = tmp / "logs"
    logs.mkdir()

    def spawn(name: str, *argv: str) -> subprocess.Popen[bytes]:
        out = (logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [str(BIN / "skillscan"), *argv], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        procs.append(proc)
        return proc

    try:
        api = spawn("api", "serve", "--port", str(port))
        spawn("gate-worker", "worker", "-Q", "gate", "-c", "1", "-l", "WARNING")
        spawn("sweep-worker", "worker", "-Q", "sweep,post", "-c", "1", "-l", "WARNING")
        wait_http(url + "/healthz", api, "skillscan serve")
        gate_env = {**env, "SKILLSCAN_URL": url, "SKILLSCAN_TOKEN": TOKEN}
        gate_env.pop("SKILLSCAN_BROKER_URL")
        gate_cmd = [str(BIN / "skillscan-gate")]

        def run_gate(path: Path) -> tuple[float, str, str]:
            start = time.perf_counter()
            proc = subprocess.run(
                gate_cmd, input=request(path), capture_output=True, env=gate_env, timeout=30
            )
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                return elapsed, "error", f"exit {proc.returncode}"
            try:
                answer = json.loads(proc.stdout)
            except ValueError:
                return elapsed, "error", "invalid JSON"
            reason = str(answer.get("reason", ""))
            via = (
                "stored"
                if "(stored verdict)" in reason
                else "service"
                if "service scan" in reason
                else "local"
            )
            why = next((ln for ln in proc.stderr.decode().splitlines() if "scanning locally" in ln), "")
            return elapsed, via, why.removeprefix("skillscan gate: ")[:120] or str(answer.get("decision"))

        seen = [make_skill(tmp / "seen" / f"s{i}", 100 + i) for i in range(args.seen)]
        for path in seen:  # the service scans each once (on the gate queue, before the sweep starts)
            run_gate(path)
        subprocess.run([str(BIN / "skillscan"), "sweep"], env=env, check=True, capture_output=True)
        store = VerdictStore(env["SKILLSCAN_DATABASE_URL"])
        sweep_id = store.latest_sweep_id()
        before = store.count_scans()

        results: dict[str, list[float]] = {"seen": [], "new": []}
        vias: dict[str, dict[str, int]] = {"seen": {}, "new": {}}
        errors: list[str] = []  # no answer or no valid JSON: OpenClaw would fail closed
        fallbacks: list[str] = []  # answered by a local scan: the service did not answer in time
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds
        counter = iter(range(10**6))

        def client(n: int) -> None:
            rng = random.Random(n)
            while time.monotonic() < stop_at:
                kind = "new" if rng.random() < args.new_share else "seen"
                if kind == "new":
                    with lock:
                        i = next(counter)
                    path = make_skill(tmp / "new" / f"c{n}-{i}", 1000 + i)
                else:
                    path = rng.choice(seen)
                elapsed, via, detail = run_gate(path)
                with lock:
                    results[kind].append(elapsed)
                    vias[kind][via] = vias[kind].get(via, 0) + 1
                    if via == "error":
                        errors.append(f"{kind}: {detail}")
                    elif via == "local":
                        fallbacks.append(f"{kind}: {detail}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        progress = store.sweep_progress(sweep_id) if sweep_id else None
        swept = store.count_scans() - before

        print(
            f"load: {args.clients} concurrent gate clients for {args.seconds:.0f} s while sweeping {args.skills} skills"
        )
        print(f"gate, seen before   {percentiles(results['seen'])}  via={vias['seen']}")
        print(f"gate, new skill     {percentiles(results['new'])}  via={vias['new']}")
        print(f"errors              {len(errors)}" + (f"  e.g. {errors[:3]}" if errors else ""))
        examples = sorted(set(fallbacks))[:3]
        print(f"local fallbacks     {len(fallbacks)}" + (f"  e.g. {examples}" if fallbacks else ""))
        if progress is not None:
            print(
                f"sweep {sweep_id}: {progress.done}/{progress.total} versions done "
                f"({progress.scanned} scanned, {progress.failed} failed) during the run; {swept} scans stored"
            )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        registry.stop()
        redis.Redis.from_url(BROKER).flushdb()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
