"""tree-sitter analysis: one parse per file, checks dispatched by language and node type.

How checks plug in: see registry.py. Every module of this package that exposes ``CHECKS`` is
loaded, so a new check module needs no edit here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import yaml
from tree_sitter import Node, Query, QueryCursor, QueryError

from skillscan.analyzers.delivery import DeliveryCatalog
from skillscan.analyzers.interface import Analyzer
from skillscan.analyzers.treesitter.parsing import language
from skillscan.analyzers.treesitter.registry import (
    PACKAGE_DIR,
    FileCheck,
    FileContext,
    Hit,
    NodeCheck,
    SkillCheck,
    SkillContext,
)
from skillscan.errors import RuleError
from skillscan.models import AnalysisResult, FileKind, Finding, RuleMeta, ScanError, Skill, SkillFile
from skillscan.rules import load_yaml, meta_from_mapping

ENGINE = "treesitter"
MAX_DISPATCHED_NODES = 200_000  # per file: a hostile file cannot make the visitor run unbounded


def load_rule_metadata() -> dict[str, RuleMeta]:
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
    return metas


@dataclass(frozen=True)
class Checks:
    node: tuple[NodeCheck, ...]
    file: tuple[FileCheck, ...]
    skill: tuple[SkillCheck, ...]


def check_module_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE_DIR)]) if not m.name.startswith("_"))


def load_checks() -> Checks:
    node: list[NodeCheck] = []
    file: list[FileCheck] = []
    skill: list[SkillCheck] = []
    for name in check_module_names():
        module = importlib.import_module(f"{__name__}.{name}")
        for check in getattr(module, "CHECKS", ()):
            if hasattr(check, "visit"):
                node.append(check)
            elif hasattr(check, "check"):
                file.append(check)
            else:
                skill.append(check)
    return Checks(tuple(node), tuple(file), tuple(skill))


class NodeDispatcher:
    """One query per language matching every registered node type: the tree is walked once (in C)
    and each node goes to the checks registered for its type, in document order."""

    def __init__(self, checks: Sequence[NodeCheck]) -> None:
        self._by_kind: dict[FileKind, tuple[Query, list[NodeCheck]]] = {}
        for kind in {k for c in checks for k in c.languages}:
            lang = language(kind)
            mine = [c for c in checks if kind in c.languages]
            types = sorted({t for c in mine for t in c.node_types})
            if lang is None or not types:
                continue
            try:
                query = Query(lang, " ".join(f"({t}) @{t}" for t in types))
            except QueryError as e:
                raise RuleError(f"tree-sitter check for {kind}: {e}") from e
            self._by_kind[kind] = (query, mine)

    def run(self, ctx: FileContext) -> Iterable[Hit]:
        entry = self._by_kind.get(ctx.file.kind)
        if entry is None:
            return
        query, checks = entry
        source = ctx.source
        active = [c for c in checks if not c.needles or any(n in source for n in c.needles)]
        if not active or ctx.tree is None:
            return
        wanted = {t for c in active for t in c.node_types}
        captured = QueryCursor(query).captures(ctx.tree.root_node)
        nodes: list[tuple[int, int, str, Node]] = [
            (n.start_byte, -n.end_byte, t, n) for t, ns in captured.items() if t in wanted for n in ns
        ]
        nodes.sort(key=lambda x: (x[0], x[1], x[2]))
        for _, _, node_type, node in nodes[:MAX_DISPATCHED_NODES]:
            for check in active:
                if node_type in check.node_types:
                    yield from check.visit(node, ctx)


class TreeSitterAnalyzer(Analyzer):
    name = ENGINE

    def __init__(self) -> None:
        self._metas = load_rule_metadata()
        self._checks = load_checks()
        self._dispatcher = NodeDispatcher(self._checks.node)
        self._catalog = DeliveryCatalog.load()

    def rules(self) -> Sequence[RuleMeta]:
        return list(self._metas.values())

    def analyze(self, skill: Skill) -> AnalysisResult:
        ctx = SkillContext(skill=skill, catalog=self._catalog)
        ctx.files = [
            FileContext(file=f, skill=ctx)
            for f in skill.files
            if f.text is not None and language(f.kind) is not None
        ]
        findings: list[Finding] = []
        errors: list[ScanError] = []
        for fctx in ctx.files:
            self._collect(partial(self._dispatcher.run, fctx), fctx.file, skill, findings, errors)
            for check in self._checks.file:
                if fctx.file.kind in check.languages:
                    self._collect(partial(check.check, fctx), fctx.file, skill, findings, errors)
        for skill_check in self._checks.skill:
            self._collect(partial(skill_check.check_skill, ctx), None, skill, findings, errors)
        return AnalysisResult(findings=tuple(findings), errors=tuple(errors))

    def _collect(
        self,
        run: Callable[[], Iterable[Hit]],
        file: SkillFile | None,
        skill: Skill,
        findings: list[Finding],
        errors: list[ScanError],
    ) -> None:
        """Findings of one check; a check that fails on hostile input costs an error for that file,
        not the other checks' evidence."""
        try:
            hits = list(run())
        except RecursionError:
            errors.append(ScanError(ENGINE, file.real_path if file else None, "input nested too deeply"))
            return
        except Exception as e:
            where = file.real_path if file else None
            errors.append(ScanError(ENGINE, where, f"check failed: {type(e).__name__}: {e}"))
            return
        for hit in hits:
            target = file if hit.path is None else skill.file(hit.path)
            meta = self._metas.get(hit.rule_id)
            if target is None or meta is None:
                errors.append(
                    ScanError(ENGINE, hit.path, f"check reported unknown rule or file: {hit.rule_id}")
                )
                continue
            findings.append(
                Finding(
                    rule_id=meta.id,
                    analyzer=ENGINE,
                    category=meta.category,
                    severity=meta.severity,
                    path=target.real_path,
                    line=target.real_line(hit.line),
                    message=hit.message or meta.description,
                    evidence=" ".join(hit.evidence.split())[:200],
                    confidence=meta.confidence,
                    status=meta.status,
                )
            )
