"""Prompt rule files (YAML, format documented in `prompt.py`) parsed into `PromptRule`s.

Every regex is checked for bounded repetition (`regex_safety`) and given its literal prefilter
(`regex_prefilter`) and case-folded twin (`regex_casefold`) once, at load time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skillscan.analyzers.markdown_doc import SCOPES
from skillscan.analyzers.prompt_engine import Condition, PromptRule, UrlCondition
from skillscan.analyzers.regex_casefold import casefolded
from skillscan.analyzers.regex_prefilter import literal_prefilter
from skillscan.analyzers.regex_safety import compile_bounded
from skillscan.errors import RuleError
from skillscan.rules import load_rule_data, meta_from_mapping

ENGINE = "prompt"
TEXT_VIEWS = frozenset({"masked", "normalized", "raw"})
DEFAULT_SCOPES = frozenset({"frontmatter", "heading", "prose"})
_RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_KEYS = {
    "id", "category", "severity", "confidence", "description", "status", "message", "files", "scope",
    "text", "match", "near", "near_any", "not_near", "heading", "min_count", "decoded",
}  # fmt: skip
_COND_KEYS = {"regex", "phrases", "url", "within", "scope", "text"}


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
    rule = parse_rule(load_rule_data(path, ENGINE, ()), path.name)
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
    meta = meta_from_mapping(rid, ENGINE, {"status": "stable", **data}, where)
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
        folded=casefolded(regex) if regex is not None else None,
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
