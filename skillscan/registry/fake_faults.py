"""Test hooks of the fake ClawHub: injected failures and ClawHub's fixed-window rate limits.

Faults are consumed in order, one per matching request: `error` (a status with a plain-text
body, default 503), `rate-limit` (429 with every rate-limit header and `Retry-After`), `slow`
(wait, then answer normally), `drop` (close the connection without an answer), `truncate` (send
half the body, then close), `drip` (send the body in small pieces with a pause between them).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = frozenset({"error", "rate-limit", "slow", "drop", "truncate", "drip"})
BUCKETS = ("read", "write", "download", "export")


@dataclass
class Fault:
    kind: str
    count: int = 1
    status: int = 503
    retry_after: str | None = None
    delay_s: float = 0.0
    path: str = ""  # request path prefix; "" matches every API request
    method: str | None = None
    body: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Fault:
        kind = str(data.get("kind", "error"))
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (one of {sorted(FAULT_KINDS)})")
        retry_after = data.get("retry_after")
        return cls(
            kind=kind,
            count=max(1, int(data.get("count", 1))),
            status=int(data.get("status", 429 if kind == "rate-limit" else 503)),
            retry_after=str(retry_after) if retry_after is not None else None,
            delay_s=float(data.get("delay_s", data.get("delay", 0.0))),
            path=str(data.get("path", "")),
            method=str(data["method"]).upper() if data.get("method") else None,
            body=str(data["body"]) if data.get("body") is not None else None,
        )

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path) and (self.method is None or self.method == method)


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> int:
        with self._lock:
            self._faults.append(fault)
            return len(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(f.count for f in self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None


@dataclass(frozen=True)
class RateLimits:
    """Requests per window per bucket; `None` leaves a bucket unlimited. Off by default."""

    read: int | None = None
    write: int | None = None
    download: int | None = None
    export: int | None = None
    window_s: float = 60.0

    @property
    def enabled(self) -> bool:
        return any(getattr(self, b) is not None for b in BUCKETS)

    @classmethod
    def uniform(cls, per_window: int | None, window_s: float = 60.0) -> RateLimits:
        return cls(per_window, per_window, per_window, per_window, window_s)

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None) -> RateLimits:
        if not data:
            return cls()
        values = {b: (int(data[b]) if data.get(b) is not None else None) for b in BUCKETS}
        return cls(**values, window_s=float(data.get("window_s", 60.0)))


@dataclass
class RateLimiter:
    limits: RateLimits = field(default_factory=RateLimits)
    clock: Any = time.time
    _counts: dict[tuple[str, str, int], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, limits: RateLimits) -> None:
        with self._lock:
            self.limits = limits
            self._counts.clear()

    def check(self, key: str, bucket: str) -> tuple[bool, dict[str, str]]:
        """Consume one request; returns (allowed, headers). No headers when limits are off."""
        limits = self.limits
        limit = getattr(limits, bucket, None)
        if limit is None:
            return True, {}
        now = self.clock()
        window = limits.window_s
        index = int(now // window)
        reset_at = (index + 1) * window
        with self._lock:
            for stale in [k for k in self._counts if k[2] < index]:
                del self._counts[stale]
            used = self._counts.get((key, bucket, index), 0)
            allowed = used < limit
            if allowed:
                self._counts[(key, bucket, index)] = used + 1
        remaining = max(0, limit - used - 1) if allowed else 0
        headers = rate_headers(limit, remaining, reset_at, now, window)
        if not allowed:
            headers["Retry-After"] = headers["RateLimit-Reset"]
        return allowed, headers


def rate_headers(limit: int, remaining: int, reset_at: float, now: float, window_s: float) -> dict[str, str]:
    """ClawHub's four header families (`convex/lib/httpRateLimit.ts`): absolute epoch seconds in
    `X-RateLimit-Reset`, seconds-until-reset (at least 1) in `RateLimit-Reset`. Windows shorter than
    a second (tests) give fractional seconds so clients need not sleep whole seconds."""
    whole = window_s >= 1
    delay = str(max(1, math.ceil(reset_at - now))) if whole else f"{max(0.001, reset_at - now):.3f}"
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(math.ceil(reset_at)),
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": delay,
    }
