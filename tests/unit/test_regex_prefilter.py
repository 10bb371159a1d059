"""Literal prefilters never drop a line their regex matches, and the combined search finds what
each prefilter would find on its own."""

from __future__ import annotations

import random
import re
import string
from dataclasses import replace
from pathlib import Path

import pytest

from skillscan.analyzers.declared_hosts import DeclaredHosts
from skillscan.analyzers.delivery import DeliveryCatalog
from skillscan.analyzers.literal_index import LiteralIndex
from skillscan.analyzers.markdown_doc import parse_markdown
from skillscan.analyzers.prompt import RULES_DIR
from skillscan.analyzers.prompt_engine import Condition, DocContext, PromptRule, literal_index, match_rule
from skillscan.analyzers.prompt_loader import load_rules
from skillscan.analyzers.regex_prefilter import Prefilter, literal_prefilter
from skillscan.normalize import ASCII_FOLD, fold_case

FIXTURES = Path(__file__).resolve().parent.parent / "rules" / "prompt"


def _passes(prefilter: Prefilter, text: str) -> bool:
    return prefilter.search(text, fold_case(text), 0) is not None


@pytest.mark.parametrize(
    ("pattern", "texts"),
    [
        (
            r"(?i)\b(?:send|sync)(?:s|ed|ing)?\s{1,3}to\s{1,3}https?:",
            ["Syncing to http://x", "SEND to https:"],
        ),
        (r"(?i)pass(?:word|phrase)?\s{0,3}[:=]", ["PASS:", "passphrase =", "Password="]),
        (r"(?i)ignore\s{1,3}(?:\w{1,20}\s{1,3}){0,3}instructions", ["IGNORE all prior INSTRUCTIONS"]),
        (r"(?i)\bsecret(?=ly)\w{0,2}", ["Secretly", "ſecretly", "SECRETLY"]),
        (r"(?i)\b(?:kill|disable)\b", ["\u212aill", "dİsable", "dısable"]),
        (r"[Cc]url\s{1,3}-[fsSL]{1,4}", ["curl -fsSL", "Curl -s"]),
        (r"(?:ab){2}c|x{2,3}yz", ["ababc", "xxyz", "xxxyz"]),
        (r"\bcmd(?:\.exe)?\s{1,3}/[ck]\b", ["cmd.exe /c", "cmd /k"]),
        (r"[\u202A-\u202E\u2066-\u2069]", ["a\u202eb", "\u2069"]),
        (
            r"(?<![\U000E0020-\U000E007F])[\U000E0020-\U000E007F]{4,8}",
            ["x\U000e0041\U000e0042\U000e0043\U000e0044"],
        ),
        (r"(?i)\b(?:run|execute)\s{1,3}[`'\"]?(?:curl|wget|bash)\b", ["Run `curl", "EXECUTE 'bash"]),
    ],
)
def test_prefilter_passes_every_match(pattern: str, texts: list[str]) -> None:
    prefilter = literal_prefilter(pattern)
    assert prefilter is not None
    for text in texts:
        assert re.search(pattern, text), text
        assert _passes(prefilter, text), text


def test_prefilter_rejects_lines_without_the_words() -> None:
    prefilter = literal_prefilter(
        r"(?i)\b(?:forward|send)\w{0,3}\s{1,3}(?:\w{1,20}\s{1,3}){0,6}to\s{1,3}<url>"
    )
    assert prefilter is not None
    assert prefilter.literals == frozenset({"<url>"})
    assert not _passes(prefilter, "send the report to the team")


@pytest.mark.parametrize("pattern", [r"\w{1,40}", r"(?i)a|bc", r"^\s{0,3}\|", r"(?i)x?yz?", r"[^a]{3}"])
def test_no_prefilter_without_a_useful_literal(pattern: str) -> None:
    assert literal_prefilter(pattern) is None


def test_ascii_fold_covers_every_case_equivalent_of_an_ascii_letter() -> None:
    everything = "".join(chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF)
    equivalents = {m.group() for m in re.finditer("(?i)[a-z]", everything)}
    assert equivalents == {chr(c) for c in ASCII_FOLD if c > 0x7F}
    for ch in equivalents:
        assert re.fullmatch(f"(?i){ASCII_FOLD[ord(ch)]}", ch)
    sample = "A\u0130b\u0131\u017f\u212a\u00c9\u03a3x\U0001f600"
    assert len(fold_case(sample)) == len(sample)
    assert fold_case(sample)[:6] == "aibisk"


def _fixture_lines() -> list[str]:
    lines = []
    for path in sorted(FIXTURES.glob("*.md")):
        for seg in parse_markdown(path.read_text(encoding="utf-8")).segments:
            lines.extend({seg.raw, seg.text, seg.masked})
    return lines


def _variants(line: str, rng: random.Random) -> list[str]:
    swapped = "".join(c.upper() if rng.random() < 0.5 else c for c in line)
    return [line, line.upper(), swapped, line.replace("s", "\u017f").replace("k", "\u212a")]


