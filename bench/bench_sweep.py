"""Sweep throughput and worker memory: the corpus in the fake ClawHub, swept by real worker processes.

    .venv/bin/python bench/bench_sweep.py [--corpus ../shared/corpus] [--concurrency 2] [--sweeps 3]

Seeds the fake registry (real HTTP on loopback) from the corpus, starts `skillscan worker` with
N pool processes on Redis DB 2 and a fresh SQLite store, then runs forced sweeps (every version
downloaded, verified, scanned and stored each time) and prints, per sweep, versions/second end to
end, the CPU time each version cost (worker tree incl. Semgrep, and the fake registry), and for the
pool processes the peak RSS and the RSS after the first and the last sweep.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

from skillscan.config import Settings
from skillscan.registry.fake import FakeServer
from skillscan.rules import ruleset_digest
from skillscan.store import VerdictStore
from worker.celery_app import create_app

REPO = Path(__file__).resolve().parent.parent
BROKER = "redis://127.0.0.1:6379/2"


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM in kB from /proc (0 when the process is gone)."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def cpu_s(pid: int, *, reaped: bool = True) -> float:
    """CPU seconds of a process (utime + stime), plus its reaped children's with `reaped` (0 when gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(v) for v in fields[11 : 15 if reaped else 13])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def worker_cpu(root: int) -> tuple[float, float, float]:
    """CPU seconds of the worker tree, of the main process alone, of the pool processes alone (the
    rest is Semgrep and other children; a dead pool process's time moves into the main process's
    reaped-children time, so the total stays monotonic)."""
    pool = children(root)
    total = cpu_s(root) + sum(cpu_s(pid) for pid in pool)
    return total, cpu_s(root, reaped=False), sum(cpu_s(pid, reaped=False) for pid in pool)


