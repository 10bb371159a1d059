"""Scan speed: cold `skillscan scan` on one skill, and skills/second over a whole corpus in one call.

Usage: .venv/bin/python bench/bench_scan.py [--skill DIR] [--corpus DIR] [--runs N] [--limit N]
Prints numbers; asserts nothing (targets live in the issue tracker, numbers in closing notes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
DEFAULT_SKILL = DEFAULT_CORPUS / "benign" / "openclaw-skills__ddevaal_kubectl"
SKILLSCAN = [sys.executable, "-m", "skillscan"]


def cold_runs(skill: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [*SKILLSCAN, "scan", "--format", "jsonl", str(skill)], capture_output=True, check=False
        )
        times.append(time.perf_counter() - start)
    return times


def corpus_throughput(folders: list[Path]) -> tuple[int, float, dict[str, int]]:
    start = time.perf_counter()
    proc = subprocess.run(
        [*SKILLSCAN, "scan", "--format", "jsonl", *map(str, folders)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    verdicts: dict[str, int] = {}
    lines = proc.stdout.splitlines()
    for line in lines:
        v = json.loads(line)["verdict"]
        verdicts[v] = verdicts.get(v, 0) + 1
    return len(lines), elapsed, verdicts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--skill", type=Path, default=DEFAULT_SKILL)
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--limit", type=int, default=0, help="scan only the first N corpus skills (0 = all)")
    args = p.parse_args()

    if args.skill.is_dir():
        times = cold_runs(args.skill, args.runs)
        print(
            f"cold scan of {args.skill.name}: median {statistics.median(times):.2f} s, "
            f"min {min(times):.2f} s, max {max(times):.2f} s over {len(times)} runs"
        )
    else:
        print(f"skill {args.skill} not found: cold-scan benchmark skipped")

    if not (args.corpus / "MANIFEST.tsv").is_file():
        print(f"corpus {args.corpus} not found: throughput benchmark skipped")
        return
    folders = sorted(
        p for label in ("benign", "malicious") for p in (args.corpus / label).iterdir() if p.is_dir()
    )
    if args.limit:
        folders = folders[: args.limit]
    n, elapsed, verdicts = corpus_throughput(folders)
    print(f"one call over {n} skills: {elapsed:.1f} s, {n / elapsed:.1f} skills/s; verdicts {verdicts}")


if __name__ == "__main__":
    main()
