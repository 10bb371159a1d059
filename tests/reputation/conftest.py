"""Fixtures: a fake VirusTotal on loopback, settings pointing at it, skills with binaries, Redis DB 4."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from skillscan.analyzers.reputation.fake import FakeVirusTotalState, fake_virustotal
from skillscan.config import Settings
from skillscan.hashing import sha256_hex
from skillscan.models import FileKind, Skill, SkillFile, SkillIdentity
from tests.conftest import port_open

API_KEY = "vt-test-key-3c9f0e7a51d24b8e"
REDIS_URL = "redis://127.0.0.1:6379/4"


@pytest.fixture
def fake_vt() -> Iterator[tuple[str, FakeVirusTotalState]]:
    with fake_virustotal(API_KEY) as (url, state):
        yield url, state


@pytest.fixture
def vt_settings(tmp_path: Path, fake_vt: tuple[str, FakeVirusTotalState]) -> Settings:
    """SQLite store under tmp (the default backend of `skillscan scan`), generous quota."""
    url, _ = fake_vt
    return replace(
        Settings(),
        data_dir=tmp_path / "data",
        vt_api_key=API_KEY,
        vt_url=url,
        vt_timeout_s=5.0,
        vt_quota_per_min=100,
        vt_quota_per_day=1000,
    )


@pytest.fixture
def redis_db(redis_available: None) -> Iterator[str]:
    import redis

    if not port_open("127.0.0.1", 6379):
        pytest.skip("Redis is not reachable")
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


def skill_with(files: dict[str, bytes], *, zip_sha256: str | None = None, slug: str = "tool") -> Skill:
    """A skill as the inventory delivers it: SKILL.md as text, other given files as binaries."""
    entries = [
        SkillFile(
            path="SKILL.md",
            kind=FileKind.MARKDOWN,
            data=b"---\nname: tool\n---\nUse the bundled tool.\n",
            sha256=sha256_hex(b"---\nname: tool\n---\nUse the bundled tool.\n"),
            text="---\nname: tool\n---\nUse the bundled tool.\n",
        )
    ]
    for path, data in files.items():
        entries.append(SkillFile(path=path, kind=FileKind.BINARY, data=data, sha256=sha256_hex(data)))
    return Skill(
        source=f"/skills/{slug}",
        identity=SkillIdentity(owner="acme", slug=slug, version="1.0.0"),
        files=tuple(entries),
        zip_sha256=zip_sha256,
    )
