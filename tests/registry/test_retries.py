"""Retries, backoff and rate limits over real HTTP, with failures injected into the fake."""

from __future__ import annotations

import time

import pytest

from skillscan.registry.clawhub import ClawHubClient
from skillscan.registry.errors import RegistryUnavailableError
from skillscan.registry.fake import FakeServer
from skillscan.registry.fake_faults import RateLimits
from skillscan.registry.http import RetryPolicy, retry_delay
from skillscan.registry.outcomes import Downloaded, Unavailable
from tests.registry.conftest import Sleeps, make_client

POLICY = RetryPolicy(max_attempts=4, backoff_base_s=0.01, max_sleep_s=5.0)


def _hits(fake: FakeServer, path: str) -> list[int]:
    return [r["status"] for r in fake.admin.requests() if r["path"] == path]


def test_429_retry_after_is_honoured_with_real_sleeps(fake: FakeServer) -> None:
    fake.admin.inject("rate-limit", retry_after="0.2", count=2, path="/api/v1/skills/weather")
    with make_client(fake.url, sleep=None, policy=POLICY) as c:
        c.transport._sleep = time.sleep  # real waiting for this test
        started = time.monotonic()
        assert c.skill("weather").slug == "weather"
        elapsed = time.monotonic() - started
    assert elapsed >= 0.4  # two waits of Retry-After
    assert _hits(fake, "/api/v1/skills/weather") == [429, 429, 200]


def test_retry_after_wait_gets_bounded_jitter(fake: FakeServer, sleeps: Sleeps) -> None:
    fake.admin.inject("rate-limit", retry_after="0.5", count=1)
    with make_client(fake.url, sleeps, policy=POLICY) as c:
        c.skill("weather")
    assert len(sleeps) == 1
    assert 0.5 <= sleeps[0] <= 0.5 * 1.1 + 1e-9


def test_5xx_is_retried_with_backoff(fake: FakeServer, sleeps: Sleeps) -> None:
    fake.admin.inject("error", status=503, count=2, path="/api/v1/skills/weather")
    with make_client(fake.url, sleeps, policy=POLICY) as c:
        assert c.skill("weather").latest_version == "1.1.0"
    assert _hits(fake, "/api/v1/skills/weather") == [503, 503, 200]
    assert len(sleeps) == 2  # exponential backoff (0.01 s, then 0.02 s) plus at most 0.005 s of jitter
    assert 0.01 <= sleeps[0] <= 0.0151 and 0.02 <= sleeps[1] <= 0.0251


def test_408_is_retried(fake: FakeServer, sleeps: Sleeps) -> None:
    fake.admin.inject("error", status=408, count=1)
    with make_client(fake.url, sleeps, policy=POLICY) as c:
        assert c.discover().api_base == fake.url


def test_attempts_are_bounded(fake: FakeServer, sleeps: Sleeps) -> None:
    fake.admin.inject("error", status=502, count=50)
    with make_client(fake.url, sleeps, policy=POLICY) as c, pytest.raises(RegistryUnavailableError) as err:
        c.skill("weather")
    assert err.value.attempts == 4 and err.value.status == 502
    assert len(sleeps) == 3
    assert len(_hits(fake, "/api/v1/skills/weather")) == 4


def test_download_after_exhausted_retries_is_a_typed_outcome(fake: FakeServer, sleeps: Sleeps) -> None:
    fake.admin.inject("rate-limit", retry_after="0.01", count=50, path="/api/v1/download")
    with make_client(fake.url, sleeps, policy=POLICY) as c:
        outcome = c.download("weather")
    assert isinstance(outcome, Unavailable)
    assert outcome.rate_limited and outcome.retryable and outcome.attempts == 4
    assert outcome.to_dict()["kind"] == "unavailable"


def test_a_wait_longer_than_the_bound_ends_the_call_at_once(fake: FakeServer, sleeps: Sleeps) -> None:
    fake.admin.inject("rate-limit", retry_after="3600", count=1)
    with make_client(fake.url, sleeps, policy=POLICY) as c:
        outcome = c.download("weather", version="1.0.0", owner="local")
    assert isinstance(outcome, Unavailable)
    assert outcome.retry_after_s == 3600 and sleeps == []


