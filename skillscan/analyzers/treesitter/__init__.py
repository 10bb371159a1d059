"""tree-sitter analysis: one parse per file, checks dispatched by language (see registry.py)."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from skillscan.analyzers.delivery import DeliveryCatalog
from skillscan.analyzers.interface import Analyzer
from skillscan.analyzers.treesitter.parsing import language
from skillscan.analyzers.treesitter.registry import (
    PACKAGE_DIR,
    FileCheck,
    FileContext,
    Hit,
    SkillCheck,
    SkillContext,
)
from skillscan.errors import RuleError
from skillscan.models import AnalysisResult, Finding, RuleMeta, ScanError, Skill, SkillFile
from skillscan.rules import meta_from_mapping

ENGINE = "treesitter"
# Check modules of this package; each exposes CHECKS. A module not present yet is skipped.
CHECK_MODULES = ("dangerous_calls", "shell", "powershell", "shell_threats", "flows", "obfuscation")


def load_rule_metadata() -> dict[str, RuleMeta]:
    metas: dict[str, RuleMeta] = {}
    for path in sorted(PACKAGE_DIR.glob("*.yaml")):
        try:
            doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise RuleError(f"{path}: {e}") from e
        for rule_id, meta in doc.items():
            if rule_id in metas:
                raise RuleError(f"{path}: rule {rule_id!r} is defined twice")
            metas[rule_id] = meta_from_mapping(rule_id, ENGINE, meta, str(path))
    return metas


def load_checks() -> tuple[list[FileCheck], list[SkillCheck]]:
    file_checks: list[FileCheck] = []
    skill_checks: list[SkillCheck] = []
    for name in CHECK_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                continue
            raise
        for check in getattr(module, "CHECKS", ()):
            (file_checks if hasattr(check, "check") else skill_checks).append(check)
    return file_checks, skill_checks


class TreeSitterAnalyzer(Analyzer):
    name = ENGINE

    def __init__(self) -> None:
        self._metas = load_rule_metadata()
        self._file_checks, self._skill_checks = load_checks()
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
            for check in self._file_checks:
                if fctx.file.kind in check.languages:
                    self._collect(check.check(fctx), fctx.file, skill, findings, errors)
        for skill_check in self._skill_checks:
            self._collect(skill_check.check_skill(ctx), None, skill, findings, errors)
        return AnalysisResult(findings=tuple(findings), errors=tuple(errors))

    def _collect(
        self,
        hits: Iterable[Hit],
        file: SkillFile | None,
        skill: Skill,
        findings: list[Finding],
        errors: list[ScanError],
    ) -> None:
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
