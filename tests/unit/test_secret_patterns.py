"""The factored secret and host patterns find exactly what the flat alternations find."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillscan.analyzers import hosts, secrets
from skillscan.analyzers.hosts import DEFAULT_RULES_FILE, HostsAnalyzer
from skillscan.analyzers.secrets import SecretPatterns, find_secrets
from skillscan.models import FileKind, Skill, SkillFile, SkillIdentity

_DATA = hosts._load(DEFAULT_RULES_FILE)
_PATTERNS = SecretPatterns.build(_DATA["secret_patterns"], _DATA["secret_names"], _DATA["placeholder_words"])
_TRIGGERS = sorted(_PATTERNS.by_trigger, key=len, reverse=True)
_FLAT_TRIGGERS = re.compile("|".join(re.escape(t) for t in _TRIGGERS))
_FLAT_NAMES = re.compile(
    "(?:" + "|".join(re.escape(n).replace("_", "[_-]?") for n in _DATA["secret_names"]).lower() + ")"
)
_FLAT_TLD = re.compile(
    r"(?i)\.(?P<tld>local|lan|internal|intranet|corp|home\.arpa|ts\.net)(?![\w\-]|\.[a-z0-9])"
)
# Pieces that build near-misses: prefixes of every trigger and name, separators, case variants.
_PIECES = sorted(
    {p[:i] for p in [*_TRIGGERS, *_DATA["secret_names"]] for i in range(1, len(p) + 1)}
    | {"-", "_", ".", " ", "\n", "A", "K", "I", "x", "0", "1", "\u212a", "\u0131", "\u0130"}
    | {"1234567", "abcdefgh", "abcdefghi"}  # gaps just under, at and over a run's limit
    | {".local", ".LAN", ".intern", ".intranet", ".Corp", ".home.arpa", ".ts.net", ".in", ".l"}
)
_TEXTS = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)


def _spans(matches: object) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in matches]  # type: ignore[attr-defined]


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_trigger_runs_expand_to_the_flat_trigger_matches(text: str) -> None:
    assert _spans(secrets._triggers(text, _PATTERNS)) == _spans(_FLAT_TRIGGERS.finditer(text))


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_factored_names_match_the_flat_alternation(text: str) -> None:
    low = text.lower()
    assert _spans(_PATTERNS.names.finditer(low)) == _spans(_FLAT_NAMES.finditer(low))


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_factored_private_suffixes_match_the_flat_alternation(text: str) -> None:
    new = [(m.span(), m.group("tld")) for m in hosts._PRIVATE_TLD.finditer(text)]
    assert new == [(m.span(), m.group("tld")) for m in _FLAT_TLD.finditer(text)]


@pytest.mark.parametrize(
    "unit",
    [
        *("sk-", "AKIA", "ghp_", "sk-ant-", "eyJ", "xoxxapp-", "sk-sk-ant-AKIA", "sk-ant-a-"),
        *("12345678:AA", "eyJa.eyJa.", "sk-12345678", "sk-123456789", "sk-\n\n"),
    ],
)
def test_long_trigger_floods_expand_in_order(unit: str) -> None:
    text = unit * (3 * secrets._MAX_RUN + 7) + " x" + unit * 5
    assert _spans(secrets._triggers(text, _PATTERNS)) == _spans(_FLAT_TRIGGERS.finditer(text))


def test_key_after_a_run_of_triggers_is_still_found() -> None:
    key = "sk-proj-" + "Zq8" * 6 + "Lm4Rt7Wx2Yp9Kd3Hv6Bn1Cj5"
    text = "sk-" * (secrets._MAX_RUN + 100) + "\nOPENAI_API_KEY = '" + key + "'\n"
    found = [m for m in find_secrets(text, _PATTERNS) if m.rule_id == "openai-api-key-literal"]
    assert [m.secret for m in found] == [key]
    data = text.encode()
    f = SkillFile(path="a.py", kind=FileKind.PYTHON, data=data, sha256="", text=text)
    result = HostsAnalyzer().analyze(Skill(source="t", identity=SkillIdentity(), files=(f,)))
    assert any(x.rule_id == "openai-api-key-literal" and x.line == 2 for x in result.findings)


def test_a_repeated_token_or_value_is_reported_at_every_occurrence() -> None:
    key = "sk-proj-" + "Zq8" * 6 + "Lm4Rt7Wx2Yp9Kd3Hv6Bn1Cj5"
    value = "Zq8Lm4Rt7Wx2Yp9Kd3hV9kQ2"
    text = f"a = '{key}'\nplaceholder = 'sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n" * 3
    text += f"token = '{value}'\n" * 3
    found = [(m.rule_id, m.secret) for m in find_secrets(text, _PATTERNS)]
    assert found == [("openai-api-key-literal", key)] * 3 + [("secret-assignment-literal", value)] * 3