@pytest.mark.parametrize("kind", ["drop", "truncate"])
def test_broken_connections_are_retried(fake: FakeServer, sleeps: Sleeps, kind: str) -> None:
    fake.admin.inject(kind, count=1, path="/api/v1/download")
    with make_client(fake.url, sleeps, policy=POLICY) as c:
        outcome = c.download("weather")
    assert isinstance(outcome, Downloaded), outcome.describe()
    assert len(sleeps) == 1


def test_a_slow_answer_times_out_and_is_retried(fake: FakeServer, sleeps: Sleeps) -> None:
    fake.admin.inject("slow", delay_s=1.5, count=1, path="/api/v1/skills/weather")
    with make_client(fake.url, sleeps, policy=POLICY, timeout_s=0.3) as c:
        assert c.skill("weather").slug == "weather"
    assert len(sleeps) == 1  # the first attempt was abandoned at its timeout, not waited out
    deadline = time.monotonic() + 5  # let the abandoned slow answer finish before the next test
    while len(_hits(fake, "/api/v1/skills/weather")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_dripping_body_hits_the_download_deadline(fake: FakeServer, sleeps: Sleeps) -> None:
    fake.admin.inject("drip", delay_s=0.05, count=10, path="/api/v1/download")
    policy = RetryPolicy(max_attempts=2, backoff_base_s=0.01)
    with make_client(fake.url, sleeps, policy=policy, download_deadline_s=0.3) as c:
        outcome = c.download("hefty")
    assert isinstance(outcome, Unavailable)
    assert "not received within" in outcome.message


def test_real_rate_limiter_headers_and_recovery(fake: FakeServer) -> None:
    fake.admin.set_rate_limits(RateLimits.uniform(3, window_s=0.3))
    with make_client(fake.url, sleep=None, policy=RetryPolicy(max_attempts=6, max_sleep_s=2.0)) as c:
        c.transport._sleep = time.sleep
        for _ in range(7):
            c.skill("weather")
    statuses = _hits(fake, "/api/v1/skills/weather")
    assert statuses.count(200) == 7 and 429 in statuses


def test_rate_limit_headers_follow_clawhub(fake: FakeServer) -> None:
    import requests

    fake.admin.set_rate_limits(RateLimits(read=1, window_s=60))
    ok = requests.get(f"{fake.url}/api/v1/skills/weather", timeout=5)
    limited = requests.get(f"{fake.url}/api/v1/skills/weather", timeout=5)
    for name in ("X-RateLimit-Limit", "X-RateLimit-Reset", "RateLimit-Limit", "RateLimit-Reset"):
        assert name in ok.headers and name in limited.headers
    assert ok.status_code == 200 and ok.headers["RateLimit-Remaining"] == "0"
    assert limited.status_code == 429 and limited.text == "Rate limit exceeded"
    assert limited.headers["Content-Type"].startswith("text/plain")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert int(limited.headers["X-RateLimit-Reset"]) >= int(time.time())


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7", "RateLimit-Reset": "30", "X-RateLimit-Reset": "2000"}, 7.0),
        ({"RateLimit-Reset": "30", "X-RateLimit-Reset": "2000"}, 30.0),
        ({"X-RateLimit-Reset": "1012"}, 12.0),
        ({"Retry-After": "Thu, 01 Jan 1970 00:16:50 GMT"}, 10.0),
        ({"Retry-After": "soon"}, 0.5),  # unusable: backoff
        ({}, 0.5),
    ],
)
def test_retry_delay_prefers_retry_after_then_reset_headers(headers: dict[str, str], expected: float) -> None:
    delay, _ = retry_delay(headers, 1, RetryPolicy(backoff_base_s=0.5), now=1000.0)
    assert delay == pytest.approx(expected)


def test_client_without_faults_makes_one_request(client: ClawHubClient, fake: FakeServer) -> None:
    client.skill("weather")
    assert _hits(fake, "/api/v1/skills/weather") == [200]
