"""skillscan side by side with the peer scanner (Cisco's `cisco-ai-skill-scanner`), in one run.

    .venv/bin/python bench/bench_peer.py [--skill DIR] [--runs 5] [--count 200] [--peer PATH]

Measures, interleaving the two tools so both see the same machine load:
  (a) cold `skillscan scan <skill>` vs cold `skill-scanner scan <skill> --use-behavioral`
      (median of --runs fresh processes each);
  (b) one `skillscan scan <folder>` over --count corpus skills vs one
      `skill-scanner scan-all <folder> --use-behavioral` on the same folder (skills/s, ratio).
The folder holds copies of an evenly spaced sample of the corpus (benign and malicious); nothing in
it is executed by this script. Targets (issue 11): cold median <= 2.5 s and >= 2.5x faster than the
peer; >= 25 skills/s and >= 2x the peer. Prints numbers and the load average; asserts nothing.

The peer lives in its own virtualenv, never in the project's:
    python3 -m venv /tmp/peer-venv && /tmp/peer-venv/bin/pip install 'cisco-ai-skill-scanner==2.3.2'
Without it, the peer columns are skipped (with that hint).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
# Official vendor skill with Python and shell scripts: every engine (Semgrep included) runs on it.
DEFAULT_SKILL = DEFAULT_CORPUS / "benign" / "anthropics__webapp-testing"
DEFAULT_PEER = Path(os.environ.get("SKILLSCAN_PEER", "/tmp/peer-venv/bin/skill-scanner"))
PEER_HINT = "python3 -m venv /tmp/peer-venv && /tmp/peer-venv/bin/pip install 'cisco-ai-skill-scanner==2.3.2'"
TIMEOUT_S = 1800


def skillscan_cmd() -> list[str]:
    script = Path(sys.executable).parent / "skillscan"
    return [str(script)] if script.exists() else [sys.executable, "-m", "skillscan"]


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


def timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    return time.perf_counter() - start, proc


def sample(corpus: Path, count: int) -> list[Path]:
    """Every k-th skill of the sorted corpus: both labels, every source, deterministic."""
    folders = sorted(p for label in ("benign", "malicious") for p in (corpus / label).iterdir() if p.is_dir())
    step = len(folders) / min(count, len(folders))
    return [folders[int(i * step)] for i in range(min(count, len(folders)))]


def stage(folders: list[Path], dest: Path) -> None:
    """Copies (links inside a skill stay links, never followed) so both tools see real folders."""
    for i, src in enumerate(folders):
        shutil.copytree(src, dest / f"{i:03d}-{src.parent.name}-{src.name}", symlinks=True)


def ours_count(proc: subprocess.CompletedProcess[str]) -> int:
    return sum(1 for line in proc.stdout.splitlines() if line.strip())


def peer_count(report: Path) -> int:
    try:
        data = json.loads(report.read_text())
    except (OSError, json.JSONDecodeError):
        return 0
    return int((data.get("summary") or {}).get("total_skills_scanned", 0))


def stats(times: list[float]) -> str:
    return (
        f"median {statistics.median(times):6.2f} s  min {min(times):6.2f} s  max {max(times):6.2f} s"
        f"  (n={len(times)})"
    )


def cold(skill: Path, runs: int, peer: Path | None, work: Path) -> None:
    print(f"\n(a) cold scan of one skill: {skill}")
    ours: list[float] = []
    theirs: list[float] = []
    verdict = "?"
    for _ in range(runs):
        t, proc = timed([*skillscan_cmd(), "scan", "--format", "json", str(skill)], work)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"skillscan exited {proc.returncode}: {proc.stderr[-500:]}")
        ours.append(t)
        verdict = json.loads(proc.stdout)[0]["verdict"]
        if peer is not None:
            t, proc = timed([str(peer), "scan", str(skill), "--use-behavioral", "--format", "json"], work)
            if proc.returncode != 0:
                raise SystemExit(f"peer exited {proc.returncode}: {proc.stderr[-500:]}")
            theirs.append(t)
    target = "OK" if statistics.median(ours) <= 2.5 else "MISS"
    print(f"  skillscan      {stats(ours)}  verdict={verdict}  target <= 2.5 s {target}")
    if theirs:
        ratio = statistics.median(theirs) / statistics.median(ours)
        print(f"  skill-scanner  {stats(theirs)}")
        print(
            f"  ratio (peer / skillscan, medians): {ratio:.2f}x  target >= 2.5x {'OK' if ratio >= 2.5 else 'MISS'}"
        )
    print(f"  {load()}")


def throughput(folder: Path, n: int, peer: Path | None, work: Path, repeat: int) -> None:
    print(f"\n(b) one call over {n} corpus skills (copies in {folder})")
    ours: list[float] = []
    theirs: list[float] = []
    scanned_ours = scanned_theirs = 0
    for _ in range(repeat):
        print(f"  ... skillscan ({load()})", flush=True)
        t, proc = timed([*skillscan_cmd(), "scan", "--format", "jsonl", str(folder)], work)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"skillscan exited {proc.returncode}: {proc.stderr[-500:]}")
        ours.append(t)
        scanned_ours = ours_count(proc)
        if peer is not None:
            print(f"  ... skill-scanner ({load()})", flush=True)
            report = work / "peer-report.json"
            cmd = [
                str(peer),
                "scan-all",
                str(folder),
                "--use-behavioral",
                "--format",
                "json",
                "-o",
                str(report),
            ]
            t, proc = timed(cmd, work)
            if proc.returncode != 0:
                raise SystemExit(f"peer exited {proc.returncode}: {proc.stderr[-500:]}")
            theirs.append(t)
            scanned_theirs = peer_count(report)
    ours_rate = scanned_ours / statistics.median(ours)
    ok = "OK" if ours_rate >= 25 else "MISS"
    print(
        f"  skillscan      {stats(ours)}  {scanned_ours} skills  {ours_rate:6.1f} skills/s  target >= 25 {ok}"
    )
    if theirs:
        peer_rate = scanned_theirs / statistics.median(theirs)
        ratio = ours_rate / peer_rate if peer_rate else float("inf")
        print(f"  skill-scanner  {stats(theirs)}  {scanned_theirs} skills  {peer_rate:6.1f} skills/s")
        print(
            f"  ratio (skillscan / peer, skills/s): {ratio:.2f}x  target >= 2x {'OK' if ratio >= 2 else 'MISS'}"
        )
    print(f"  {load()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skill", type=Path, default=DEFAULT_SKILL, help="skill folder for the cold runs")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--runs", type=int, default=5, help="cold runs per tool")
    ap.add_argument("--count", type=int, default=200, help="corpus skills in the throughput folder")
    ap.add_argument("--repeat", type=int, default=1, help="throughput calls per tool")
    ap.add_argument("--peer", type=Path, default=DEFAULT_PEER, help="the peer's skill-scanner executable")
    ap.add_argument("--no-peer", action="store_true", help="measure skillscan alone")
    ap.add_argument("--skip-cold", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()

    peer: Path | None = args.peer
    if args.no_peer:
        peer = None
    elif not args.peer.exists():
        print(f"peer not found at {args.peer}: peer columns skipped. Create it with:\n  {PEER_HINT}")
        peer = None
    print(f"cpus {os.cpu_count()}  {load()}  skillscan via {' '.join(skillscan_cmd())}")
    if peer is not None:
        version = subprocess.run([str(peer), "--version"], capture_output=True, text=True, check=False)
        print(f"peer {peer} {(version.stdout or version.stderr).strip()}")

    # Both tools run from an empty working dir: neither picks up project config.
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        work = Path(tmp) / "cwd"
        work.mkdir()
        if not args.skip_cold:
            if args.skill.is_dir():
                cold(args.skill.resolve(), args.runs, peer, work)
            else:
                print(f"skill {args.skill} not found: cold benchmark skipped")
        if not args.skip_throughput:
            if not (args.corpus / "MANIFEST.tsv").is_file():
                print(f"corpus {args.corpus} not found: throughput benchmark skipped")
                return
            folders = sample(args.corpus, args.count)
            folder = Path(tmp) / "skills"
            folder.mkdir()
            stage(folders, folder)
            throughput(folder, len(folders), peer, work, args.repeat)


if __name__ == "__main__":
    main()
