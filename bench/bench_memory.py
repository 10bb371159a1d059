"""Memory of one scanning process: peak RSS over the whole corpus, and RSS drift across repeats.

    .venv/bin/python bench/bench_memory.py [--corpus ../shared/corpus] [--repeats 3] [--batch 50]

One Scanner (as a worker process holds one) scans every corpus skill in batches of --batch (the
sweep's batch size), --repeats times over. After each pass it prints the current RSS (VmRSS), the
peak so far (VmHWM) and the Semgrep children's peak. Targets (issue 11): peak <= 500 MB per worker
process; RSS after the last pass within 10% of after the first. `bench/bench_sweep.py` measures the
same through real worker processes, Redis and the store; this isolates the scanner itself.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"


def status_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    values = {"VmRSS": 0, "VmHWM": 0}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in values:
            values[key] = int(rest.split()[0])
    return values["VmRSS"] / 1024, values["VmHWM"] / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=50, help="skills per scan call (one Semgrep call each)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N skills (0 = all)")
    args = ap.parse_args()
    if not (args.corpus / "MANIFEST.tsv").is_file():
        print(f"corpus {args.corpus} not found: memory benchmark skipped")
        return
    folders = sorted(
        p for label in ("benign", "malicious") for p in (args.corpus / label).iterdir() if p.is_dir()
    )
    if args.limit:
        folders = folders[: args.limit]

    from skillscan.config import Settings
    from skillscan.scan import Scanner, load_path

    rss0, _ = status_mb()
    scanner = Scanner(Settings.from_env())
    rss_ready, _ = status_mb()
    print(
        f"cpus {os.cpu_count()}  load {os.getloadavg()[0]:.1f}  {len(folders)} skills, batches of {args.batch}"
    )
    print(f"RSS after imports {rss0:.0f} MB, after loading rules {rss_ready:.0f} MB")
    after: list[float] = []
    for n in range(1, args.repeats + 1):
        start = time.perf_counter()
        scanned = 0
        for i in range(0, len(folders), args.batch):
            skills = [s for p in folders[i : i + args.batch] for s in load_path(p, scanner.settings)]
            scanned += len(scanner.scan_skills(skills))
        elapsed = time.perf_counter() - start
        gc.collect()
        rss, hwm = status_mb()
        after.append(rss)
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"pass {n}: {scanned} skills in {elapsed:.1f} s ({scanned / elapsed:.1f} skills/s)  "
            f"RSS {rss:.0f} MB  peak {hwm:.0f} MB  semgrep peak {child:.0f} MB  load {os.getloadavg()[0]:.1f}"
        )
    scanner.close()
    _, hwm = status_mb()
    drift = (after[-1] - after[0]) / after[0] * 100
    print(f"peak RSS {hwm:.0f} MB (target <= 500: {'OK' if hwm <= 500 else 'MISS'})")
    print(
        f"RSS after pass {len(after)} vs pass 1: {drift:+.1f}% (target within 10%: "
        f"{'OK' if abs(drift) <= 10 else 'MISS'})"
    )


if __name__ == "__main__":
    main()
