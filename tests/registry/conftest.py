"""Fixtures: one fake ClawHub (real HTTP on a free loopback port, in a thread) per session, reset
after every test; clients with short timeouts and a recording sleep."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from skillscan.registry.clawhub import ClawHubClient
from skillscan.registry.fake import FakeServer
from skillscan.registry.http import RetryPolicy, Transport
from tests.registry.seedtree import MODERATION, build_seed

USER_TOKEN = "clh_userTokenForTests0000000000000000000000000"
STAFF_TOKEN = "clh_staffTokenForTests000000000000000000000000"
TOKENS = {USER_TOKEN: ("alice", "user"), STAFF_TOKEN: ("mod", "moderator")}


@pytest.fixture(scope="session")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_seed(tmp_path_factory.mktemp("seed"))


@pytest.fixture(scope="session")
def fake_server(seed_dir: Path) -> Iterator[FakeServer]:
    with FakeServer.seeded([seed_dir], moderation=MODERATION, tokens=TOKENS) as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeServer) -> Iterator[FakeServer]:
    """The session's fake, back in its seeded state after the test."""
    yield fake_server
    fake_server.admin.reset()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_client(
    url: str, sleep: Sleeps | None = None, token: str | None = None, **kwargs: object
) -> ClawHubClient:
    policy = kwargs.pop("policy", None) or RetryPolicy(max_attempts=3, backoff_base_s=0.01, max_sleep_s=5.0)
    transport = Transport(
        url,
        token=token,
        timeout_s=float(kwargs.pop("timeout_s", 5.0)),  # type: ignore[arg-type]
        policy=policy,  # type: ignore[arg-type]
        sleep=sleep if sleep is not None else (lambda s: None),
    )
    return ClawHubClient(url, transport=transport, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def client(fake: FakeServer, sleeps: Sleeps) -> Iterator[ClawHubClient]:
    with make_client(fake.url, sleeps) as c:
        yield c
