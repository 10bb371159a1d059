"""Incremental discovery against the fake: backfill, then only what was published since the mark."""

from __future__ import annotations

import json

from skillscan.registry.clawhub import ClawHubClient
from skillscan.registry.discovery import HighWaterMark, IncrementalDiscovery
from skillscan.registry.fake import FakeServer


def _listed_versions(fake: FakeServer) -> set[tuple[str, str, str]]:
    return {
        (s.owner, s.slug, v.version)
        for s in fake.store.listed_skills()
        for v in s.versions.values()
        if not v.soft_deleted
    }


def _run(
    client: ClawHubClient, mark: HighWaterMark | None
) -> tuple[list[tuple[str, str, str]], HighWaterMark]:
    discovery = IncrementalDiscovery(client, mark, page_size=6)
    found = [(d.owner or "", d.slug, d.version) for d in discovery]
    return found, discovery.next_mark()


def test_first_run_backfills_everything_once(client: ClawHubClient, fake: FakeServer) -> None:
    found, mark = _run(client, None)
    assert len(found) == len(set(found))
    assert set(found) == _listed_versions(fake)
    assert {("alice", "notes", "1.0.0"), ("bob", "notes", "1.0.0")} <= set(found)  # both owners of one slug
    assert {("local", "weather", "1.0.0"), ("local", "weather", "1.1.0")} <= set(found)
    assert mark.version_at == max(s.updated_at for s in fake.store.listed_skills())


def test_next_run_yields_only_new_versions(client: ClawHubClient, fake: FakeServer) -> None:
    _, mark = _run(client, None)
    assert _run(client, mark)[0] == []
    fake.admin.publish("weather", "1.2.0", {"SKILL.md": "---\nname: weather\n---\nhourly\n"})
    fake.admin.publish("brand-new", "0.1.0", {"SKILL.md": "---\nname: brand-new\n---\n"}, owner="dave")
    found, mark2 = _run(client, mark)
    assert sorted(found) == [("dave", "brand-new", "0.1.0"), ("local", "weather", "1.2.0")]
    assert mark2.version_at > mark.version_at
    assert _run(client, mark2)[0] == []


def test_same_millisecond_boundary_is_neither_lost_nor_repeated(
    client: ClawHubClient, fake: FakeServer
) -> None:
    _, mark = _run(client, None)
    stamp = fake.store.now_ms() + 10
    fake.admin.publish("twin", "1.0.0", {"SKILL.md": "a\n"}, created_at=stamp)
    found, mark = _run(client, mark)
    assert found == [("local", "twin", "1.0.0")]
    assert mark.version_at == stamp and mark.seen == {"local/twin@1.0.0"}
    fake.admin.publish("twin", "1.0.1", {"SKILL.md": "b\n"}, created_at=stamp)  # same millisecond
    found, mark = _run(client, mark)
    assert found == [("local", "twin", "1.0.1")]
    assert mark.seen == {"local/twin@1.0.0", "local/twin@1.0.1"}


def test_mark_round_trips_through_json(client: ClawHubClient) -> None:
    _, mark = _run(client, None)
    restored = HighWaterMark.from_dict(json.loads(json.dumps(mark.to_dict())))
    assert restored == mark
    assert HighWaterMark.from_dict(None) is None
    assert _run(client, restored)[0] == []


def test_a_skill_removed_between_listing_and_detail_is_reported(
    client: ClawHubClient, fake: FakeServer
) -> None:
    _, mark = _run(client, None)
    fake.admin.publish("flicker", "1.0.0", {"SKILL.md": "x\n"})
    discovery = IncrementalDiscovery(client, mark)
    fake.admin.inject("error", status=410, body="This skill has been removed by a moderator.",
                      path="/api/v1/skills/flicker", count=1)  # fmt: skip
    assert list(discovery) == []
    assert [(p.slug, p.status) for p in discovery.problems] == [("flicker", 410)]
