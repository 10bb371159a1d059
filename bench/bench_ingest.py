"""Throughput of safe unpack + inventory (load_skills): skills/s, files/s, MB/s, virtual files.

Usage: .venv/bin/python bench/bench_ingest.py [PATH] [--repeat N] [--zip]
PATH defaults to ../shared/corpus. With --zip every skill folder is zipped in memory first and
loaded with load_zip_bytes (the ClawHub download path). Prints one line per run and the best run.
"""

from __future__ import annotations

import argparse
import io
import time
import tracemalloc
import zipfile
from collections import Counter
from pathlib import Path

from skillscan.bundle import load_skills, load_zip_bytes
from skillscan.config import Limits
from skillscan.models import Skill

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def _zips(path: Path) -> list[tuple[str, bytes]]:
    out = []
    for skill in load_skills(path, Limits()):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in skill.real_files:
                zf.writestr(f.path, f.data)
        out.append((skill.source, buf.getvalue()))
    return out


def _summary(skills: list[Skill], seconds: float) -> str:
    real = [f for s in skills for f in s.real_files]
    virtual = Counter(str(f.virtual) for s in skills for f in s.files if f.virtual is not None)
    mb = sum(f.size for f in real) / 1e6
    return (
        f"{len(skills)} skills, {len(real)} files, {mb:.1f} MB in {seconds:.2f} s: "
        f"{len(skills) / seconds:.0f} skills/s, {len(real) / seconds:.0f} files/s, {mb / seconds:.1f} MB/s; "
        f"virtual {dict(virtual)}; errors {sum(len(s.errors) for s in skills)}, "
        f"inventory findings {sum(len(s.findings) for s in skills)}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=str(DEFAULT))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--zip", action="store_true", help="load in-memory ZIPs of every skill instead of folders"
    )
    ap.add_argument("--memory", action="store_true", help="also report peak Python memory (slower)")
    args = ap.parse_args()
    path = Path(args.path)
    limits = Limits()
    zips = _zips(path) if args.zip else []
    best = None
    for i in range(args.repeat):
        if args.memory:
            tracemalloc.start()
        start, cpu_start = time.perf_counter(), time.process_time()
        skills = [load_zip_bytes(d, s, limits) for s, d in zips] if args.zip else load_skills(path, limits)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        peak = tracemalloc.get_traced_memory()[1] / 1e6 if args.memory else None
        if args.memory:
            tracemalloc.stop()
        line = (
            _summary(skills, seconds)
            + f"; cpu {cpu:.2f} s"
            + (f"; peak {peak:.0f} MB" if peak is not None else "")
        )
        print(f"run {i + 1}: {line}")
        if best is None or seconds < best[0]:
            best = (seconds, line)
    if best:
        print(f"best: {best[1]}")


if __name__ == "__main__":
    main()
