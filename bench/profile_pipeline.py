"""Worker CPU per version, in one process: what a sweep's pool process spends besides Semgrep.

    .venv/bin/python bench/profile_pipeline.py [--corpus ../shared/corpus] [--limit 400]
                                               [--batch-size 50] [--rounds 2] [--profile N [--sort tottime]]

Serves the corpus from the fake ClawHub in a separate process (its CPU is not counted), builds the
worker's own context (`worker.context.WorkerContext`: store, scanner, registry client) on a fresh
SQLite store and scans `--limit` versions in batches through `Pipeline.scan_targets`, forced and
within a sweep, as a nightly sweep's tasks do. After one warm-up batch it prints CPU ms per
version: this process (all threads) and its children (Semgrep); the main thread's CPU per pipeline
phase (unpack, update diffs, store writes); and the download threads' CPU (fetch and verify).
What remains of the process's CPU is the analyzers' threads. CPU time, unlike wall time, holds
steady on a busy machine. `--profile N` lists the top N functions of the main thread (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from skillscan.config import Settings
from skillscan.crawl import chunks, list_page
from skillscan.pipeline import Target
from worker.celery_app import worker_settings
from worker.context import WorkerContext

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_registry(corpus: Path, port: int) -> subprocess.Popen[bytes]:
    skillscan = str(Path(sys.executable).with_name("skillscan"))
    proc = subprocess.Popen(
        [skillscan, "registry", "serve", "--seed", str(corpus), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/skills?limit=1", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("fake registry did not start")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="passes over the versions")
    parser.add_argument("--profile", type=int, default=0, help="list the top N functions (cProfile)")
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative, tottime, …")
    args = parser.parse_args()

    port = free_port()
    registry = serve_registry(args.corpus, port)
    work = Path(tempfile.mkdtemp(prefix="profile-pipeline-"))
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=f"sqlite:///{work / 'verdicts.db'}", registry_url=url, data_dir=work / "data"
    )
    ctx = WorkerContext(worker_settings(settings))
    try:
        pipeline = ctx.pipeline(url)
        targets: list[Target] = []
        cursor: str | None = None
        while len(targets) < args.limit + args.batch_size:
            page = list_page(pipeline.client, cursor, 100)
            targets += page.targets
            cursor = page.cursor
            if cursor is None:
                break
        warm, targets = targets[: args.batch_size], targets[args.batch_size : args.batch_size + args.limit]
        pipeline.scan_targets(warm, force=True)  # compiles rules, opens the store, starts threads
        batches = chunks(targets, args.batch_size)
        download_cpu = _count_download_cpu(pipeline)
        profiler = cProfile.Profile() if args.profile else None
        phases: dict[str, float] = {}
        clock_lap = _record_laps(phases)
        cpu0, child0, main0, wall0 = time.process_time(), children_cpu(), time.thread_time(), time.monotonic()
        if profiler is not None:
            profiler.enable()
        for _ in range(args.rounds):
            sweep_id = ctx.store.start_sweep(url, ctx.ruleset)  # as a sweep's batches do, items included
            ctx.store.add_sweep_items(sweep_id, [t.key for t in targets])
            for batch in batches:
                pipeline.scan_targets(batch, force=True, sweep_id=sweep_id)
        if profiler is not None:
            profiler.disable()
        cpu = time.process_time() - cpu0
        child = children_cpu() - child0
        main_cpu = time.thread_time() - main0
        wall = time.monotonic() - wall0
        clock_lap.undo()
        n = len(targets) * args.rounds
        per = 1000 / max(1, n)
        print(
            f"{n} versions ({len(targets)} x {args.rounds} rounds, batches of {args.batch_size}) in {wall:.1f}s"
        )
        print(
            f"CPU ms/version: this process {cpu * per:.1f} (main thread {main_cpu * per:.1f}, other threads "
            f"{(cpu - main_cpu) * per:.1f}) + children (Semgrep) {child * per:.1f}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(
            "main thread CPU ms/version per phase: "
            + ", ".join(f"{k} {v * per:.1f}" for k, v in phases.items())
            + f"; download threads {download_cpu[0] * per:.1f}"
        )
        if profiler is not None:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats(args.sort).print_stats(args.profile)
            print(out.getvalue())
    finally:
        ctx.close()
        registry.terminate()
        registry.wait()


def _count_download_cpu(pipeline: Any) -> list[float]:
    """Thread CPU seconds spent in the registry client's downloads (they run on a thread pool)."""
    total = [0.0]
    download = pipeline.client.download

    def counted(*a: Any, **kw: Any) -> Any:
        started = time.thread_time()
        try:
            return download(*a, **kw)
        finally:
            total[0] += time.thread_time() - started

    pipeline.client.download = counted
    return total


class _record_laps:
    """Sum the main thread's CPU per pipeline phase (the pipeline's own phase clock) into `phases`."""

    def __init__(self, phases: dict[str, float]) -> None:
        from skillscan import pipeline

        self._cls = pipeline._Clock
        self._init, self._lap = self._cls.__init__, self._cls.lap
        cpu: dict[int, float] = {}  # per clock (one per batch): the thread CPU at its last lap
        original_init, original_lap = self._init, self._lap

        def init(clock: pipeline._Clock) -> None:
            original_init(clock)
            cpu[id(clock)] = time.thread_time()

        def lap(clock: pipeline._Clock, name: str) -> None:
            original_lap(clock, name)
            now = time.thread_time()
            phases[name] = phases.get(name, 0.0) + now - cpu.get(id(clock), now)
            cpu[id(clock)] = now

        self._cls.__init__ = init  # type: ignore[method-assign,assignment]
        self._cls.lap = lap  # type: ignore[method-assign,assignment]

    def undo(self) -> None:
        self._cls.__init__ = self._init  # type: ignore[method-assign]
        self._cls.lap = self._lap  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
