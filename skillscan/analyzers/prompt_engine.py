"""The markdown rule engine: rule files loaded from YAML and matched against a MarkdownDoc.

The file format is documented at the top of `prompt.py`. Matching is line-oriented and linear:
each segment is tested at most once per condition, and proximity is a binary search over line
numbers. Conditions carry literal prefilters (`regex_prefilter`), all searched in one pass over
the file (`literal_index`), so a regex runs only on the few segments holding a word it needs.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from skillscan.analyzers.delivery import DeclaredHosts, DeliveryCatalog, UrlRef, find_urls
from skillscan.analyzers.literal_index import LiteralIndex
from skillscan.analyzers.markdown_doc import SCOPES, MarkdownDoc, Segment
from skillscan.analyzers.regex_prefilter import Prefilter, literal_prefilter
from skillscan.analyzers.regex_safety import compile_bounded
from skillscan.errors import RuleError
from skillscan.models import Category, Confidence, RuleMeta, RuleStatus, Severity
from skillscan.normalize import fold_case
from skillscan.rules import load_yaml

ENGINE = "prompt"
TEXT_VIEWS = frozenset({"masked", "normalized", "raw"})
DEFAULT_SCOPES = frozenset({"frontmatter", "heading", "prose"})
_RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_KEYS = {
    "id", "category", "severity", "confidence", "description", "status", "message", "files", "scope",
    "text", "match", "near", "near_any", "not_near", "heading", "min_count", "decoded",
}  # fmt: skip
_COND_KEYS = {"regex", "phrases", "url", "within", "scope", "text"}


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
        segments = self.doc.segments
        for i in range(lo, hi):
            state = memo[i]
            if state == 0:
                state = memo[i] = 1 if _segment_matches(self, i, segments[i], cond) else 2
            if state == 1:
                return True
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
        return cond.regex.search(_view(seg, cond.text)) is not None
    assert cond.url is not None
    return any(cond.url.accepts(classes, u, declared) for u, classes, declared in ctx.urls(index))


def match_rule(rule: PromptRule, ctx: DocContext) -> RuleHit | None:
    """The first anchor line that satisfies every condition, with the count of such lines."""
    first: Segment | None = None
    hits: set[int] = set()
    rid = rule.meta.id
    segments = ctx.doc.segments
    found = ctx.candidates(rule.anchor)
    for i in range(len(segments)) if found is None else found:
        seg = segments[i]
        if seg.line in hits or not _segment_matches(ctx, i, seg, rule.anchor):
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


# ---------------------------------------------------------------- loading


def load_rules(rules_dir: Path) -> list[PromptRule]:
    if not rules_dir.is_dir():
        raise RuleError(f"prompt rules folder not found: {rules_dir}")
    rules = [load_rule_file(p) for p in sorted(rules_dir.glob("*.yaml"))]
    seen: set[str] = set()
    for r in rules:
        if r.meta.id in seen:
            raise RuleError(f"duplicate prompt rule id {r.meta.id}")
        seen.add(r.meta.id)
    return rules


def load_rule_file(path: Path) -> PromptRule:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise RuleError(f"{path.name}: {e}") from e
    if not isinstance(data, dict):
        raise RuleError(f"{path.name}: a rule file must be a mapping")
    rule = parse_rule(data, path.name)
    if rule.meta.id != path.stem:
        raise RuleError(f"{path.name}: id {rule.meta.id!r} must equal the file name")
    return rule


def parse_rule(data: Mapping[str, Any], where: str) -> PromptRule:
    unknown = set(data) - _KEYS
    if unknown:
        raise RuleError(f"{where}: unknown keys {sorted(unknown)}")
    rid = str(data.get("id", ""))
    if not _RULE_ID.match(rid):
        raise RuleError(f"{where}: id must be lowercase kebab-case")
    try:
        meta = RuleMeta(
            id=rid,
            engine=ENGINE,
            category=Category(data["category"]),
            severity=Severity(data["severity"]),
            confidence=Confidence(data["confidence"]),
            description=" ".join(str(data["description"]).split()),
            status=RuleStatus(data.get("status", "stable")),
        )
    except (KeyError, ValueError) as e:
        raise RuleError(f"{where}: bad or missing metadata: {e}") from e
    scopes = _scopes(data.get("scope"), DEFAULT_SCOPES, where)
    text = str(data.get("text", "masked"))
    if text not in TEXT_VIEWS:
        raise RuleError(f"{where}: text must be one of {sorted(TEXT_VIEWS)}")
    files = str(data.get("files", "markdown"))
    if files not in {"markdown", "skill-md"}:
        raise RuleError(f"{where}: files must be markdown or skill-md")
    if "match" not in data:
        raise RuleError(f"{where}: a rule needs a match")
    heading = data.get("heading")
    min_count = int(data.get("min_count", 1))
    if not 1 <= min_count <= 1000:
        raise RuleError(f"{where}: min_count out of range")
    return PromptRule(
        meta=meta,
        message=" ".join(str(data.get("message") or meta.description).split()),
        skill_md_only=files == "skill-md",
        decoded=bool(data.get("decoded", False)),
        anchor=_condition(data["match"], "match", scopes, text, 0, where),
        near=_conditions(data.get("near"), "near", scopes, text, where),
        near_any=_conditions(data.get("near_any"), "near_any", scopes, text, where),
        not_near=_conditions(data.get("not_near"), "not_near", scopes, text, where),
        heading=compile_bounded(str(heading), f"{where}: heading") if heading else None,
        min_count=min_count,
    )


def _scopes(value: Any, default: frozenset[str], where: str) -> frozenset[str]:
    if value is None:
        return default
    items = frozenset([value] if isinstance(value, str) else value)
    if not items or not items <= SCOPES:
        raise RuleError(f"{where}: scope must be a subset of {sorted(SCOPES)}")
    return items


def _conditions(
    value: Any, name: str, scopes: frozenset[str], text: str, where: str
) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RuleError(f"{where}: {name} must be a list")
    return tuple(_condition(v, f"{name}{i}", scopes, text, 3, where) for i, v in enumerate(value))


def _condition(value: Any, key: str, scopes: frozenset[str], text: str, within: int, where: str) -> Condition:
    if not isinstance(value, dict):
        raise RuleError(f"{where}: {key} must be a mapping")
    unknown = set(value) - _COND_KEYS
    if unknown:
        raise RuleError(f"{where}: {key}: unknown keys {sorted(unknown)}")
    kinds = [k for k in ("regex", "phrases", "url") if k in value]
    if len(kinds) != 1:
        raise RuleError(f"{where}: {key} needs exactly one of regex, phrases, url")
    regex: re.Pattern[str] | None = None
    url: UrlCondition | None = None
    if "regex" in value:
        regex = compile_bounded(str(value["regex"]), f"{where}: {key}")
    elif "phrases" in value:
        phrases = value["phrases"]
        if not isinstance(phrases, list) or not phrases:
            raise RuleError(f"{where}: {key}: phrases must be a non-empty list")
        alternation = "|".join(_phrase_regex(str(p)) for p in phrases)
        regex = compile_bounded(rf"(?i)(?<!\w)(?:{alternation})(?!\w)", f"{where}: {key}")
    else:
        url = _url_condition(value["url"], f"{where}: {key}")
    view = str(value.get("text", text))
    if view not in TEXT_VIEWS:
        raise RuleError(f"{where}: {key}: text must be one of {sorted(TEXT_VIEWS)}")
    within = int(value.get("within", within))
    if not 0 <= within <= 200:
        raise RuleError(f"{where}: {key}: within must be 0..200 lines")
    return Condition(
        key=key,
        regex=regex,
        url=url,
        scopes=_scopes(value.get("scope"), scopes, where),
        text=view,
        within=within,
        prefilter=literal_prefilter(regex.pattern) if regex is not None else None,
    )


def _phrase_regex(phrase: str) -> str:
    """A literal phrase whose spaces match up to three whitespace characters."""
    return r"\s{1,3}".join(re.escape(w) for w in phrase.split())


def _url_condition(value: Any, where: str) -> UrlCondition:
    if not isinstance(value, dict):
        raise RuleError(f"{where}: url must be a mapping")
    unknown = set(value) - {"class", "not_class", "path", "undeclared"}
    if unknown:
        raise RuleError(f"{where}: url: unknown keys {sorted(unknown)}")

    def names(v: Any) -> frozenset[str]:
        if v is None:
            return frozenset()
        return frozenset([v] if isinstance(v, str) else [str(x) for x in v])

    path = value.get("path")
    return UrlCondition(
        classes=names(value.get("class")),
        not_classes=names(value.get("not_class")),
        path=compile_bounded(str(path), f"{where}: url path") if path else None,
        undeclared=bool(value.get("undeclared", False)),
    )
