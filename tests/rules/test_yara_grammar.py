"""YARA strings shaped for the matcher's speed match exactly what their plain grammar matches.

Some shipped strings are written for YARA's matcher (fewer matcher threads on hostile floods)
rather than in the plainest form. Each test here states the plain grammar as a Python regex and
checks, on generated text built from the grammar's own pieces, that the shipped rule fires exactly
where the grammar matches, with the same first offset and text (what a finding reports).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yara
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

RULES = Path(__file__).resolve().parents[2] / "yara_rules"
PROFILE = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The plain grammars (the strings in their plainest form; Python's bytes regexes read \s, \b, \d
# and IGNORECASE as YARA does on ASCII).
MINER_RUN = re.compile(
    rb"""\b(xmrig|xmr-stak|cpuminer|minerd|ethminer|nbminer|lolminer|phoenixminer|srbminer|teamredminer"""
    rb"""|nanominer|bzminer)(-[a-z0-9]{1,8})?[.'"\s](exe)?['"]?\s{0,3}"""
    rb"""-(-(url|config|donate-level|user|coin|algo|pool|wallet|background)|[ocuaB])[\s='"]""",
    re.IGNORECASE,
)
MINER_RELEASE = re.compile(
    rb"\b(xmrig|xmr-stak|cpuminer-opt|lolminer|nbminer|srbminer-multi|t-rex|teamredminer)"
    rb"[-_]v?[0-9]{1,2}\.[0-9]{1,2}",
    re.IGNORECASE,
)
MINER_CONFIG = re.compile(rb'"donate-level"\s{0,3}:\s{0,3}\d')
APPROVAL_CLI = re.compile(
    rb"""openclaw\s{1,3}(approvals|exec-approvals|exec-policy)\s{1,3}(set|preset)"""
    rb"""(\s{1,3}--?[a-z\-]{1,20}){0,3}(=|\s{1,3})\s{0,3}(--?)?['"]?(full|off|yolo|never)\b""",
    re.IGNORECASE,
)


def _rule(name: str) -> yara.Rules:
    return yara.compile(filepath=str(RULES / f"{name}.yar"))


MINER = _rule("cryptominer-miner-invocation")
APPROVAL = _rule("agent-exec-approval-bypass")


def _first(text: bytes, patterns: list[re.Pattern[bytes]]) -> tuple[int, bytes] | None:
    found = [m for p in patterns if (m := p.search(text))]
    if not found:
        return None
    first = min(found, key=lambda m: m.start())
    return first.start(), first.group(0)


def _yara_first(rules: yara.Rules, text: bytes, only: str | None = None) -> tuple[int, bytes] | None:
    # as the analyzer matches (fast mode) and picks a finding's evidence (the earliest instance)
    instances = [
        i
        for m in rules.match(data=text, fast=True)
        for s in m.strings
        if only is None or s.identifier == only
        for i in s.instances
    ]
    if not instances:
        return None
    first = min(instances, key=lambda i: i.offset)
    return first.offset, first.matched_data


def _mixed_case(word: str, flips: list[bool]) -> str:
    return "".join(c.upper() if f else c for c, f in zip(word, flips + [False] * len(word), strict=False))


def _word(words: list[str]) -> st.SearchStrategy[str]:
    return st.builds(_mixed_case, st.sampled_from(words), st.lists(st.booleans(), max_size=14))


_ws = st.text(alphabet=" \t\n\r\x0b\x0c", max_size=7)

# -- miner invocation ------------------------------------------------------------------------
_names = _word(
    ["xmrig", "xmr-stak", "cpuminer", "minerd", "ethminer", "nbminer", "lolminer", "phoenixminer",
     "srbminer", "teamredminer", "nanominer", "bzminer", "cpuminer-opt", "srbminer-multi", "t-rex",
     "xmri", "miner", "t-re"]
)  # fmt: skip
_suffix = st.one_of(st.just(""), st.text(alphabet="a9Z-_.", max_size=10).map(lambda s: "-" + s))
_option = _word(
    ["o", "c", "u", "a", "B", "x", "-url", "-config", "-donate-level", "-user", "-coin", "-algo", "-pool",
     "-wallet", "-background", "-urls", "-foo", ""]
).map(lambda s: "-" + s)  # fmt: skip
_run = st.tuples(
    _names,
    _suffix,
    st.sampled_from([".", "'", '"', " ", "\t", "\n", "", "=", "-"]),
    st.sampled_from(["", "exe", "EXE", "ex"]),
    st.sampled_from(["", "'", '"']),
    _ws,
    _option,
    st.sampled_from([" ", "=", "'", '"', "\n", "", "x", "-"]),
).map("".join)
_release = st.tuples(
    _names,
    st.sampled_from(["-", "_", "", "."]),
    st.sampled_from(["", "v", "V"]),
    st.text(alphabet="0123456789", max_size=3),
    st.sampled_from([".", "", ","]),
    st.text(alphabet="0123456789", max_size=3),
).map("".join)
_config = st.tuples(
    st.sampled_from(['"donate-level"', "'donate-level'"]),
    _ws,
    st.sampled_from([":", "="]),
    _ws,
    st.sampled_from("1x"),
).map("".join)
_filler = st.sampled_from(["", " ", "/", "./", "-", "a", "\n", "$ "])
_miner_text = st.lists(
    st.tuples(_filler, st.one_of(_run, _release, _config)).map("".join), min_size=1, max_size=3
)


