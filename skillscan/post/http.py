"""One POST with a bounded timeout, its result classified as delivered, retryable or final."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import requests

from skillscan.post.interface import SendOutcome

log = logging.getLogger("skillscan.post")

_RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def post_bytes(
    session: requests.Session, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float
) -> SendOutcome:
    try:
        resp = session.post(url, data=body, headers=dict(headers), timeout=timeout_s, allow_redirects=False)
    except requests.Timeout:
        return SendOutcome(False, retryable=True, detail="timed out")
    except requests.RequestException as e:
        return SendOutcome(False, retryable=True, detail=f"unreachable ({type(e).__name__})")
    with resp:
        status = resp.status_code
        if 200 <= status < 300:
            return SendOutcome(True, detail=f"HTTP {status}")
        reason = _reason(resp)
        retry_after = _retry_after(resp.headers.get("Retry-After"))
        retryable = status in _RETRYABLE_STATUS or status >= 500
        return SendOutcome(
            False, retryable=retryable, detail=f"HTTP {status}{reason}", retry_after_s=retry_after
        )


def _reason(resp: requests.Response) -> str:
    # A short, single-line excerpt of the receiver's text helps an operator; bodies can be hostile.
    try:
        text = resp.text[:200]
    except Exception:
        return ""
    text = " ".join(text.split())
    return f": {text}" if text else ""


def _retry_after(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        return max(0.0, min(float(raw), 3600.0))
    except ValueError:
        return None
