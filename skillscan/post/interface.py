"""The verdict-sink seam: where a stored verdict is delivered (ClawHub moderation, a signed webhook).

A sink turns a `VerdictPost` into the exact body it sends; that body is stored with the delivery
record, so a retry or a replay sends the same bytes under the same idempotency key.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from skillscan.models import Finding, Verdict


@dataclass(frozen=True, slots=True)
class VerdictPost:
    """One stored scan, as the sinks need it."""

    scan_id: int
    owner: str | None
    slug: str | None
    version: str | None
    fingerprint: str | None
    verdict: Verdict
    previous_verdict: Verdict | None
    summary: str
    tool_version: str
    ruleset: str
    findings: tuple[Finding, ...]
    report_url: str | None = None


@dataclass(frozen=True, slots=True)
class SendOutcome:
    delivered: bool
    retryable: bool = False  # a later attempt may succeed (timeouts, 408, 429, 5xx)
    detail: str = ""  # status and reason; never a secret
    retry_after_s: float | None = None  # the receiver's Retry-After, when it sent one


class VerdictSink(ABC):
    name: str = "sink"

    def accepts(self, post: VerdictPost) -> bool:
        """Whether this sink can take this post at all (e.g. ClawHub has no 'indeterminate')."""
        return True

    @abstractmethod
    def payload(self, post: VerdictPost) -> bytes:
        """The exact request body, computed once and stored with the delivery."""

    def address(self, post: VerdictPost) -> str:
        """Where this post goes, relative to the sink's configured base; stored with the delivery."""
        return ""

    @abstractmethod
    def send(self, address: str, body: bytes, delivery_key: str) -> SendOutcome:
        """Deliver a stored body. Never raises for transport or HTTP errors: they are outcomes."""


def delivery_key(scan_id: int, sink: str) -> str:
    """Idempotency key of one scan's delivery to one sink (also sent as X-Skillscan-Delivery)."""
    return f"{scan_id}:{sink}"
