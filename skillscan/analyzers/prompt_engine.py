"""The markdown rule engine: rules (read by `prompt_loader`) matched against a MarkdownDoc.

The file format is documented at the top of `prompt.py`. Matching is line-oriented and linear:
each segment is tested at most once per condition, and proximity is a binary search over line
numbers. Conditions carry literal prefilters (`regex_prefilter`), all searched in one pass over
the file (`literal_index`), so a regex runs only on the few segments holding a word it needs; a
case-insensitive regex runs as its case-sensitive twin on case-folded text (`regex_casefold`).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from skillscan.analyzers.declared_hosts import DeclaredHosts
from skillscan.analyzers.delivery import DeliveryCatalog
from skillscan.analyzers.literal_index import LiteralIndex
from skillscan.analyzers.markdown_doc import MarkdownDoc, Segment
from skillscan.analyzers.regex_prefilter import Prefilter
from skillscan.analyzers.urls import UrlRef, find_urls
from skillscan.models import RuleMeta
from skillscan.normalize import fold_case


@dataclass(frozen=True)
class UrlCondition:
    classes: frozenset[str] = frozenset()  # any of these (empty: any URL)
    not_classes: frozenset[str] = frozenset()
    path: re.Pattern[str] | None = None
    undeclared: bool = False  # the host is not one the skill declares as its own

    def accepts(self, classes: frozenset[str], url: UrlRef, declared: bool) -> bool:
        if self.classes and not (classes & self.classes):
            return False
        if classes & self.not_classes:
            return False
        if self.undeclared and declared:
            return False
        return self.path is None or self.path.search(url.path) is not None


@dataclass(frozen=True)
class Condition:
    """One matcher: a regex over a text view, or a URL condition, limited to scopes."""

    key: str  # unique within the rule (cache key)
    regex: re.Pattern[str] | None
    url: UrlCondition | None
    scopes: frozenset[str]
    text: str
    within: int
    prefilter: Prefilter | None = None  # literals every regex match contains
    folded: re.Pattern[str] | None = None  # `regex` for case-folded text (regex_casefold)


@dataclass(frozen=True)
class PromptRule:
    meta: RuleMeta
    message: str
    skill_md_only: bool
    decoded: bool  # also run on decoded payloads (virtual files) of markdown files
    anchor: Condition
    near: tuple[Condition, ...] = ()
    near_any: tuple[Condition, ...] = ()
    not_near: tuple[Condition, ...] = ()
    heading: re.Pattern[str] | None = None
    min_count: int = 1


@dataclass(frozen=True)
class RuleHit:
    rule: PromptRule
    segment: Segment
    count: int


@dataclass
class DocContext:
    """Per-file caches shared by all rules: URL classes and per-condition segment verdicts."""

    doc: MarkdownDoc
    catalog: DeliveryCatalog
    declared: DeclaredHosts
    index: Mapping[str, LiteralIndex] | None = None  # per text view, from literal_index(rules)
    _urls: dict[int, list[tuple[UrlRef, frozenset[str], bool]]] | None = None
    _memo: dict[str, bytearray] = field(default_factory=dict)
    _lines: list[int] = field(default_factory=list)
    _joined: dict[str, tuple[str, list[int]]] = field(default_factory=dict)
    _folded: dict[str, str] = field(default_factory=dict)
    _folded_pieces: dict[str, list[str]] = field(default_factory=dict)
    _found: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _scanned: dict[str, list[list[int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lines = [seg.line for seg in self.doc.segments]  # non-decreasing

    def urls(self, index: int) -> list[tuple[UrlRef, frozenset[str], bool]]:
        if self._urls is None:
            self._urls = {}
            for i, seg in enumerate(self.doc.segments):
                if "://" in seg.norm:
                    self._urls[i] = [
                        (u, self.catalog.classify(u), self.declared.declares(u)) for u in find_urls(seg.norm)
                    ]
        return self._urls.get(index, [])

    def candidates(self, cond: Condition) -> list[int] | None:
        """Indices (ascending) of the segments that may match `cond`; None when any may."""
        if cond.url is not None:
            self.urls(0)
            assert self._urls is not None
            return list(self._urls)
        if cond.prefilter is None:
            return None
        if cond.prefilter.non_ascii and self.doc.ascii:
            return []
        index = self.index.get(cond.text) if self.index is not None else None
        slot = index.slot(cond.prefilter) if index is not None else None
        if slot is not None:
            assert index is not None
            scanned = self._scanned.get(cond.text)
            if scanned is None:
                starts = self._joined_view(cond.text)[1]
                scanned = self._scanned[cond.text] = index.scan(self._folded_view(cond.text), starts)
            return scanned[slot]
        key = (cond.prefilter.pattern.pattern, cond.text)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = self._search(cond.prefilter, cond.text)
        return found

    def _joined_view(self, view: str) -> tuple[str, list[int]]:
        """The segments' `view` texts joined by newlines, with each segment's start offset."""
        joined = self._joined.get(view)
        if joined is None:
            texts = [_view(seg, view) for seg in self.doc.segments]
            starts = list(itertools.accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
            joined = self._joined[view] = ("\n".join(texts), starts)
        return joined

    def _folded_view(self, view: str) -> str:
        folded = self._folded.get(view)
        if folded is None:
            folded = self._folded[view] = fold_case(self._joined_view(view)[0])
        return folded

    def folded_segments(self, view: str) -> list[str] | None:
        """Each segment's `view` text case-folded (one fold of the whole file), or None."""
        pieces = self._folded_pieces.get(view)
        if pieces is None:
            pieces = self._folded_pieces[view] = self._folded_view(view).split("\n")
        return pieces if len(pieces) == len(self._lines) else None

    def _search(self, prefilter: Prefilter, view: str) -> list[int]:
        """Segments holding a prefilter literal: one search per hit segment, resumed after it."""
        text, starts = self._joined_view(view)
        folded = self._folded_view(view) if prefilter.folded else ""
        found: list[int] = []
        pos = 0
        while (m := prefilter.search(text, folded, pos)) is not None:
            i = bisect.bisect_right(starts, m.start()) - 1
            found.append(i)
            if i + 1 >= len(starts):
                break
            pos = starts[i + 1]
        return found

    def near(self, rule_id: str, cond: Condition, line: int) -> bool:
        """Whether `cond` matches a segment within `cond.within` lines of `line`. Each segment is
        tested at most once per condition, so a rule stays linear however many anchors it has."""
        memo = self._memo.get(f"{rule_id}/{cond.key}")
        if memo is None:
            memo = self._memo[f"{rule_id}/{cond.key}"] = self._fresh_memo(cond)
        lo = bisect.bisect_left(self._lines, line - cond.within)
        hi = bisect.bisect_right(self._lines, line + cond.within)
        if memo.find(1, lo, hi) != -1:  # the window's states are read in C, not one by one
            return True
        segments = self.doc.segments
        i = memo.find(0, lo, hi)
        while i != -1:
            if _segment_matches(self, i, segments[i], cond):
                memo[i] = 1
                return True
            memo[i] = 2
            i = memo.find(0, i + 1, hi)
        return False

    def _fresh_memo(self, cond: Condition) -> bytearray:
        """0 = untested, 1 = matches, 2 = does not; segments the prefilter rules out start at 2."""
        found = self.candidates(cond)
        if found is None:
            return bytearray(len(self._lines))
        memo = bytearray(b"\x02") * len(self._lines)
        for i in found:
            memo[i] = 0
        return memo


