"""The VirusTotal API key never appears in logs, notes, findings, reprs or exception strings."""

from __future__ import annotations

import logging
import traceback
from dataclasses import replace

import pytest

from skillscan.analyzers.reputation import build_reputation_analyzer
from skillscan.analyzers.reputation.analyzer import virustotal_options
from skillscan.analyzers.reputation.backends import Backends
from skillscan.analyzers.reputation.fake import ECHO_HEADERS, QUOTA, FakeVirusTotalState, stats
from skillscan.analyzers.reputation.virustotal import VirusTotalService
from skillscan.config import Settings
from skillscan.hashing import sha256_hex
from tests.reputation.conftest import API_KEY, skill_with

PAYLOAD = b"\x7fELF-secrecy"


@pytest.mark.parametrize("mode", [None, ECHO_HEADERS, QUOTA, "wrong-key"])
def test_api_key_never_leaks(
    vt_settings: Settings,
    fake_vt: tuple[str, FakeVirusTotalState],
    caplog: pytest.LogCaptureFixture,
    mode: str | None,
) -> None:
    _, state = fake_vt
    state.files[sha256_hex(PAYLOAD)] = stats(malicious=3)
    settings = vt_settings
    if mode == "wrong-key":
        state.api_key = "some-other-key"  # the service answers 401 WrongCredentialsError
    else:
        state.mode = mode
    caplog.set_level(logging.DEBUG)  # every logger, every level, vt-py and aiohttp included
    analyzer = build_reputation_analyzer(settings)
    assert analyzer is not None
    result = analyzer.analyze(skill_with({"bin/payload": PAYLOAD, "bin/other": b"\x00other"}))
    analyzer.close()

    if mode == ECHO_HEADERS:
        # the misbehaving server did echo the key: it must not travel any further
        assert any(n for n in result.notes if "server error" in n)
    texts = [r.getMessage() for r in caplog.records] + [str(r.args) for r in caplog.records]
    texts += list(result.notes) + [f.message + f.evidence for f in result.findings]
    texts += [repr(settings), str(settings), repr(result)]
    assert texts and all(API_KEY not in t for t in texts)
    if mode is None:
        assert result.findings  # the lookup did happen with the key


def test_exceptions_never_carry_the_key(
    vt_settings: Settings, fake_vt: tuple[str, FakeVirusTotalState]
) -> None:
    _, state = fake_vt
    state.mode = ECHO_HEADERS
    backends = Backends(vt_settings)
    service = VirusTotalService(API_KEY, backends.cache, backends.quota, virustotal_options(vt_settings))
    assert API_KEY not in repr(service)
    # drive the raw vt-py path and collect every exception string it produces
    import asyncio

    import vt

    async def raw() -> str:
        async with vt.Client(API_KEY, host=vt_settings.vt_url) as client:
            try:
                await client.get_object_async("/files/{}", sha256_hex(PAYLOAD))
            except vt.APIError as e:
                return service.redact(str(e)) + service.redact("".join(traceback.format_exception(e)))
        return ""

    text = asyncio.run(raw())
    assert "upstream failure" in text  # the echoed body was there …
    assert API_KEY not in text  # … with the key redacted
    results = service.lookup([])
    assert results == []
    backends.close()
    # a service without a key is refused with a message that names no key
    from skillscan.errors import ReputationError

    with pytest.raises(ReputationError) as info:
        VirusTotalService("", backends.cache, backends.quota, virustotal_options(replace(vt_settings)))
    assert API_KEY not in str(info.value)
