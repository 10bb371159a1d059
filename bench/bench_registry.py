"""Fake ClawHub seeding time and ClawHub client download throughput (verified downloads).

    .venv/bin/python bench/bench_registry.py [--corpus ../shared/corpus] [--threads 1,4] [--passes 2]

Seeds the fake registry from the labelled corpus (time, peak traced memory), serves it on loopback,
then downloads every version with `ClawHubClient.download` (version detail + ZIP + sha256 and
fingerprint verification), sequentially and with N client threads. The first pass builds and
caches ZIPs on the server; later passes measure the client with a warm server. Prints one line
per measurement.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from skillscan.registry.clawhub import ClawHubClient  # noqa: E402
from skillscan.registry.fake import FakeServer  # noqa: E402
from skillscan.registry.fake_seed import seed_store  # noqa: E402
from skillscan.registry.fake_store import FakeStore  # noqa: E402
from skillscan.registry.outcomes import Downloaded, VersionRef  # noqa: E402


def _seed(corpus: Path) -> None:
    started = time.perf_counter()
    report = seed_store(FakeStore(), [corpus])
    cold = time.perf_counter() - started
    tracemalloc.start()
    started = time.perf_counter()
    seed_store(FakeStore(), [corpus])
    traced = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"seed: {report.skills} skills, {report.versions} versions, {report.files} files in {cold:.2f}s "
        f"(again under tracemalloc {traced:.2f}s, peak traced {peak / 2**20:.1f} MiB), "
        f"{len(report.warnings)} warning(s)"
    )


def _download_all(url: str, refs: list[VersionRef], threads: int) -> tuple[float, int, int, int]:
    clients = [ClawHubClient(url) for _ in range(threads)]

    def fetch(i: int) -> tuple[bool, int]:
        ref = refs[i]
        outcome = clients[i % threads].download(ref.slug, owner=ref.owner, version=ref.version)
        if isinstance(outcome, Downloaded):
            return True, len(outcome.zip_bytes)
        return False, 0

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(fetch, range(len(refs))))
    elapsed = time.perf_counter() - started
    for c in clients:
        c.close()
    ok = sum(1 for good, _ in results if good)
    return elapsed, ok, len(refs) - ok, sum(size for _, size in results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--threads", default="1,4", help="comma-separated client thread counts")
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--big-mib", type=int, default=20, help="size of the large-bundle case (0: skip)")
    args = parser.parse_args()
    if not (args.corpus / "MANIFEST.tsv").is_file():
        sys.exit(f"corpus not found at {args.corpus}")
    _seed(args.corpus)
    with FakeServer.seeded([args.corpus]) as server:
        refs = [
            VersionRef(s.owner, s.slug, v.version)
            for s in server.store.listed_skills()
            for v in s.versions.values()
            if not v.soft_deleted
        ]
        for threads in (int(t) for t in args.threads.split(",")):
            for run in range(1, args.passes + 1):
                elapsed, ok, failed, size = _download_all(server.url, refs, threads)
                print(
                    f"download threads={threads} pass={run}: {ok} verified, {failed} not downloaded, "
                    f"{len(refs) / elapsed:.0f} versions/s, {size / elapsed / 2**20:.1f} MiB/s "
                    f"({size / 2**20:.1f} MiB in {elapsed:.2f}s)"
                )
        if args.big_mib:
            _big_bundle(server, args.big_mib)


def _big_bundle(server: FakeServer, mib: int) -> None:
    """One bundle of incompressible bytes: the client's streaming, hashing and verification rate."""
    blob = os.urandom(mib * 2**20)
    server.admin.publish("bench-big", "1.0.0", {"SKILL.md": "---\nname: big\n---\n", "blob.bin": blob})
    with ClawHubClient(server.url, max_download_bytes=(mib + 8) * 2**20) as client:
        client.download("bench-big", owner="local", version="1.0.0")  # server builds and caches the ZIP
        runs, started = 5, time.perf_counter()
        for _ in range(runs):
            outcome = client.download("bench-big", owner="local", version="1.0.0")
            assert isinstance(outcome, Downloaded), outcome.describe()
        elapsed = time.perf_counter() - started
    size = len(outcome.zip_bytes) * runs
    print(
        f"download one {mib} MiB bundle x{runs}: {size / elapsed / 2**20:.0f} MiB/s ({elapsed / runs:.2f}s each)"
    )


if __name__ == "__main__":
    main()
