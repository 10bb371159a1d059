"""Scan speed: cold `skillscan scan` on one skill, Semgrep's fixed cost per call, and skills/second
over a whole corpus in one call.

Usage: .venv/bin/python bench/bench_scan.py [--skill DIR] [--corpus DIR] [--runs N] [--limit N]
                                             [--skip-corpus]
Prints numbers; asserts nothing (targets live in the issue tracker, numbers in closing notes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
# A typical skill: SKILL.md with code blocks, a Python script, _meta.json (every engine runs).
DEFAULT_SKILL = DEFAULT_CORPUS / "benign" / "malskills__jacky1n7_openclaw-tavily-search"
FALLBACK_SKILL = REPO / "corpus" / "benign" / "api-curl-json"
SKILLSCAN = [sys.executable, "-m", "skillscan"]


def cold_runs(skill: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(
            [*SKILLSCAN, "scan", "--format", "jsonl", str(skill)], capture_output=True, check=False
        )
        times.append(time.perf_counter() - start)
        if proc.returncode == 2:
            raise SystemExit(f"skillscan failed: {proc.stderr.decode()[-500:]}")
    return times


def semgrep_fixed_cost(runs: int) -> None:
    """One tiny Python file per call: what a call costs before any real work, per front end."""
    from skillscan.analyzers.semgrep import SemgrepAnalyzer
    from skillscan.bundle import load_folder
    from skillscan.config import Limits, Settings

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "tiny"
        folder.mkdir()
        (folder / "SKILL.md").write_text("---\nname: tiny\ndescription: d\n---\n# tiny\n")
        # A shell call: the rules' prefilter sends it to semgrep (a file without one never starts it).
        (folder / "run.py").write_text('import subprocess\nsubprocess.run(["ls"])\n')
        skill = load_folder(folder, Limits())
        for native in (True, False):
            analyzer = SemgrepAnalyzer(replace(Settings(), semgrep_native=native))
            walls, cpus = [], []
            for _ in range(runs):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                analyzer.analyze_batch([skill])
                walls.append(time.perf_counter() - start)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            label = "native CLI" if native else "python CLI"
            print(
                f"semgrep fixed cost ({label}): median {statistics.median(walls):.2f} s wall, "
                f"{statistics.median(cpus):.2f} s CPU over {runs} calls"
            )


def corpus_throughput(folders: list[Path]) -> tuple[int, float, dict[str, int], dict[str, float], float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [*SKILLSCAN, "scan", "--format", "jsonl", *map(str, folders)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # largest process so far
    if proc.returncode == 2:
        raise SystemExit(f"skillscan failed: {proc.stderr[-500:]}")
    verdicts: dict[str, int] = {}
    engine_s: dict[str, float] = {}
    seen_batches: set[tuple[tuple[str, float], ...]] = set()
    lines = proc.stdout.splitlines()
    for line in lines:
        report = json.loads(line)
        verdicts[report["verdict"]] = verdicts.get(report["verdict"], 0) + 1
        batch = tuple(sorted(report["timings"].items()))
        if batch not in seen_batches:  # every report of a batch carries the batch's timings
            seen_batches.add(batch)
            for engine, seconds in batch:
                engine_s[engine] = engine_s.get(engine, 0.0) + seconds
    return len(lines), elapsed, verdicts, engine_s, peak_mb


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--skill", type=Path, default=DEFAULT_SKILL)
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--limit", type=int, default=0, help="scan only the first N corpus skills (0 = all)")
    p.add_argument("--skip-corpus", action="store_true")
    args = p.parse_args()
    os.chdir(REPO)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    skill = args.skill if args.skill.is_dir() else FALLBACK_SKILL
    times = cold_runs(skill, args.runs)
    print(
        f"cold `skillscan scan` of {skill.name}: median {statistics.median(times):.2f} s, "
        f"min {min(times):.2f} s, max {max(times):.2f} s over {len(times)} processes"
    )
    semgrep_fixed_cost(args.runs)

    if args.skip_corpus:
        return
    if not (args.corpus / "MANIFEST.tsv").is_file():
        print(f"corpus {args.corpus} not found: throughput benchmark skipped")
        return
    folders = sorted(
        p for label in ("benign", "malicious") for p in (args.corpus / label).iterdir() if p.is_dir()
    )
    if args.limit:
        folders = folders[: args.limit]
    n, elapsed, verdicts, engine_s, peak_mb = corpus_throughput(folders)
    print(
        f"one `skillscan scan` call over {n} skills: {elapsed:.1f} s, {n / elapsed:.1f} skills/s, "
        f"peak RSS {peak_mb:.0f} MB; verdicts {verdicts}"
    )
    print(
        "engine time summed over batches (engines run concurrently): "
        + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(engine_s.items(), key=lambda kv: -kv[1]))
    )


if __name__ == "__main__":
    main()
