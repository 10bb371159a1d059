"""ClawHub's moderation endpoint (staff token): one verdict per skill version.

``POST {registry}/api/v1/skills/{slug}/versions/{version}/moderation`` with
``{"verdict", "reasonCodes", "summary", "engineVersion", "findings": [{code, severity, file, line,
message}]}``. ClawHub knows clean, suspicious and malicious only: an `indeterminate` verdict
(analysis incomplete) is never posted here — posting it as clean would be a silent clean and as
suspicious an accusation without evidence; the webhook still reports it.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import requests

from skillscan.models import Finding, RuleStatus, Severity, Verdict
from skillscan.post.http import post_bytes
from skillscan.post.interface import SendOutcome, VerdictPost, VerdictSink

MAX_FINDINGS = 100  # ClawHub's own evidence lists stay short; the report page has everything
_TEXT_MAX = 1000


def clawhub_severity(severity: Severity) -> str:
    """ClawHub's three levels: high and critical are critical (flagged.suspicious), medium is warn."""
    if severity >= Severity.HIGH:
        return "critical"
    if severity is Severity.MEDIUM:
        return "warn"
    return "info"


def engine_version(tool_version: str, ruleset: str) -> str:
    return f"skillscan-{tool_version}+{ruleset[:12]}" if ruleset else f"skillscan-{tool_version}"


def moderation_body(post: VerdictPost) -> bytes:
    posted: list[Finding] = sorted(
        (f for f in post.findings if f.status is RuleStatus.STABLE), key=lambda f: f.sort_key()
    )[:MAX_FINDINGS]
    reason_codes = list(dict.fromkeys(f.rule_id for f in posted if f.severity > Severity.INFO))
    doc = {
        "verdict": str(post.verdict),
        "reasonCodes": reason_codes,
        "summary": (post.summary or f"skillscan: {post.verdict}")[:_TEXT_MAX],
        "engineVersion": engine_version(post.tool_version, post.ruleset),
        "findings": [
            {
                "code": f.rule_id,
                "severity": clawhub_severity(f.severity),
                "file": f.path,
                "line": f.line,
                "message": f.message[:_TEXT_MAX],
            }
            for f in posted
        ],
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


class ClawHubModerationSink(VerdictSink):
    name = "clawhub"

    def __init__(
        self,
        registry_url: str,
        token: str,
        *,
        timeout_s: float = 15.0,
        session: requests.Session | None = None,
    ) -> None:
        self._base = registry_url.rstrip("/")
        self._token = token
        self._timeout_s = timeout_s
        self._session = session or requests.Session()

    def __repr__(self) -> str:  # never show the token
        return f"ClawHubModerationSink(registry={self._base!r})"

    def accepts(self, post: VerdictPost) -> bool:
        return post.verdict is not Verdict.INDETERMINATE and bool(post.slug) and bool(post.version)

    def payload(self, post: VerdictPost) -> bytes:
        return moderation_body(post)

    def address(self, post: VerdictPost) -> str:
        slug, version = quote(post.slug or "", safe=""), quote(post.version or "", safe="")
        path = f"/api/v1/skills/{slug}/versions/{version}/moderation"
        return f"{path}?{urlencode({'ownerHandle': post.owner})}" if post.owner else path

    def send(self, address: str, body: bytes, delivery_key: str) -> SendOutcome:
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self._token}",
            "Idempotency-Key": delivery_key,
        }
        outcome = post_bytes(self._session, self._base + address, body, headers, self._timeout_s)
        # a receiver could echo the Authorization header back in an error text
        return SendOutcome(
            outcome.delivered,
            outcome.retryable,
            outcome.detail.replace(self._token, "***"),
            outcome.retry_after_s,
        )
