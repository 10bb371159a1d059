"""YARA over every file's bytes, real and virtual (decoded payloads included), from memory."""

from __future__ import annotations

import os
from collections.abc import Sequence

import yara

from skillscan.analyzers.interface import Analyzer
from skillscan.config import Settings
from skillscan.errors import RuleError
from skillscan.models import AnalysisResult, Finding, RuleMeta, ScanError, Skill, SkillFile
from skillscan.rules import meta_from_mapping, yara_rule_files

ENGINE = "yara"
MAX_EVIDENCE = 200


class YaraAnalyzer(Analyzer):
    name = ENGINE

    def __init__(self, settings: Settings, *, strict: bool = False) -> None:
        self._files = yara_rule_files(settings)
        self._strict = strict  # warnings (e.g. slow regexes) as errors: on in the rule tests
        self._compiled: yara.Rules | None = None
        self._compiled_pid = -1
        self._metas = self._load_metas(self._rules())

    def _load_metas(self, compiled: yara.Rules | None) -> dict[str, RuleMeta]:
        """One public rule per file, named after the file, with valid metadata."""
        public = {r.identifier: r for r in compiled or () if not r.is_private}
        expected = {p.stem.replace("-", "_"): p for p in self._files}
        stray = sorted(set(public) - set(expected))
        if stray:
            raise RuleError(f"YARA public rules not named after their file: {', '.join(stray)}")
        metas = {}
        for identifier, path in expected.items():
            if identifier not in public:
                raise RuleError(f"{path}: expected one public rule named {identifier!r}")
            metas[path.stem] = meta_from_mapping(path.stem, ENGINE, public[identifier].meta, os.fspath(path))
        return metas

    def _rules(self) -> yara.Rules | None:
        # Compiled once per process; a forked worker compiles its own copy (libyara state is not
        # fork-safe to share).
        if not self._files:
            return None
        if self._compiled is None or self._compiled_pid != os.getpid():
            filepaths = {p.stem: os.fspath(p) for p in self._files}
            try:
                self._compiled = yara.compile(filepaths=filepaths, error_on_warning=self._strict)
            except yara.Error as e:
                raise RuleError(f"YARA rules failed to compile: {e}") from e
            self._compiled_pid = os.getpid()
        return self._compiled

    def rules(self) -> Sequence[RuleMeta]:
        return list(self._metas.values())

    def analyze(self, skill: Skill) -> AnalysisResult:
        compiled = self._rules()
        if compiled is None:
            return AnalysisResult()
        findings: list[Finding] = []
        errors: list[ScanError] = []
        for file in skill.files:
            if not file.data:
                continue
            try:
                # Fast mode: a string stops being searched after its first match (a finding
                # reports only the earliest), so a file repeating a match thousands of times costs
                # what one match does. It applies to strings named alone in a condition, not to
                # `any of (...)` sets, hence the rules' explicit `or` chains.
                matches = compiled.match(data=file.data, timeout=30, fast=True)
            except yara.TimeoutError:
                errors.append(ScanError(ENGINE, file.real_path, "YARA scan timed out", timed_out=True))
                continue
            except yara.Error as e:
                errors.append(ScanError(ENGINE, file.real_path, f"YARA scan failed: {e}"))
                continue
            findings.extend(
                self._finding(file, m) for m in matches if m.rule.replace("_", "-") in self._metas
            )
        return AnalysisResult(findings=tuple(findings), errors=tuple(errors))

    def _finding(self, file: SkillFile, match: yara.Match) -> Finding:
        meta = self._metas[match.rule.replace("_", "-")]
        offset, snippet = _first_instance(match)
        line = file.data.count(b"\n", 0, offset) + 1 if offset is not None else None
        return Finding(
            rule_id=meta.id,
            analyzer=ENGINE,
            category=meta.category,
            severity=meta.severity,
            path=file.real_path,
            line=file.real_line(line),
            message=meta.description,
            evidence=snippet,
            confidence=meta.confidence,
            status=meta.status,
        )


def _first_instance(match: yara.Match) -> tuple[int | None, str]:
    instances = [i for s in match.strings for i in s.instances]
    if not instances:
        return None, ""
    first = min(instances, key=lambda i: i.offset)
    text = first.matched_data[:MAX_EVIDENCE].decode("utf-8", "replace")
    return first.offset, " ".join(text.split())
