"""A case-insensitive regex recompiled for case-folded text finds exactly the spans it did."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from skillscan.analyzers.markdown_doc import parse_markdown
from skillscan.analyzers.prompt import RULES_DIR
from skillscan.analyzers.prompt_loader import load_rules
from skillscan.analyzers.regex_casefold import casefolded
from skillscan.normalize import fold_case

FIXTURES = Path(__file__).resolve().parent.parent / "rules" / "prompt"
# Every character IGNORECASE treats specially next to ASCII ones, plus cased and uncased others.
TRICKY = (
    "AaKkSsIi\u0130\u0131\u017f\u212a\u00c9\u00e9\u03a3\u03c3\u03c2\u1e9e\u00df \n\t-_.:'\"`\u201c\U0001f600"
)


def _spans(rx: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in rx.finditer(text)]


def _same(pattern: str, text: str) -> None:
    original = re.compile(pattern)
    folded = casefolded(original)
    assert folded is not None, pattern
    assert _spans(folded, fold_case(text)) == _spans(original, text), (pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"(?i)\bpass(?:word|)\s{0,3}[:=]", "PASSWORD: x, Pa\u017f\u017f= y, pass"),
        (r"(?i)[A-Z]{2}[^a-z]", "ab1 AB2 Ab\u00c9 \u212ak!"),
        (r"(?i)[G-z]+", "abcXYZ[]^_ FGH"),
        (r"(?i)\u201c\s{0,2}ignore", "\u201c IGNORE"),
        (r"(?i)(?<![\w.])disable\w{0,3}(?!\w)", "x.disabled DISABLE d\u0131sable"),
        (r"(?i)[\U000E0020-\U000E007F]{2}k", "\U000e0041\U000e0042K"),
    ],
)
def test_same_spans(pattern: str, text: str) -> None:
    _same(pattern, text)


@pytest.mark.parametrize(
    "pattern",
    [
        r"pass",  # already case-sensitive
        r"(?i)caf\u00e9",  # a cased letter outside ASCII
        r"(?i)(ab)\1",  # back-reference
        r"(?i)a(?-i:b)",  # case flags inside
        r"(?ai)k",  # ASCII-only case folding differs
        r"(?i)[\u0370-\u03ff]",  # a range of cased letters
    ],
)
def test_gives_up_when_unsure(pattern: str) -> None:
    assert casefolded(re.compile(pattern)) is None


def test_every_shipped_case_insensitive_condition_keeps_its_matches() -> None:
    rng = random.Random(9)
    lines: list[str] = []
    for path in sorted(FIXTURES.glob("*.md")):
        for seg in parse_markdown(path.read_text(encoding="utf-8")).segments:
            for line in (seg.raw, seg.masked):
                swapped = "".join(c.upper() if rng.random() < 0.5 else c for c in line)
                lines += [line, line.upper(), swapped, line.replace("s", "\u017f").replace("k", "\u212a")]
    folded_lines = [fold_case(line) for line in lines]
    checked = 0
    for rule in load_rules(RULES_DIR):
        for cond in (rule.anchor, *rule.near, *rule.near_any, *rule.not_near):
            if cond.regex is None or cond.folded is None:
                continue
            for line, folded in zip(lines, folded_lines, strict=True):
                assert _spans(cond.folded, folded) == _spans(cond.regex, line), (rule.meta.id, cond.key, line)
                checked += 1
    assert checked > 10_000


def _random_pattern(rng: random.Random, depth: int = 0) -> str:
    atoms = [
        lambda: rng.choice("aAkKsSiIzZ-_ 1"),
        lambda: rng.choice([r"\w", r"\W", r"\s", r"\d", r"\b", "."]),
        lambda: (
            "["
            + rng.choice(["", "^"])
            + rng.choice(["a-f", "A-F", "G-z", "k", "S", r"\w", "0-9", "-_"])
            + "]"
        ),
        lambda: (
            "(?:" + "|".join(_random_pattern(rng, depth + 1) for _ in range(2)) + ")" if depth < 2 else "a"
        ),
        lambda: "(?=" + rng.choice(["k", "S", r"\w"]) + ")",
        lambda: "(?<!" + rng.choice(["k", "S", r"\w", "[a-z]"]) + ")",
    ]
    parts = []
    for _ in range(rng.randint(1, 4)):
        part = rng.choice(atoms)()
        quantifiable = not part.startswith("(?")  # no repeated groups: they backtrack exponentially
        parts.append(part + rng.choice(["", "", "?", "{1,3}", "{0,2}"]) if quantifiable else part)
    return "".join(parts)


def test_random_patterns_on_tricky_text() -> None:
    rng = random.Random(4)
    for _ in range(400):
        pattern = "(?i)" + _random_pattern(rng)
        texts = ["".join(rng.choice(TRICKY) for _ in range(rng.randint(0, 30))) for _ in range(10)]
        try:
            re.compile(pattern)
        except re.error:
            continue
        for text in texts:
            _same(pattern, text)
