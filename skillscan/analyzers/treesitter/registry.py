"""How tree-sitter checks plug in (bandit's model).

A check module in this package exposes ``CHECKS``: a list of `FileCheck` (called once per file of
its languages with a shared, lazily parsed tree) and/or `SkillCheck` (called once per skill, for
flows across files). Rule metadata is data: every ``*.yaml`` file beside the modules maps rule ids
to ``{category, severity, confidence, description, status}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol

from tree_sitter import Tree

from skillscan.analyzers.delivery import DeclaredHosts, DeliveryCatalog, HostPolicy
from skillscan.analyzers.treesitter.parsing import parse
from skillscan.models import FileKind, Skill, SkillFile

PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Hit:
    """A detection before it becomes a Finding. `line` is 1-based in the text the check saw."""

    rule_id: str
    line: int | None
    evidence: str
    message: str | None = None  # defaults to the rule's description
    path: str | None = None  # only for SkillChecks: the skill file (`SkillFile.path`) the hit is in


@dataclass
class FileContext:
    file: SkillFile
    skill: SkillContext

    @property
    def source(self) -> str:
        return self.file.text or ""

    @cached_property
    def tree(self) -> Tree | None:
        return parse(self.file.kind, self.source)


@dataclass
class SkillContext:
    skill: Skill
    catalog: DeliveryCatalog
    files: list[FileContext] = field(default_factory=list)  # one per parsable file, parsed lazily once

    @cached_property
    def host_policy(self) -> HostPolicy:
        declared = DeclaredHosts.from_skill(self.skill.frontmatter, self.skill.identity.owner)
        return HostPolicy(self.catalog, declared)


class FileCheck(Protocol):
    languages: frozenset[FileKind]

    def check(self, ctx: FileContext) -> Iterable[Hit]: ...


class SkillCheck(Protocol):
    def check_skill(self, ctx: SkillContext) -> Iterable[Hit]: ...
