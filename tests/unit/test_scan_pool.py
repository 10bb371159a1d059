"""Multi-process scans give exactly the reports of one process, in order, and lose none when a
worker process dies."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from skillscan import scan_pool
from skillscan.config import Settings
from skillscan.models import ScanReport

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
# Benign and malicious skills interleaved, so order mistakes change the verdict sequence.
PATHS = [
    str(p)
    for pair in zip(
        sorted((CORPUS / "benign").iterdir())[:4], sorted((CORPUS / "malicious").iterdir())[:4], strict=True
    )
    for p in pair
]


def _comparable(reports: list[ScanReport]) -> list[tuple[object, ...]]:
    return [(r.source, r.verdict, r.findings, r.errors, r.notes) for r in reports]


@pytest.fixture(scope="module")
def in_process() -> list[ScanReport]:
    return [r for batch in scan_pool.iter_batches(Settings(), PATHS, jobs=1) for r in batch]


def test_processes_give_the_same_reports_in_order(
    in_process: list[ScanReport], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_pool, "CHUNK", 2)  # four chunks over two processes
    batches = list(scan_pool.iter_batches(Settings(), PATHS, jobs=2))
    assert [len(b) for b in batches] == [2, 2, 2, 2]
    assert _comparable([r for b in batches for r in b]) == _comparable(in_process)
    assert {r.verdict for r in in_process} >= {"clean", "malicious"}


def test_a_killed_worker_process_loses_no_scan(
    in_process: list[ScanReport], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_pool, "CHUNK", 1)
    batches = scan_pool.iter_batches(Settings(), PATHS, jobs=2)
    reports = list(next(batches))
    workers = multiprocessing.active_children()
    assert workers, "no worker process to kill"
    for proc in workers:
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
    reports.extend(r for b in batches for r in b)
    assert _comparable(reports) == _comparable(in_process)


def test_one_chunk_starts_no_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a single chunk must be scanned in this process")

    monkeypatch.setattr(scan_pool, "_scan_in_pool", no_pool)
    (batch,) = scan_pool.iter_batches(Settings(), PATHS[:3], jobs=4)
    assert [r.source for r in batch] == PATHS[:3]
