"""How tree-sitter checks plug in (bandit's model).

A check module in this package exposes ``CHECKS``, a list of any of:
- `NodeCheck`: registered by (language, node type). The analyzer walks each file's tree once
  (`syntax_walk`, shared with every check that reads the file's nodes) and hands every node of a
  registered type to its checks, in document order. Preferred: N checks cost one traversal, not N.
- `FileCheck`: called once per file of its languages with the shared, lazily parsed tree (for
  checks that need their own traversal order, e.g. pipelines).
- `SkillCheck`: called once per skill, for flows across files.
Rule metadata is data: every ``*.yaml`` file beside the modules maps rule ids to
``{category, severity, confidence, description, status}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import yaml
from tree_sitter import Node, Tree

from skillscan.analyzers.declared_hosts import DeclaredHosts
from skillscan.analyzers.delivery import DeliveryCatalog
from skillscan.analyzers.host_policy import HostPolicy
from skillscan.analyzers.treesitter.parsing import parse
from skillscan.analyzers.treesitter.sensitive import ThreatContext
from skillscan.errors import RuleError
from skillscan.models import FileKind, RuleMeta, RuleStatus, Severity, Skill, SkillFile
from skillscan.rules import load_yaml, meta_from_mapping

ENGINE = "treesitter"
PACKAGE_DIR = Path(__file__).resolve().parent
# Findings kept per rule and reported file: thousands of identical hits are counted, not listed
# (the engine adds a note with the count). Checks that can flood may stop listing at this many.
MAX_FINDINGS_PER_RULE_FILE = 20


@cache  # read once per process: the analyzer and `saturating_rules` share it
def load_rule_metadata() -> Mapping[str, RuleMeta]:
    metas: dict[str, RuleMeta] = {}
    for path in sorted(PACKAGE_DIR.glob("*.yaml")):
        try:
            doc: dict[str, Any] = load_yaml(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise RuleError(f"{path}: {e}") from e
        for rule_id, meta in doc.items():
            if rule_id in metas:
                raise RuleError(f"{path}: rule {rule_id!r} is defined twice")
            metas[rule_id] = meta_from_mapping(rule_id, ENGINE, meta, str(path))
    return MappingProxyType(metas)


@cache
def saturating_rules() -> frozenset[str]:
    """Stable critical rules: once a check has listed MAX_FINDINGS_PER_RULE_FILE findings of one of
    them in a file, the rest of the file cannot make its verdict any worse (`FileContext.saturate`)."""
    return frozenset(
        m.id
        for m in load_rule_metadata().values()
        if m.severity is Severity.CRITICAL and m.status is RuleStatus.STABLE
    )


class FindingCap:
    """At most `limit` findings of a rule in one file (the first ones; repeats of a rule, path and
    line are dropped as the report would); the rest are counted into one note. Other rules of the
    file keep their own allowance. The engine keeps one per skill; a check that floods keeps its
    own, to stop building evidence for findings that would not be listed."""

    def __init__(self, limit: int = MAX_FINDINGS_PER_RULE_FILE) -> None:
        self.limit = limit
        self._kept: dict[tuple[str, str], int] = {}
        self._more: dict[tuple[str, str], int] = {}
        self._seen: set[tuple[str, str, int | None]] = set()

    def admit(self, rule_id: str, path: str, line: int | None, more: int = 0) -> bool:
        key = (rule_id, path)
        if more:
            self._more[key] = self._more.get(key, 0) + more
        if (rule_id, path, line) in self._seen:
            return False
        kept = self._kept.get(key, 0)
        if kept >= self.limit:
            self._more[key] = self._more.get(key, 0) + 1
            return False
        self._seen.add((rule_id, path, line))
        self._kept[key] = kept + 1
        return True

    def notes(self) -> tuple[str, ...]:
        return tuple(
            f"{rule_id}: {n:,} more match{'' if n == 1 else 'es'} in {path} not listed "
            f"(first {self._kept.get((rule_id, path), 0)} reported)"
            for (rule_id, path), n in self._more.items()
        )


@dataclass(frozen=True, slots=True)
class Hit:
    """A detection before it becomes a Finding. `line` is 1-based in the text the check saw."""

    rule_id: str
    line: int | None
    evidence: str
    message: str | None = None  # defaults to the rule's description
    path: str | None = None  # only for SkillChecks: the skill file (`SkillFile.path`) the hit is in
    more: int = 0  # further matches of this rule in this text that the check counted, not listed


@dataclass
class FileContext:
    file: SkillFile
    skill: SkillContext
    # Where analysis of this file stopped short (a node budget, nesting depth), by cause: each is
    # reported as a scan error, so code no check has seen cannot make the verdict clean.
    shortfalls: dict[str, str] = field(default_factory=dict)
    # what checks compute once per file and reuse (the shared walk, the flow index), by module name
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return self.file.text or ""

    def fall_short(self, cause: str, detail: str) -> None:
        """Record that part of this file went unchecked (once per cause, however many checks hit it)."""
        where = f"{self.file.path}: " if self.file.virtual is not None else ""
        self.shortfalls.setdefault(cause, where + detail)

    def saturate(self, check: str, rule_id: str) -> None:
        """`check` stops analysing this file: it has listed as many findings of the critical
        `rule_id` as a report keeps (`saturating_rules`). What it did not read cannot make the verdict
        worse, so a hostile flood of real hits costs no more than its first ones; it is reported as
        a shortfall all the same, so that suppressing those findings can never leave a clean verdict
        over code no check has read."""
        self.fall_short(
            f"saturated:{check}",
            f"{check} stopped after {MAX_FINDINGS_PER_RULE_FILE} findings of {rule_id}; "
            "the rest of the file was not analysed by it",
        )

    @cached_property
    def tree(self) -> Tree | None:
        return parse(self.file.kind, self.source)


@dataclass
class SkillContext:
    skill: Skill
    catalog: DeliveryCatalog
    files: list[FileContext] = field(default_factory=list)  # one per parsable file, parsed lazily once
    # what a check computes once per skill and reuses for each of its files, under the check's name
    shared: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def host_policy(self) -> HostPolicy:
        declared = DeclaredHosts.of(self.skill)
        return HostPolicy(self.catalog, declared)

    @cached_property
    def threat(self) -> ThreatContext:
        return ThreatContext.from_skill(self.skill, policy=self.host_policy)

    @cached_property
    def files_by_path(self) -> dict[str, SkillFile]:
        """The skill's files by `SkillFile.path` (the first of a path, as `Skill.file` finds it)."""
        return {f.path: f for f in reversed(self.skill.files)}


class FileCheck(Protocol):
    languages: frozenset[FileKind]

    def check(self, ctx: FileContext) -> Iterable[Hit]: ...


class SkillCheck(Protocol):
    def check_skill(self, ctx: SkillContext) -> Iterable[Hit]: ...


class NodeCheck(Protocol):
    languages: frozenset[FileKind]
    node_types: frozenset[str]  # grammar node types; an unknown type fails at registration
    # Cheap pre-filter: the check runs on a file only when one of these substrings occurs in it
    # (empty: always).
    needles: tuple[str, ...]

    def visit(self, node: Node, ctx: FileContext) -> Iterable[Hit]: ...