def _view(seg: Segment, text: str) -> str:
    return seg.masked if text == "masked" else seg.text if text == "normalized" else seg.raw


def _segment_matches(ctx: DocContext, index: int, seg: Segment, cond: Condition) -> bool:
    if seg.scope not in cond.scopes:
        return False
    if cond.regex is not None:
        folded = ctx.folded_segments(cond.text) if cond.folded is not None else None
        if folded is not None:
            assert cond.folded is not None
            return cond.folded.search(folded[index]) is not None
        return cond.regex.search(_view(seg, cond.text)) is not None
    assert cond.url is not None
    return any(cond.url.accepts(classes, u, declared) for u, classes, declared in ctx.urls(index))


def match_rule(rule: PromptRule, ctx: DocContext) -> RuleHit | None:
    """The first anchor line that satisfies every condition, with the count of such lines."""
    first: Segment | None = None
    hits: set[int] = set()
    rid = rule.meta.id
    segments = ctx.doc.segments
    anchor = rule.anchor
    found = ctx.candidates(anchor)
    # a regex anchor's verdict depends on the segment's scope and text alone: a line repeated
    # thousands of times is searched once
    seen: dict[tuple[str, str], bool] | None = {} if anchor.regex is not None else None
    for i in range(len(segments)) if found is None else found:
        seg = segments[i]
        if seg.line in hits:
            continue
        if seen is None:
            matched = _segment_matches(ctx, i, seg, anchor)
        else:
            key = (seg.scope, _view(seg, anchor.text))
            known = seen.get(key)
            matched = seen[key] = _segment_matches(ctx, i, seg, anchor) if known is None else known
        if not matched:
            continue
        if rule.heading is not None and not any(rule.heading.search(h) for h in seg.headings):
            continue
        if not all(ctx.near(rid, c, seg.line) for c in rule.near):
            continue
        if rule.near_any and not any(ctx.near(rid, c, seg.line) for c in rule.near_any):
            continue
        if any(ctx.near(rid, c, seg.line) for c in rule.not_near):
            continue
        hits.add(seg.line)
        first = first or seg
    if first is None or len(hits) < rule.min_count:
        return None
    return RuleHit(rule=rule, segment=first, count=len(hits))


def literal_index(rules: Iterable[PromptRule]) -> dict[str, LiteralIndex]:
    """Per text view, one combined literal search for the prefilters of `rules` that read it
    (pass it to DocContext)."""
    by_view: dict[str, list[Prefilter]] = {}
    for r in rules:
        for c in (r.anchor, *r.near, *r.near_any, *r.not_near):
            if c.prefilter is not None:
                by_view.setdefault(c.text, []).append(c.prefilter)
    return {view: LiteralIndex(prefilters) for view, prefilters in by_view.items()}
