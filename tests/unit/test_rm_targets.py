"""`rm -r` of a glob the shell expands to what the rules spell out (rm_targets): the same rule as
the spelled-out target, and the shell gate still sends it to analysis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillscan.analyzers.treesitter.rm_targets import NAMES, RULE_ROOT, RULE_USER_DATA, rm_rule
from skillscan.analyzers.treesitter.sensitive import ThreatContext
from skillscan.analyzers.treesitter.shell_gate import Verdict, plain_verdict, rm_may_hit, spaced
from skillscan.analyzers.treesitter.shell_threats import scan_shell_threats


def _rules(source: str) -> list[str]:
    return [d.rule_id for d in scan_shell_threats(source + "\n", ThreatContext())]


@pytest.mark.parametrize(
    ("statement", "rule"),
    [
        # every visible entry of / or ~: `?*`, `*?`, `[!.]*` are `*`
        ("rm -rf ~/?*", RULE_ROOT),
        ("rm -rf /?*", RULE_ROOT),
        ("rm -rf $HOME/*", RULE_ROOT),
        ("rm -rf $HOME/?*", RULE_ROOT),
        ('rm -rf "$HOME"/?*', RULE_ROOT),
        ("rm -rf ${HOME}/*?", RULE_ROOT),
        ("rm -rf ~/[!.]*", RULE_ROOT),
        ("rm -rf ~/*/", RULE_ROOT),
        ("sudo rm -fr /?*/", RULE_ROOT),
        ("rm -r C:/?*", RULE_ROOT),
        # ... of a system root or /home, and an entry the lists name
        ("rm -rf /etc/?*", RULE_ROOT),
        ("rm -rf /home/?*", RULE_ROOT),
        ("rm -rf /b*", RULE_ROOT),
        ("rm -rf /et?", RULE_ROOT),
        # hidden entries of ~ hold its credentials and OpenClaw state
        ("rm -rf ~/.?*", RULE_USER_DATA),
        ("rm -rf ~/.*", RULE_USER_DATA),
        ("rm -rf ~/.[!.]*", RULE_USER_DATA),
        ("rm -rf ~/.ss?", RULE_USER_DATA),
        ("rm -rf ~/.ssh/?*", RULE_USER_DATA),
        ("rm -rf ~/D*", RULE_USER_DATA),
        ("rm -rf ~/.openclaw/s*", RULE_USER_DATA),
        ("rm -rf ~/.openclaw/skills/?*", RULE_USER_DATA),
        ("rm -rf ~/??*", RULE_USER_DATA),  # not every name (a one-letter one is left): its documents
    ],
)
def test_a_glob_is_judged_as_what_it_expands_to(statement: str, rule: str) -> None:
    assert _rules(statement) == [rule]
    assert plain_verdict(statement.encode()) is Verdict.ANALYSE


@pytest.mark.parametrize(
    "statement",
    [
        "rm -rf ./build/*",
        "rm -f /tmp/x?",
        "rm -rf /tmp/x?",
        "rm -f ~/?*",  # not recursive
        "rm -rf ~/.cache/*",
        "rm -rf ~/*.tmp",
        "rm -rf /*.log",
        "rm -rf ~/.config/foo*",
        "rm -rf /usr?*",  # `?` wants one more character: /usr is not among them
        "rm -rf /root/?*",  # /root itself is judged, not what it holds
        "rm -rf ~/..?*",  # names with two leading dots
        "rm -rf /home/*/.cache",
        "rm -rf ~/x*",
        "rm -rf ./?*",
    ],
)
def test_a_glob_that_expands_to_nothing_the_lists_name_is_clean(statement: str) -> None:
    assert _rules(statement) == []


def test_rm_rule_of_spelled_out_targets_is_unchanged() -> None:
    assert rm_rule("/") == rm_rule("~") == rm_rule("/etc/") == rm_rule("C:") == RULE_ROOT
    assert rm_rule("~/.ssh") == rm_rule("$HOME/Documents/") == RULE_USER_DATA
    assert rm_rule("/tmp") is None and rm_rule("~/x") is None


_FOLDER = st.sampled_from(["/", "~/", "C:/", "/etc/", "/home/", "/root/", "~/.ssh/", "~/.openclaw/",
                           "~/.openclaw/skills/", "/tmp/", "~/Documents/", "./", "~/.cache/", "x/"])  # fmt: skip
_PART = st.one_of(
    st.text("*?.", min_size=1, max_size=4),
    st.sampled_from(NAMES).map(lambda n: n[: len(n) // 2] + "*"),
    st.tuples(st.sampled_from(NAMES), st.integers(0, 8), st.integers(0, 8)).map(
        lambda t: t[0][: t[1]] + "?" + t[0][t[1] + 1 : t[2] + t[1]] + "*"
    ),
    st.text("abcDes.lr?*x6", min_size=1, max_size=6),
)


@settings(max_examples=500, deadline=None)
@given(folder=_FOLDER, part=_PART, slash=st.booleans())
def test_the_gate_sends_every_glob_a_rule_judges_to_analysis(folder: str, part: str, slash: bool) -> None:
    word = folder + part + ("/" if slash else "")
    if rm_rule(word) is not None:
        assert rm_may_hit(spaced(b"rm -rf " + word.encode()))
