"""Client reads against the fake ClawHub over real HTTP: paging, owners, versions, hashes, auth."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from skillscan.hashing import bundle_fingerprint, sha256_hex
from skillscan.registry.clawhub import ClawHubClient
from skillscan.registry.errors import (
    AmbiguousSlugError,
    RegistryAuthError,
    RegistryBadRequestError,
    RegistryGoneError,
    RegistryNotFoundError,
)
from skillscan.registry.fake import FakeServer
from skillscan.registry.outcomes import VersionRef
from tests.registry.conftest import STAFF_TOKEN, USER_TOKEN, make_client


def test_discovery_points_at_the_registry(client: ClawHubClient, fake: FakeServer) -> None:
    assert client.discover().api_base == fake.url


def test_listing_follows_next_cursor_until_null(client: ClawHubClient, fake: FakeServer) -> None:
    listed = {s.slug for s in fake.store.listed_skills()}
    pages, cursor, seen = 0, None, []
    while True:
        items, cursor = client.list_page(sort="updated", cursor=cursor, limit=7)
        pages += 1
        seen.extend(i.slug for i in items)
        if cursor is None:
            break
    assert pages >= 4
    assert sorted(seen) == sorted(s.slug for s in fake.store.listed_skills())
    assert set(seen) == listed
    assert [s.slug for s in client.iter_skills(limit=5)] == seen  # the iterator pages the same way


def test_listing_is_sorted_by_the_requested_key(client: ClawHubClient) -> None:
    created = [s.created_at or 0 for s in client.iter_skills(sort="createdAt", limit=9)]
    updated = [s.updated_at or 0 for s in client.iter_skills(sort="updated", limit=9)]
    assert created == sorted(created, reverse=True)
    assert updated == sorted(updated, reverse=True)


def test_hidden_and_removed_skills_are_not_listed(client: ClawHubClient) -> None:
    slugs = {s.slug for s in client.iter_skills()}
    assert {"gone", "shade"}.isdisjoint(slugs)
    assert {"weather", "evil", "slowpoke", "iffy"} <= slugs


def test_bad_sort_is_the_registrys_plain_text_400(client: ClawHubClient) -> None:
    with pytest.raises(RegistryBadRequestError) as err:
        client.list_page(sort="sideways")
    assert err.value.status == 400
    assert err.value.message == "Invalid sort query parameter"


def test_shared_slug_is_ambiguous_until_the_owner_is_named(client: ClawHubClient) -> None:
    with pytest.raises(AmbiguousSlugError) as err:
        client.skill("notes")
    assert {m.owner for m in err.value.matches} == {"alice", "bob"}
    assert "alice" in str(err.value) and "bob" in str(err.value)
    assert client.skill("notes", owner="bob").owner == "bob"
    assert client.skill("notes", owner="@Alice").owner == "alice"


def test_unknown_and_removed_skills(client: ClawHubClient) -> None:
    with pytest.raises(RegistryNotFoundError) as missing:
        client.skill("no-such-skill")
    assert missing.value.message == "Skill not found"
    with pytest.raises(RegistryGoneError) as gone:
        client.skill("gone")
    assert gone.value.message == "This skill has been removed by a moderator."


def test_versions_newest_first_and_paged(client: ClawHubClient) -> None:
    assert [v.version for v in client.iter_versions("weather")] == ["1.1.0", "1.0.0"]
    first, cursor = client.version_page("weather", limit=1)
    second, end = client.version_page("weather", cursor=cursor, limit=1)
    assert [first[0].version, second[0].version, end] == ["1.1.0", "1.0.0", None]
    assert [v.version for v in client.iter_versions("retired")] == ["1.0.0"]  # revoked 2.0.0 excluded


def test_version_detail_lists_every_file_with_its_sha256(client: ClawHubClient, seed_dir: Path) -> None:
    detail = client.version("weather", "1.1.0")
    folder = seed_dir / "weather@1.1.0"
    on_disk = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
    assert {f.path for f in detail.files} == set(on_disk)
    for f in detail.files:
        data = on_disk[f.path].read_bytes()
        assert (f.sha256, f.size) == (sha256_hex(data), len(data))
    assert detail.security_status == "clean"
    assert detail.sha256hash and len(detail.sha256hash) == 64


def test_resolve_finds_the_version_by_bundle_fingerprint(client: ClawHubClient) -> None:
    files = client.version("weather", "1.0.0").files
    fingerprint = bundle_fingerprint({f.path: f.sha256 for f in files})
    result = client.resolve("weather", fingerprint)
    assert (result.match, result.latest_version) == ("1.0.0", "1.1.0")
    assert client.resolve("weather", "0" * 64).match is None


def test_security_verdicts_answer_per_item(client: ClawHubClient) -> None:
    got = client.security_verdicts(
        [
            VersionRef(None, "weather", "1.1.0"),
            VersionRef(None, "evil", "2.0.0"),
            VersionRef(None, "weather", "9.9.9"),
        ]
    )
    assert [(v.ok, v.status, v.error_code) for v in got] == [
        (True, "clean", None),
        (False, "malicious", None),
        (False, None, "version_not_found"),
    ]
    assert "moderation.malware_blocked" in got[1].reasons


def test_search_carries_the_owner(client: ClawHubClient) -> None:
    results = client.search("notes")
    assert {r.owner for r in results if r.slug == "notes"} == {"alice", "bob"}


def test_whoami_needs_a_token(fake: FakeServer) -> None:
    with make_client(fake.url) as anonymous, pytest.raises(RegistryAuthError):
        anonymous.whoami()
    with make_client(fake.url, token=USER_TOKEN) as user:
        assert user.whoami() == "alice"


def test_token_never_appears_in_repr_errors_or_logs(
    fake: FakeServer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with make_client(fake.url, token=STAFF_TOKEN) as staff:
        texts = [repr(staff), repr(staff.transport)]
        for call in (lambda: staff.skill("no-such-skill"), lambda: staff.list_page(sort="nope")):
            with pytest.raises(Exception) as err:
                call()
            texts.append(str(err.value))
            texts.append(repr(err.value))
        fake.admin.inject("error", status=500, count=5, body=f"echo {STAFF_TOKEN}")
        with pytest.raises(Exception) as echoed:
            staff.skill("weather")
        texts.append(str(echoed.value))
    out = capsys.readouterr()
    assert "retry 1/2" in caplog.text  # retries are logged …
    assert all(STAFF_TOKEN not in t for t in [*texts, out.out, out.err, caplog.text])  # … without the token
    assert "token=set" in texts[0]
    assert "[token]" in texts[-1]  # an echoed token is scrubbed from the error text


def test_from_settings_uses_registry_url_and_token(fake: FakeServer) -> None:
    from skillscan.config import Settings

    settings = Settings.from_env({"SKILLSCAN_REGISTRY_URL": fake.url, "SKILLSCAN_CLAWHUB_TOKEN": USER_TOKEN})
    assert USER_TOKEN not in repr(settings)
    with ClawHubClient.from_settings(settings) as c:
        assert c.base_url == fake.url
        assert c.whoami() == "alice"
    with ClawHubClient.from_settings(Settings(), registry_url=fake.url) as c:
        assert c.discover().api_base == fake.url


def test_malformed_answers_are_protocol_errors(client: ClawHubClient, fake: FakeServer) -> None:
    from skillscan.registry.errors import RegistryProtocolError
    from skillscan.registry.records import VersionDetail

    fake.admin.inject("error", status=200, body="<html>not json</html>", count=1)
    with pytest.raises(RegistryProtocolError, match="not JSON"):
        client.skill("weather")
    bad_sha = {
        "skill": {"slug": "x"},
        "version": {"version": "1", "files": [{"path": "a", "size": 1, "sha256": "zz"}]},
    }
    with pytest.raises(RegistryProtocolError, match="64 hex"):
        VersionDetail.parse(bad_sha)
    with pytest.raises(RegistryProtocolError, match="expected a JSON object"):
        VersionDetail.parse(["not", "an", "object"])


_ENV_KEYS = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NETRC",
)


@pytest.mark.parametrize(
    ("url", "env"),
    [
        ("http://registry.example", {}),
        ("http://registry.example", {"HTTP_PROXY": "http://proxy.example:3128"}),
        (
            "https://registry.example",
            {"HTTPS_PROXY": "http://proxy.example:3128", "ALL_PROXY": "socks5://s:1"},
        ),
        (
            "https://registry.example",
            {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "registry.example"},
        ),
        (
            "http://127.0.0.1:8770",
            {"HTTP_PROXY": "http://proxy.example:3128", "NO_PROXY": "localhost,127.0.0.1"},
        ),
        ("https://registry.example", {"REQUESTS_CA_BUNDLE": "/etc/ca.pem"}),
        ("https://registry.example", {"CURL_CA_BUNDLE": "/etc/curl-ca.pem"}),
    ],
)
def test_the_environment_is_honoured_as_requests_would(
    url: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The transport reads proxies, NO_PROXY, the CA bundle and netrc once; each request still gets
    exactly what `requests` would have taken from the environment for it."""
    import requests

    for key in (*_ENV_KEYS, *(k.lower() for k in _ENV_KEYS)):
        monkeypatch.delenv(key, raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine registry.example login alice password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    plain = requests.Session()
    ours = ClawHubClient(url).transport._session
    expected = plain.merge_environment_settings(f"{url}/api/v1/skills", {}, None, None, None)
    got = ours.merge_environment_settings(f"{url}/api/v1/skills", {}, None, None, None)
    assert got == expected
    prepared = ours.prepare_request(requests.Request("GET", f"{url}/api/v1/skills"))
    assert prepared.headers.get("Authorization") == plain.prepare_request(
        requests.Request("GET", f"{url}/api/v1/skills")
    ).headers.get("Authorization")
