"""Many skills on every core: `skillscan scan` hands chunks of loaded skills to worker processes.

The in-process engines hold the GIL, so one process keeps about one core busy however many engine
threads it runs. Skills are loaded here, exactly as in one process (folders, ZIPs, registry
references, and the same errors for an unusable path), and scanned `CHUNK` at a time by `jobs`
processes; reports come back in input order, chunk by chunk. A run that fits in one chunk starts no
process. A worker process that dies loses no scan: its chunk, and every chunk after it, is scanned
here instead.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import chain
from pathlib import Path

from skillscan.config import Settings
from skillscan.models import ScanReport, Skill
from skillscan.scan import Scanner, load_batches

CHUNK = 50  # skills per worker call: one Semgrep start each, and small enough to keep every core busy
MAX_JOBS = 8

_worker_scanner: Scanner | None = None  # one per worker process, built once by its initializer


def default_jobs() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), MAX_JOBS))


def iter_batches(settings: Settings, paths: Sequence[str | Path], jobs: int) -> Iterator[list[ScanReport]]:
    """Reports for every skill under `paths`, in order, a batch at a time."""
    # VirusTotal's quota belongs to one key: processes that each think they own it would overrun it.
    if jobs <= 1 or settings.vt_api_key:
        with Scanner(settings) as scanner:
            yield from scanner.iter_batches(paths)
        return
    chunks = load_batches(paths, settings, CHUNK)
    first, second = next(chunks, None), next(chunks, None)
    if first is None:
        return
    if second is None:
        with Scanner(settings) as scanner:
            yield scanner.scan_skills(first)
        return
    yield from _scan_in_pool(settings, chain((first, second), chunks), jobs)


def _scan_in_pool(settings: Settings, chunks: Iterator[list[Skill]], jobs: int) -> Iterator[list[ScanReport]]:
    # Spawned, not forked: a fork would copy whatever threads and locks this process holds.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(settings,))
    with pool, _Fallback(settings) as fallback:
        queued: deque[tuple[list[Skill], Future[list[ScanReport]]]] = deque()
        for chunk in chunks:
            queued.append((chunk, _submit(pool, chunk)))
            # Loading runs ahead of scanning by at most two chunks per process: memory stays bounded.
            while len(queued) > 2 * jobs:
                yield fallback.result(*queued.popleft())
        while queued:
            yield fallback.result(*queued.popleft())


def _submit(pool: ProcessPoolExecutor, chunk: list[Skill]) -> Future[list[ScanReport]]:
    try:
        return pool.submit(_scan_chunk, chunk)
    except BrokenProcessPool as e:
        failed: Future[list[ScanReport]] = Future()
        failed.set_exception(e)
        return failed


class _Fallback:
    """A chunk's reports from its worker process, or, when that process died, from a scanner in
    this one (made on first need)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._scanner: Scanner | None = None

    def __enter__(self) -> _Fallback:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._scanner is not None:
            self._scanner.close()

    def result(self, chunk: list[Skill], future: Future[list[ScanReport]]) -> list[ScanReport]:
        try:
            return future.result()
        except BrokenProcessPool:
            self._scanner = self._scanner or Scanner(self._settings)
            return self._scanner.scan_skills(chunk)


def _start_worker(settings: Settings) -> None:
    global _worker_scanner
    _worker_scanner = Scanner(settings)


def _scan_chunk(skills: list[Skill]) -> list[ScanReport]:
    assert _worker_scanner is not None, "worker process started without its scanner"
    return _worker_scanner.scan_skills(skills)
