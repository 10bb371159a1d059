"""Semgrep, batched: one call for every text file of every skill in a batch.

Files are copied into a private temp tree under synthetic names and semgrep runs on an explicit
file list from a clean working dir with the hardening flags (DESIGN §5), so nothing a skill ships
(`.semgrepignore`, `# nosemgrep`, `tests/` or `node_modules/` paths, extensionless scripts) can
hide code from it. A file goes to semgrep only if it holds a word of each of some rule's `requires`
lists (words every match of that rule contains): most scripts have no sink word of any rule.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shutil
import site
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from skillscan._subprocess import ToolTimeout, run_tool
from skillscan.analyzers.interface import Analyzer
from skillscan.config import Settings
from skillscan.errors import AnalyzerError, RuleError
from skillscan.models import AnalysisResult, FileKind, Finding, RuleMeta, ScanError, Skill, SkillFile
from skillscan.rules import load_yaml, meta_from_mapping, semgrep_rule_files

ENGINE = "semgrep"
# The languages our rules target; other files are not worth a parse.
_SUFFIX = {
    FileKind.PYTHON: ".py",
    FileKind.JAVASCRIPT: ".js",
    FileKind.TYPESCRIPT: ".ts",
    FileKind.SHELL: ".sh",
    FileKind.POWERSHELL: ".ps1",
    FileKind.JSON: ".json",
    FileKind.YAML: ".yaml",
}
# Semgrep language names → the file kinds they apply to; `generic`/`regex` rules see every text kind.
_LANGUAGE_KINDS: dict[str, frozenset[FileKind]] = {
    "python": frozenset({FileKind.PYTHON}),
    "py": frozenset({FileKind.PYTHON}),
    "javascript": frozenset({FileKind.JAVASCRIPT}),
    "js": frozenset({FileKind.JAVASCRIPT}),
    "typescript": frozenset({FileKind.TYPESCRIPT}),
    "ts": frozenset({FileKind.TYPESCRIPT}),
    "bash": frozenset({FileKind.SHELL}),
    "sh": frozenset({FileKind.SHELL}),
    "powershell": frozenset({FileKind.POWERSHELL}),
    "json": frozenset({FileKind.JSON}),
    "yaml": frozenset({FileKind.YAML}),
    "generic": frozenset(_SUFFIX),
    "regex": frozenset(_SUFFIX),
}
# No `--scan-unknown-extensions`: every target is written under a synthetic name with its kind's
# suffix, so extensionless scripts are scanned anyway, and the flag would run each rule once per
# language on every file (the JS rules twice on .js, on .py too): three times the CPU.
HARDENING_FLAGS = (
    "--metrics=off",
    "--disable-version-check",
    "--disable-nosem",
    "--no-git-ignore",
    "--x-ignore-semgrepignore-files",
    "--no-rewrite-rule-ids",
    "--json",
    "--quiet",
)


# Run semgrep's native CLI (osemgrep) instead of the Python one it otherwise falls back to: same
# rules, flags and JSON, ≈0.25 s instead of ≈2.3 s CPU to start. With its default of one job per
# core it spent twice the CPU on a 200-skill batch (28 s vs 13 s) for no gain on 2 cores, so it
# runs one job and leaves the other core to the in-process engines.
# tests/rules/test_semgrep_fixtures.py checks that this path finds exactly the annotated lines.
NATIVE_FLAGS = ("--experimental", "--jobs=1")
# The Python CLI, run in the wrapper's own process: without the flag the wrapper goes through the
# native CLI, which hands over to a `pysemgrep` script that an install may lack.
PYTHON_CLI_FLAGS = ("--legacy",)


@dataclass(frozen=True, slots=True)
class _Word:
    """An identifier found only as a whole word (`system` is not in `filesystem`), anything else
    (a path such as `.bashrc`) as a substring."""

    pattern: re.Pattern[str]  # starts with the literal, so the search skips ahead in C
    whole: bool

    @classmethod
    def of(cls, word: str) -> _Word:
        whole = word.isidentifier()
        return cls(re.compile(re.escape(word) + (r"(?!\w)" if whole else "")), whole)

    def found_in(self, text: str) -> bool:
        for m in self.pattern.finditer(text):
            i = m.start()
            if not self.whole or i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"):
                return True
        return False


@dataclass(frozen=True, slots=True)
class _Prefilter:
    """What every match of one rule contains: a word of each of `required`."""

    kinds: frozenset[FileKind]
    required: tuple[tuple[_Word, ...], ...]

    def admits(self, file: SkillFile, text: str) -> bool:
        return file.kind in self.kinds and all(any(w.found_in(text) for w in ws) for ws in self.required)


@dataclass(frozen=True, slots=True)
class _Target:
    skill_index: int
    file: SkillFile


# What semgrep's `semgrep` script runs; `-P` keeps the working dir (our temp tree) off sys.path.
_ENTRY_POINT = (
    "import sys; from semgrep.console_scripts.entrypoint import main; "
    "sys.argv[0] = 'semgrep'; sys.exit(main())"
)


@functools.cache
def semgrep_command() -> tuple[str, ...]:
    """The pinned semgrep: its script beside this interpreter (a venv's bin/), else this interpreter
    running semgrep's entry point (an install whose scripts went elsewhere or nowhere, e.g. `--user`
    or dependencies from another site-packages), else a `semgrep` on PATH."""
    local = Path(sys.executable).parent / "semgrep"
    if local.exists():
        return (str(local),)
    if importlib.util.find_spec("semgrep") is not None:
        return (sys.executable, "-P", "-c", _ENTRY_POINT)
    return (shutil.which("semgrep") or "semgrep",)


class SemgrepAnalyzer(Analyzer):
    name = ENGINE

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._rule_files = semgrep_rule_files(settings)
        self._prefilters: list[_Prefilter] = []
        self._metas = {m.id: m for m in (self._load_meta(p) for p in self._rule_files)}

    def _load_meta(self, path: Path) -> RuleMeta:
        try:
            doc = load_yaml(path.read_text(encoding="utf-8"))
            (rule,) = doc["rules"]
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as e:
            raise RuleError(f"{path}: expected one semgrep rule: {e}") from e
        if rule.get("id") != path.stem:
            raise RuleError(f"{path}: rule id {rule.get('id')!r} must equal the file name")
        kinds: frozenset[FileKind] = frozenset()
        for lang in rule.get("languages") or ():
            if lang not in _LANGUAGE_KINDS:
                raise RuleError(f"{path}: language {lang!r} is not one skillscan feeds to semgrep")
            kinds |= _LANGUAGE_KINDS[lang]
        metadata = rule.get("metadata") or {}
        self._prefilters.append(_Prefilter(kinds, _required_words(path, metadata.get("requires", []))))
        return meta_from_mapping(path.stem, ENGINE, {"id": path.stem, **metadata}, str(path))

    def wanted(self, file: SkillFile) -> bool:
        """Whether some rule can match this file (else semgrep need not parse it)."""
        text = file.text
        if not text or text.isspace():
            return False
        return any(p.admits(file, text) for p in self._prefilters)

    def rules(self) -> Sequence[RuleMeta]:
        return list(self._metas.values())

    def budget_s(self, n_skills: int) -> float:
        """The scanner waits this long: semgrep's own wall clock plus time to write and split."""
        return self._settings.limits.semgrep_timeout_s + 10.0 + 0.05 * n_skills

    def analyze(self, skill: Skill) -> AnalysisResult:
        return self.analyze_batch([skill])[0]

    def analyze_batch(self, skills: Sequence[Skill]) -> list[AnalysisResult]:
        # Only files some rule can match: a skill of Markdown, shell and harmless scripts costs no
        # semgrep start-up.
        targets = [_Target(i, f) for i, skill in enumerate(skills) for f in skill.files if self.wanted(f)]
        if not targets:  # no rule admits any file (or there are no rules)
            return [AnalysisResult() for _ in skills]
        with tempfile.TemporaryDirectory(prefix="skillscan-semgrep-") as tmp:
            root = Path(tmp)
            names = self._write_targets(root, targets)
            try:
                raw = self._run(root, names)
            except AnalyzerError as e:
                error = ScanError(ENGINE, None, str(e), timed_out=isinstance(e, ToolTimeout))
                return [
                    AnalysisResult(errors=(error,))
                    if any(t.skill_index == i for t in targets)
                    else AnalysisResult()
                    for i in range(len(skills))
                ]
        return self._split(raw, names, targets, len(skills))

    def _write_targets(self, root: Path, targets: list[_Target]) -> list[str]:
        (root / "t").mkdir()
        names = []
        for n, t in enumerate(targets):
            name = f"t/{n}{_SUFFIX[t.file.kind]}"
            assert t.file.text is not None
            (root / name).write_text(t.file.text, encoding="utf-8", errors="replace")
            names.append(name)
        return names

    def _run(self, root: Path, names: list[str]) -> dict[str, Any]:
        limits = self._settings.limits
        home = root / "home"
        home.mkdir()
        argv = [
            *semgrep_command(),
            "scan",
            *HARDENING_FLAGS,
            *(NATIVE_FLAGS if self._settings.semgrep_native else PYTHON_CLI_FLAGS),
            f"--timeout={limits.semgrep_rule_timeout_s}",
            f"--max-target-bytes={limits.max_text_bytes}",
            "--config",
            str(self._settings.semgrep_rules_dir),
            "--",
            *names,
        ]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "SEMGREP_ENABLE_VERSION_CHECK": "0",
            "SEMGREP_SEND_METRICS": "off",
            "XDG_CONFIG_HOME": str(home),
            "XDG_CACHE_HOME": str(home),
            # HOME is private, so name the user site a `pip install --user` put semgrep in.
            "PYTHONUSERBASE": site.getuserbase(),
        }
        result = run_tool(argv, cwd=root, env=env, timeout_s=limits.semgrep_timeout_s)
        try:
            parsed: dict[str, Any] = json.loads(result.stdout or b"{}")
        except json.JSONDecodeError as e:
            tail = result.stderr.decode("utf-8", "replace")[-400:]
            raise AnalyzerError(f"semgrep exited {result.returncode} without JSON: {tail}") from e
        if result.returncode not in (0, 1) and not parsed.get("results"):
            raise AnalyzerError(f"semgrep exited {result.returncode}: {_error_text(parsed)}")
        return parsed

    def _split(
        self, raw: dict[str, Any], names: list[str], targets: list[_Target], n_skills: int
    ) -> list[AnalysisResult]:
        by_name = {name: t for name, t in zip(names, targets, strict=True)}
        findings: list[list[Finding]] = [[] for _ in range(n_skills)]
        errors: list[list[ScanError]] = [[] for _ in range(n_skills)]
        for r in raw.get("results", []):
            target = by_name.get(_relative(r.get("path", "")))
            meta = self._metas.get(r.get("check_id", ""))
            if target is None or meta is None:
                continue
            line = (r.get("start") or {}).get("line")
            findings[target.skill_index].append(
                Finding(
                    rule_id=meta.id,
                    analyzer=ENGINE,
                    category=meta.category,
                    severity=meta.severity,
                    path=target.file.real_path,
                    line=target.file.real_line(line),
                    message=" ".join(str((r.get("extra") or {}).get("message") or meta.description).split()),
                    evidence=_line_at(target.file.text or "", line),
                    confidence=meta.confidence,
                    status=meta.status,
                )
            )
        for err in raw.get("errors", []):
            # Per-file timeouts and parse failures: recorded so a file semgrep gave up on is not
            # mistaken for a clean one. Syntax errors in skill files are common and harmless.
            kind = str(err.get("type", "")).lower()
            if kind.startswith(("timeout", "out of memory")):
                for p in (err.get("spans") and [s.get("file", "") for s in err["spans"]]) or [
                    err.get("path", "")
                ]:
                    target = by_name.get(_relative(p))
                    if target is not None:
                        errors[target.skill_index].append(
                            ScanError(
                                ENGINE,
                                target.file.real_path,
                                f"semgrep: {err.get('type')}",
                                timed_out=kind.startswith("timeout"),
                            )
                        )
        return [
            AnalysisResult(findings=tuple(f), errors=tuple(e)) for f, e in zip(findings, errors, strict=True)
        ]


def _required_words(path: Path, lists: object) -> tuple[tuple[_Word, ...], ...]:
    if not isinstance(lists, list) or not all(
        isinstance(words, list) and words and all(isinstance(w, str) and w for w in words) for words in lists
    ):
        raise RuleError(f"{path}: metadata.requires must be a list of non-empty lists of words")
    return tuple(tuple(_Word.of(w) for w in words) for words in lists)


def _line_at(text: str, line: int | None) -> str:
    """The matched line from our own copy: semgrep's `extra.lines` says "requires login" offline."""
    if not line or line < 1:
        return ""
    lines = text.splitlines()
    return " ".join(lines[line - 1].split())[:200] if line <= len(lines) else ""


def _relative(path: str) -> str:
    return path[2:] if path.startswith("./") else path


def _error_text(parsed: dict[str, Any]) -> str:
    errs = parsed.get("errors") or []
    return "; ".join(str(e.get("message", e))[:200] for e in errs[:3]) or "no detail"
