"""Cost of the update diff and of verdict delivery: profiles/s over a corpus, deliveries/s to a local receiver.

Usage: .venv/bin/python bench/bench_posting.py [CORPUS] [--deliveries N]
CORPUS defaults to ../shared/corpus. Profiles every skill (real + virtual files, no findings),
reports skills/s and the slowest skill; then records N malicious scans in a temporary SQLite
store and delivers each to a signed-webhook receiver on loopback (plan + one attempt each),
reporting deliveries/s and the p50/p95 of one plan+deliver.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

from skillscan.bundle import load_skills
from skillscan.config import Limits, Settings
from skillscan.models import Decision, ScanReport, SkillIdentity, Verdict
from skillscan.post.pipeline import attempt, plan_deliveries
from skillscan.profile import extract_profile
from skillscan.store import VerdictStore

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def bench_profiles(corpus: Path) -> None:
    started = time.perf_counter()
    skills = load_skills(corpus, Limits())
    loaded = time.perf_counter() - started
    times: list[tuple[float, str]] = []
    items = 0
    for skill in skills:
        t0 = time.perf_counter()
        profile = extract_profile(skill)
        times.append((time.perf_counter() - t0, skill.source))
        items += sum(len(profile.get(cap)) for cap in profile.items)
    total = sum(t for t, _ in times)
    slowest = max(times) if times else (0.0, "-")
    print(
        f"profiles: {len(times)} skills in {total:.2f}s ({len(times) / total if total else 0:.0f} skills/s; "
        f"load {loaded:.1f}s not counted), {items} capability items, slowest {slowest[0] * 1000:.1f} ms "
        f"({Path(slowest[1]).name})"
    )


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def bench_deliveries(n: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        store = VerdictStore(f"sqlite:///{tmp}/verdicts.db")
        settings = replace(
            Settings(),
            data_dir=Path(tmp),
            webhook_url=f"http://127.0.0.1:{server.server_address[1]}/hook",
            webhook_secret="bench-secret",
        )
        ids = []
        for i in range(n):
            report = ScanReport(
                skill=SkillIdentity(owner="bench", slug=f"s{i}", version="1.0.0", fingerprint=f"{i:064x}"),
                source="bench",
                files=(),
                findings=(),
                errors=(),
                verdict=Verdict.MALICIOUS,
                decision=Decision.BLOCK,
                reason="bench",
                tool_version="0",
                ruleset_digest="r",
            )
            ids.append(store.record_scan(report))
        each: list[float] = []
        started = time.perf_counter()
        for scan_id in ids:
            t0 = time.perf_counter()
            (delivery,) = plan_deliveries(store, scan_id, settings)
            if attempt(store, delivery.id, settings).state != "delivered":
                sys.exit("delivery failed")
            each.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        store.close()
    server.shutdown()
    q = statistics.quantiles(each, n=20)
    print(
        f"deliveries: {n} in {elapsed:.2f}s ({n / elapsed:.0f}/s), plan+deliver p50 {q[9] * 1000:.1f} ms, "
        f"p95 {q[18] * 1000:.1f} ms (SQLite store, webhook on loopback)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--deliveries", type=int, default=200)
    args = parser.parse_args()
    if args.corpus.is_dir():
        bench_profiles(args.corpus)
    else:
        print(f"profiles: {args.corpus} not found, skipped")
    bench_deliveries(args.deliveries)


if __name__ == "__main__":
    main()
