"""How fast this machine runs Python right now: the benches' bounds (100 ms per check on 1 MB) are
absolute, and the same code has been measured twice as slow on one machine as on another, or
within a minute on one machine. A fixed workload of the kind the checks do (slicing bytes, dict
lookups, small calls), timed before and after a bench, tells which numbers are comparable."""

from __future__ import annotations

import time

_TEXT = b"requests.post('https://api.example.com/v1', data=os.getenv('EXAMPLE_TOKEN'))\n" * 64


def _piece(data: bytes, start: int) -> str:
    return data[start : start + 16].decode("utf-8", "replace")


def reference_ms(repeat: int = 5) -> float:
    """Best CPU milliseconds of `repeat` runs of the fixed workload."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        seen: dict[str, int] = {}
        for _ in range(40):
            for p in range(0, len(_TEXT) - 16, 7):
                piece = _piece(_TEXT, p)
                seen[piece] = seen.get(piece, 0) + 1
        best = min(best, time.process_time() - start)
    return best * 1000


def reference_line() -> str:
    return f"machine reference: {reference_ms():.1f} ms (a fixed Python workload, best of 5; lower is faster)"