def test_every_rule_condition_prefilter_passes_its_matches() -> None:
    rng = random.Random(5)
    lines = [v for line in _fixture_lines() for v in _variants(line, rng)]
    checked = 0
    for rule in load_rules(RULES_DIR):
        for cond in (rule.anchor, *rule.near, *rule.near_any, *rule.not_near):
            if cond.regex is None or cond.prefilter is None:
                continue
            for line in lines:
                if cond.regex.search(line):
                    checked += 1
                    assert _passes(cond.prefilter, line), (rule.meta.id, cond.key, line)
    assert checked > 200  # the fixtures exercise the rules


@pytest.mark.parametrize(
    ("patterns", "exact"),
    [
        # no literal is a prefix of another's: the combined search is exact
        (("send", "ndi", "(?i)ings|dse", "e\\s{1,3}n{3}"), True),
        # prefixes and overlaps: a hit may also stand for a literal it starts (a superset)
        (("send|sending", "ending|end", "din(?:g|e)", "gse", "nde", "(?i)sen[dt]", "ngs|gsen"), False),
    ],
)
def test_combined_search_finds_what_each_prefilter_finds(patterns: tuple[str, ...], exact: bool) -> None:
    prefilters = [literal_prefilter(p) for p in patterns]
    index = LiteralIndex(p for p in prefilters if p is not None)
    rng = random.Random(11)
    for _ in range(300):
        sizes = [rng.choice([rng.randint(0, 12), rng.randint(100, 300)]) for _ in range(5)]  # some dense
        pieces = ["".join(rng.choice("sendigSEND ") for _ in range(n)) for n in sizes]
        text = "\n".join(pieces)
        starts = [sum(len(p) + 1 for p in pieces[:i]) for i in range(len(pieces))]
        found = index.scan(fold_case(text), starts)
        for pf in prefilters:
            assert pf is not None
            slot = index.slot(pf)
            assert slot is not None
            alone = [i for i, p in enumerate(pieces) if _passes(pf, p)]
            assert found[slot] == sorted(set(found[slot]))
            assert set(alone) <= set(found[slot]), (pf.literals, pieces)
            if exact:
                assert found[slot] == alone, (pf.literals, pieces)


def test_combined_search_reads_a_crowded_line_to_its_end() -> None:
    send, ndi = literal_prefilter("send"), literal_prefilter("ndi")
    assert send is not None and ndi is not None
    index = LiteralIndex([send, ndi])
    pieces = ["send " * 50 + "xndi", "ndi", "send"]
    starts = [0, len(pieces[0]) + 1, len(pieces[0]) + len(pieces[1]) + 2]
    found = index.scan(fold_case("\n".join(pieces)), starts)
    assert [found[s] for s in (index.slot(ndi), index.slot(send)) if s is not None] == [[0, 1], [0, 2]]


def _hostile_docs() -> list[str]:
    rng = random.Random(3)
    words = [
        "send",
        "to",
        "https://a.example/x",
        "secretly",
        "install",
        "PASSWORD:",
        "zip",
        "**",
        "<!--",
        "-->",
        "ignore",
        "previous",
        "instructions",
        "run",
        "terminal",
        "paste",
        "\u017fecretly",
        "\n",
        "\n",
        "`",
    ]
    return ["".join(rng.choice(words) + rng.choice(" \n") for _ in range(400)) for _ in range(20)]


def test_rules_find_the_same_lines_with_and_without_prefilters() -> None:
    rules = load_rules(RULES_DIR)
    index = literal_index(rules)
    catalog = DeliveryCatalog.load()
    docs = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.md"))] + _hostile_docs()
    hits = 0
    for text in docs:
        doc = parse_markdown(text)
        fast = DocContext(doc=doc, catalog=catalog, declared=DeclaredHosts(), index=index)
        plain = DocContext(doc=doc, catalog=catalog, declared=DeclaredHosts())
        for rule in rules:
            bare = _without_prefilters(rule)
            a, b = match_rule(rule, fast), match_rule(bare, plain)
            assert (a and (a.segment.line, a.count)) == (b and (b.segment.line, b.count)), rule.meta.id
            hits += a is not None
    assert hits > 20


def _without_prefilters(rule: PromptRule) -> PromptRule:
    def bare(conds: tuple[Condition, ...]) -> tuple[Condition, ...]:
        return tuple(replace(c, prefilter=None) for c in conds)

    return replace(
        rule,
        anchor=replace(rule.anchor, prefilter=None),
        near=bare(rule.near),
        near_any=bare(rule.near_any),
        not_near=bare(rule.not_near),
    )


def test_ascii_letters_are_the_fold_table_keys() -> None:
    assert all(chr(c) in string.ascii_uppercase for c in ASCII_FOLD if c <= 0x7F)