@pytest.mark.parametrize(
    "text",
    [
        "xmrig-abcdefgh -o pool",  # suffix of 8: a run
        "xmrig-abcdefghi -o pool",  # suffix of 9: not one
        "bzminer.exe --donate-level 1",
        "teamredminer-v1.2",
        "cpuminer-opt-3.24",
        "cpuminer-multi-3.2",  # not a release name
        "t-rex_0.26",
        "srbminer-multi -o x",  # srbminer with the suffix -multi, run with an option
    ],
)
def test_miner_boundaries(text: str) -> None:
    data = text.encode()
    assert _yara_first(MINER, data) == _first(data, [MINER_RUN, MINER_RELEASE, MINER_CONFIG])


@PROFILE
@example(["xmrig-xmrig-xmrig-abcdefgh -u x"])
@given(_miner_text)
def test_miner_invocation_matches_its_grammar(parts: list[str]) -> None:
    data = "".join(parts).encode()
    assert _yara_first(MINER, data) == _first(data, [MINER_RUN, MINER_RELEASE, MINER_CONFIG])


# -- exec approval bypass (CLI form) -----------------------------------------------------------
def _option_name(chars: str, value: str, at: int) -> str:
    at = min(at, len(chars))
    return chars[:at] + value + chars[at:]


_option_word = st.builds(
    _option_name,
    st.text(alphabet="abyz-_9", max_size=24),
    st.sampled_from(["", "", "", "full", "off", "yolo", "never", "full-", "offx"]),
    st.integers(min_value=0, max_value=24),
)
_approval_option = st.tuples(
    _ws, st.sampled_from(["-", "--", "---", ""]), _option_word, st.sampled_from(["", "", "=", ":"])
).map("".join)
_approval = st.tuples(
    _word(["openclaw", "openclw"]),
    _ws,
    _word(["approvals", "exec-approvals", "exec-policy", "approval"]),
    _ws,
    _word(["set", "preset", "reset"]),
    st.lists(_approval_option, max_size=4).map("".join),
    _ws,
    st.sampled_from(["", "", "'", '"', "=", "= "]),
    _word(["full", "off", "yolo", "never", "fully", "of", "ask"]),
    st.sampled_from(["", " ", "x", "-", "_", "1", "'"]),
).map("".join)


@pytest.mark.parametrize(
    "text",
    [
        "openclaw approvals set --a --b --c full",  # three options
        "openclaw approvals set --a --b --c --d full",  # four: not a match
        "openclaw approvals set --" + "a" * 20 + " off",  # "--" and 20 letters
        "openclaw approvals set --" + "a" * 21 + " off",  # one more
        "openclaw approvals set -" + "a" * 20 + " off",
        "openclaw approvals set -" + "a" * 21 + " off",
        "openclaw approvals set --mode=yolo",
        "openclaw approvals set --x      never",  # six spaces after an option
        "openclaw approvals set --x       never",  # seven
        "openclaw approvals set    full",  # three spaces after set
        "openclaw approvals set     full",  # four
        "openclaw approvals set --x =  off",
        "openclaw approvals set --full",  # the value as a flag
        "openclaw exec-policy preset --yes-full-auto",  # a value inside an option name: no value
        "openclaw approvals setfull",
        "OpenClaw approvals set --yes --mode='off'",
    ],
)
def test_approval_boundaries(text: str) -> None:
    data = text.encode()
    assert _yara_first(APPROVAL, data, only="$cli2") == _first(data, [APPROVAL_CLI])


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("openclaw approvals set --mode=full", True),
        ("openclaw exec-approvals set -y --yolo", True),
        ("openclaw exec-policy preset never", True),
        ("openclaw exec-policy preset --offline-cache", False),
        ("openclaw approvals presetoff", False),
    ],
)
def test_approval_value_is_a_word_of_its_own(text: str, fires: bool) -> None:
    assert (_yara_first(APPROVAL, text.encode(), only="$cli2") is not None) is fires


@PROFILE
@given(st.lists(st.tuples(_filler, _approval).map("".join), min_size=1, max_size=3))
def test_approval_cli_matches_its_grammar(parts: list[str]) -> None:
    data = "".join(parts).encode()
    assert _yara_first(APPROVAL, data, only="$cli2") == _first(data, [APPROVAL_CLI])
