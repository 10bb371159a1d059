"""tree-sitter analysis: one parse per file, checks dispatched by language and node type.

How checks plug in: see registry.py. Every module of this package that exposes ``CHECKS`` is
loaded, so a new check module needs no edit here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from skillscan.analyzers.delivery import DeliveryCatalog
from skillscan.analyzers.interface import Analyzer
from skillscan.analyzers.treesitter.parsing import language
from skillscan.analyzers.treesitter.registry import (
    ENGINE,
    PACKAGE_DIR,
    FileCheck,
    FileContext,
    FindingCap,
    Hit,
    NodeCheck,
    SkillCheck,
    SkillContext,
    load_rule_metadata,
)
from skillscan.analyzers.treesitter.syntax_walk import WALKED, Walk, shared_walk
from skillscan.errors import RuleError
from skillscan.models import AnalysisResult, FileKind, Finding, RuleMeta, ScanError, Skill, SkillFile


@dataclass(frozen=True)
class _Collected:
    """What one skill's checks produced so far."""

    findings: list[Finding]
    errors: list[ScanError]
    cap: FindingCap
    files: dict[str, SkillFile]  # by SkillFile.path, for hits of skill checks


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


class NodePass(Protocol):
    """One node check's pass over one file (`FileNodeCheck.begin`)."""

    def run(self, walk: Walk, found: Sequence[int]) -> Iterable[Hit]:
        """Hits among the check's nodes (`found`: indices in `walk.nodes`, in document order),
        then anything counted and not listed."""
        ...


class FileNodeCheck(NodeCheck, Protocol):
    """A node check that reads the file's text before its nodes: `begin` gives its pass over the
    file, or None when nothing in the file can be flagged. The pass reads only the nodes the text
    says can be flagged (those starting where such a node can start)."""

    def begin(self, ctx: FileContext) -> NodePass | None: ...


class NodeDispatcher:
    """Node checks by language and node type, fed from the file's shared walk (`syntax_walk`, one
    walk per file for every check): each node of a registered type goes to the checks registered
    for it, in document order; a `FileNodeCheck` is handed its nodes at once, after them."""

    def __init__(self, checks: Sequence[NodeCheck]) -> None:
        self._by_kind: dict[FileKind, list[NodeCheck]] = {}
        for kind in {k for c in checks for k in c.languages}:
            lang = language(kind)
            mine = [c for c in checks if kind in c.languages]
            for t in sorted({t for c in mine for t in c.node_types}):
                if lang is None or not lang.id_for_node_kind(t, True):
                    raise RuleError(f"tree-sitter check for {kind}: unknown node type {t!r}")
                if t not in WALKED.get(kind, ()):
                    raise RuleError(
                        f"tree-sitter check for {kind}: node type {t!r} is not walked (syntax_walk)"
                    )
            self._by_kind[kind] = mine

    def run(self, ctx: FileContext) -> Iterable[Hit]:
        checks = self._by_kind.get(ctx.file.kind)
        if not checks:
            return
        source = ctx.source
        active = [c for c in checks if not c.needles or any(n in source for n in c.needles)]
        walk = shared_walk(ctx) if active else None
        if walk is None:
            return
        nodewise: list[NodeCheck] = []
        passes: list[tuple[NodePass, NodeCheck]] = []
        for check in active:
            begin: Callable[[FileContext], NodePass | None] | None = getattr(check, "begin", None)
            if begin is None:
                nodewise.append(check)
            elif (found := begin(ctx)) is not None:
                passes.append((found, check))
        if nodewise:
            yield from self._each_node(walk, nodewise, ctx)
        for one, check in passes:
            yield from one.run(walk, walk.select(check.node_types))

    @staticmethod
    def _each_node(walk: Walk, checks: list[NodeCheck], ctx: FileContext) -> Iterator[Hit]:
        nodes = walk.nodes
        if len(checks) == 1:  # no merge of several checks' nodes
            [check] = checks
            for i in walk.select(check.node_types):
                yield from check.visit(nodes[i], ctx)
            return
        for i, k in sorted((i, k) for k, c in enumerate(checks) for i in walk.select(c.node_types)):
            yield from checks[k].visit(nodes[i], ctx)


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
        out = _Collected(findings=[], errors=[], cap=FindingCap(), files=ctx.files_by_path)
        for fctx in ctx.files:
            self._collect(partial(self._dispatcher.run, fctx), fctx.file, out)
            for check in self._checks.file:
                if fctx.file.kind in check.languages:
                    self._collect(partial(check.check, fctx), fctx.file, out)
        for skill_check in self._checks.skill:
            self._collect(partial(skill_check.check_skill, ctx), None, out)
        for fctx in ctx.files:
            out.errors.extend(ScanError(ENGINE, fctx.file.real_path, d) for d in fctx.shortfalls.values())
        return AnalysisResult(findings=tuple(out.findings), errors=tuple(out.errors), notes=out.cap.notes())

    def _collect(self, run: Callable[[], Iterable[Hit]], file: SkillFile | None, out: _Collected) -> None:
        """Findings of one check; a check that fails on hostile input costs an error for that file,
        not the other checks' evidence."""
        try:
            hits = list(run())
        except RecursionError:
            out.errors.append(ScanError(ENGINE, file.real_path if file else None, "input nested too deeply"))
            return
        except Exception as e:
            where = file.real_path if file else None
            out.errors.append(ScanError(ENGINE, where, f"check failed: {type(e).__name__}: {e}"))
            return
        for hit in hits:
            target = file if hit.path is None else out.files.get(hit.path)
            meta = self._metas.get(hit.rule_id)
            if target is None or meta is None:
                out.errors.append(
                    ScanError(ENGINE, hit.path, f"check reported unknown rule or file: {hit.rule_id}")
                )
                continue
            line = target.real_line(hit.line)
            if not out.cap.admit(meta.id, target.real_path, line, hit.more):
                continue
            out.findings.append(
                Finding(
                    rule_id=meta.id,
                    analyzer=ENGINE,
                    category=meta.category,
                    severity=meta.severity,
                    path=target.real_path,
                    line=line,
                    message=hit.message or meta.description,
                    evidence=" ".join(hit.evidence.split())[:200],
                    confidence=meta.confidence,
                    status=meta.status,
                )
            )
