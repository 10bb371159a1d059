"""A signed webhook: the verdict as JSON, HMAC-SHA256 over ``"<timestamp>.<body>"``.

Headers: ``X-Skillscan-Timestamp`` (unix seconds), ``X-Skillscan-Delivery`` (idempotency key:
scan id + sink; a receiver that saw it already must ignore the repeat) and
``X-Skillscan-Signature: sha256=<hex>``. The timestamp is taken per attempt, so receivers can
reject stale replays of captured requests; the body never changes between attempts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping

import requests

from skillscan.post.http import post_bytes
from skillscan.post.interface import SendOutcome, VerdictPost, VerdictSink

TIMESTAMP_HEADER = "X-Skillscan-Timestamp"
DELIVERY_HEADER = "X-Skillscan-Delivery"
SIGNATURE_HEADER = "X-Skillscan-Signature"
MAX_FINDINGS = 200


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver does: constant-time signature check and a freshness window on the timestamp."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not timestamp.isdigit() or not signature:
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def webhook_body(post: VerdictPost) -> bytes:
    findings = sorted(post.findings, key=lambda f: f.sort_key())[:MAX_FINDINGS]
    doc = {
        "owner": post.owner,
        "slug": post.slug,
        "version": post.version,
        "fingerprint": post.fingerprint,
        "verdict": str(post.verdict),
        "previous_verdict": str(post.previous_verdict) if post.previous_verdict else None,
        "ruleset": post.ruleset,
        "findings": [
            {
                "rule_id": f.rule_id,
                "category": str(f.category),
                "severity": str(f.severity),
                "path": f.path,
                "line": f.line,
                "message": f.message,
            }
            for f in findings
        ],
        "report_url": post.report_url,
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


class WebhookSink(VerdictSink):
    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout_s: float = 15.0,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._secret = secret
        self._timeout_s = timeout_s
        self._session = session or requests.Session()
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookSink(url={self._url!r})"

    def payload(self, post: VerdictPost) -> bytes:
        return webhook_body(post)

    def send(self, address: str, body: bytes, delivery_key: str) -> SendOutcome:
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            DELIVERY_HEADER: delivery_key,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        return post_bytes(self._session, self._url, body, headers, self._timeout_s)