def children(pid: int) -> list[int]:
    """Child process ids, from each thread's `children` list (a walk of all of /proc every half
    second cost this script more CPU than the fake registry's serving)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class Sampler(threading.Thread):
    """Peak RSS per pool process and of the whole worker tree (pool + semgrep children)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_tree_kb = 0
        self.peak_proc_kb: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            pool = children(self.root)
            tree = proc_status(self.root).get("VmRSS", 0)
            for pid in pool:
                status = proc_status(pid)
                self.peak_proc_kb[pid] = max(self.peak_proc_kb.get(pid, 0), status.get("VmHWM", 0))
                tree += status.get("VmRSS", 0) + sum(proc_status(c).get("VmRSS", 0) for c in children(pid))
            self.peak_tree_kb = max(self.peak_tree_kb, tree)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--sweeps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=1800.0, help="per sweep")
    parser.add_argument(
        "--loglevel", default="WARNING", help="worker log level (INFO logs batch phase times)"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    db_url = f"sqlite:///{work / 'verdicts.db'}"
    redis.Redis.from_url(BROKER).flushdb()
    with FakeServer.seeded([args.corpus]) as registry:
        report = registry.seed_report
        assert report is not None
        print(
            f"fake registry {registry.url}: {report.skills} skills, {report.versions} versions, {report.files} files"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLSCAN_")}
        env.update(
            {
                "SKILLSCAN_BROKER_URL": BROKER,
                "SKILLSCAN_DATABASE_URL": db_url,
                "SKILLSCAN_REGISTRY_URL": registry.url,
                "SKILLSCAN_DATA_DIR": str(work / "data"),
                "SKILLSCAN_SWEEP_BATCH_SIZE": str(args.batch_size),
                "SKILLSCAN_SWEEP_PAGE_SIZE": "100",
            }
        )
        log = work / "worker.log"
        skillscan = str(Path(sys.executable).with_name("skillscan"))
        cmd = [skillscan, "worker", "-Q", "sweep", "-c", str(args.concurrency), "-l", args.loglevel]
        with log.open("wb") as handle:
            worker = subprocess.Popen(
                cmd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            # Readiness is logged at INFO; wait on the process list instead at WARNING.
            deadline = time.monotonic() + 120
            while len(children(worker.pid)) < args.concurrency and time.monotonic() < deadline:
                if worker.poll() is not None:
                    raise SystemExit(log.read_text(errors="replace")[-3000:])
                time.sleep(0.2)
            time.sleep(1.0)
            run_sweeps(args, registry.url, db_url, worker.pid)
        finally:
            os.killpg(worker.pid, 9)
            worker.wait()
    print(f"worker log: {log}")


def run_sweeps(args: argparse.Namespace, registry_url: str, db_url: str, worker_pid: int) -> None:
    settings = Settings(broker_url=BROKER, database_url=db_url, registry_url=registry_url)
    app = create_app(settings)
    store = VerdictStore(db_url)
    ruleset = ruleset_digest(settings)
    sampler = Sampler(worker_pid)
    sampler.start()
    after: list[dict[int, int]] = []
    rates: list[float] = []
    for n in range(1, args.sweeps + 1):
        sweep_id = store.start_sweep(registry_url, ruleset)
        started = time.monotonic()
        before = worker_cpu(worker_pid)
        here_before = time.process_time()
        app.send_task(
            "skillscan.nightly_sweep",
            kwargs={"registry": registry_url, "sweep_id": sweep_id, "force": True},
            queue="sweep",
        )
        while True:
            progress = store.sweep_progress(sweep_id)
            if progress is not None and progress.finished:
                break
            if time.monotonic() - started > args.timeout:
                raise SystemExit(f"sweep {n} did not finish within {args.timeout:.0f}s: {progress}")
            time.sleep(0.25)
        took = time.monotonic() - started
        after_cpu = worker_cpu(worker_pid)
        registry_cpu = time.process_time() - here_before
        rate = progress.done / took
        rates.append(rate)
        time.sleep(1.0)  # let pool processes settle before reading RSS
        rss = {pid: proc_status(pid).get("VmRSS", 0) for pid in children(worker_pid)}
        after.append(rss)
        print(
            f"sweep {n}: {progress.done} versions in {took:.1f}s = {rate:.1f} versions/s "
            f"(scanned {progress.scanned}, already stored {progress.unchanged}, outcomes {progress.outcomes}, "
            f"failed {progress.failed}); pool RSS MB: {sorted(round(v / 1024) for v in rss.values())}"
        )
        # CPU per version is steadier than wall time on a shared machine: it is what two cores divide.
        per = 1000 / max(1, progress.done)
        tree, main_cpu, pool_cpu = (a - b for a, b in zip(after_cpu, before, strict=True))
        print(
            f"  CPU ms/version: worker tree {tree * per:.1f} = pool processes {pool_cpu * per:.1f} "
            f"+ their children (Semgrep) {(tree - main_cpu - pool_cpu) * per:.1f} + main process "
            f"{main_cpu * per:.1f}; fake registry and this script {registry_cpu * per:.1f}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
    sampler.stop.set()
    sampler.join()
    peak = max(sampler.peak_proc_kb.values(), default=0)
    print(
        f"throughput: best {max(rates):.1f}, mean {sum(rates) / len(rates):.1f} versions/s "
        f"with {args.concurrency} worker processes, batch {args.batch_size}"
    )
    print(
        f"peak RSS per pool process: {peak / 1024:.0f} MB; peak worker tree incl. semgrep: "
        f"{sampler.peak_tree_kb / 1024:.0f} MB"
    )
    first, last = sum(after[0].values()), sum(after[-1].values())
    if first:
        drift = (last - first) / first * 100
        same = set(after[0]) == set(after[-1])
        print(
            f"pool RSS after sweep 1: {first / 1024:.0f} MB, after sweep {len(after)}: {last / 1024:.0f} MB "
            f"({drift:+.1f}%){'' if same else ' (pool processes were replaced in between)'}"
        )
    store.close()


if __name__ == "__main__":
    main()
