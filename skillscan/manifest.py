"""Engine "manifest": SKILL.md, frontmatter, semver, slug and metadata checks (clawhub-api.md §2).

Rules are data (`manifest_rules.yaml`). Hygiene problems stay at low/medium; only mismatches
that show the registry one set of requirements and the agent another reach high.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import semver

from skillscan.analyzers.interface import Analyzer
from skillscan.bundle import SKILL_MD_NAMES, primary_skill_md
from skillscan.frontmatter import Frontmatter, parse_frontmatter
from skillscan.manifest_checks import metadata_blocks, metadata_findings
from skillscan.manifest_usage import binary_uses, env_uses
from skillscan.models import (
    AnalysisResult,
    FileKind,
    Finding,
    RuleMeta,
    Severity,
    Skill,
    VirtualOrigin,
)
from skillscan.rules import load_rule_data, metas_from_specs

__all__ = ["Frontmatter", "ManifestAnalyzer", "inventory_rules", "parse_frontmatter"]

DEFAULT_RULES_FILE = Path(__file__).resolve().parent / "manifest_rules.yaml"
_SLUG = re.compile(r"^[a-z0-9](?:(?!--)[a-z0-9-])*[a-z0-9]$")
_SLUG_SHAPED = re.compile(r"^[a-z0-9-]{1,200}$")
_MAX_PER_RULE = 10


_DATA_KEYS = ("rules", "inventory_rules", "reserved_slugs", "protected_affixes", "common_env", "common_bins")


def _load(path: Path) -> dict[str, Any]:
    return load_rule_data(path, "manifest", _DATA_KEYS)


def _metas(engine: str, specs: dict[str, Any]) -> dict[str, RuleMeta]:
    return metas_from_specs(engine, specs, str(DEFAULT_RULES_FILE))


def inventory_rules(rules_file: Path | None = None) -> list[RuleMeta]:
    """Metadata of the findings safe unpack reports (analyzer "bundle")."""
    return list(_metas("bundle", _load(rules_file or DEFAULT_RULES_FILE)["inventory_rules"]).values())


class ManifestAnalyzer(Analyzer):
    name = "manifest"

    def __init__(self, rules_file: Path | None = None) -> None:
        data = _load(rules_file or DEFAULT_RULES_FILE)
        self._meta = _metas(self.name, data["rules"])
        self._reserved = frozenset(data["reserved_slugs"])
        self._affixes = tuple(data["protected_affixes"])
        self._common_env = frozenset(data["common_env"])
        self._env_prefixes = tuple(data.get("common_env_prefixes", ()))
        self._cred_words = tuple(data.get("credential_words", ()))
        self._common_bins = frozenset(data["common_bins"])

    def rules(self) -> Sequence[RuleMeta]:
        return list(self._meta.values())

    def _finding(
        self,
        rule_id: str,
        path: str,
        line: int | None,
        message: str,
        evidence: str = "",
        severity: Severity | None = None,
    ) -> Finding:
        meta = self._meta[rule_id]
        return Finding(
            rule_id=rule_id,
            analyzer=self.name,
            category=meta.category,
            severity=severity or meta.severity,
            path=path,
            line=line,
            message=message,
            evidence=" ".join(evidence.split())[:200],
            confidence=meta.confidence,
            status=meta.status,
        )

    def analyze(self, skill: Skill) -> AnalysisResult:
        findings = list(self._check(skill))
        counts: dict[str, int] = {}
        kept = []
        for f in findings:
            counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
            if counts[f.rule_id] <= _MAX_PER_RULE:
                kept.append(f)
        return AnalysisResult(findings=tuple(kept))

    def _check(self, skill: Skill) -> Iterator[Finding]:
        real = skill.real_files
        paths = [f.path for f in real]
        md_path = primary_skill_md(paths)
        if md_path is None:
            nested = sorted(p for p in paths if p.rsplit("/", 1)[-1].lower() in SKILL_MD_NAMES)
            hint = f"; nested ones ({', '.join(nested[:3])}) are not the skill root" if nested else ""
            yield self._finding("skill-md-missing", "SKILL.md", None, f"no SKILL.md at the skill root{hint}")
            yield from self._usage(skill, None, None)
            return
        variants = [p for p in paths if "/" not in p and p.lower() in SKILL_MD_NAMES]
        if len(variants) > 1:
            yield self._finding(
                "skill-md-ambiguous",
                md_path,
                None,
                f"several SKILL.md variants at the root ({', '.join(sorted(variants))})",
                ", ".join(sorted(variants)),
            )
        md = next(f for f in real if f.path == md_path)
        if md.text is None:
            why = (
                "binary or not decodable text"
                if md.kind is FileKind.BINARY
                else "too large for text analysis"
            )
            yield self._finding("skill-md-not-text", md_path, None, f"SKILL.md is {why}")
            yield from self._usage(skill, None, None)
            return
        fm = parse_frontmatter(md.text)
        yield from self._frontmatter(md_path, fm)
        data = fm.data or {}
        yield from self._identity(skill, md_path, fm)
        meta_line = fm.key_lines.get("metadata", 1)
        if fm.metadata_error:
            yield self._finding("metadata-invalid", md_path, meta_line, fm.metadata_error)
        elif "metadata" in data and not isinstance(data["metadata"], dict) and data["metadata"] is not None:
            yield self._finding("metadata-invalid", md_path, meta_line, "metadata is not a mapping")
        for rule_id, message, evidence, severity in metadata_findings(data):
            line = (
                fm.key_lines.get("always", meta_line)
                if rule_id == "always-enabled" and "always" in data
                else meta_line
            )
            yield self._finding(rule_id, md_path, line, message, evidence, severity)
        yield from self._usage(skill, data, md_path)

    def _frontmatter(self, path: str, fm: Frontmatter) -> Iterator[Finding]:
        if not fm.present:
            yield self._finding(
                "frontmatter-missing", path, 1, "SKILL.md has no frontmatter (first line ---)"
            )
            return
        if not fm.closed:
            yield self._finding(
                "frontmatter-unclosed",
                path,
                1,
                "frontmatter opened with --- but never closed",
                (fm.raw or "")[:80],
            )
            return
        if fm.error:
            yield self._finding("frontmatter-invalid", path, fm.error_line or 1, fm.error)
            return
        for key in dict.fromkeys(fm.duplicate_keys):
            yield self._finding(
                "frontmatter-duplicate-key",
                path,
                fm.key_lines.get(key, 1),
                f"key {key!r} is given more than once; parsers may keep different values",
                key,
            )
        data = fm.data or {}
        if not _text(data.get("name")):
            yield self._finding("name-missing", path, 1, "frontmatter has no name")
        meta = data.get("metadata")
        if not _text(data.get("description")) and not (
            isinstance(meta, dict) and _text(meta.get("description"))
        ):
            yield self._finding("description-missing", path, 1, "frontmatter has no description")
        if "version" in data:
            yield from self._version(path, fm.key_lines.get("version", 1), data["version"])

    def _version(self, path: str, line: int, value: Any) -> Iterator[Finding]:
        raw = value.strip() if isinstance(value, str) else json.dumps(value, default=str)[:80]
        if isinstance(value, str) and _semver(raw):
            return
        if isinstance(value, str) and raw[:1] in "vV" and _semver(raw[1:]):
            yield self._finding("version-leading-v", path, line, f"version {raw!r} has a leading 'v'", raw)
            return
        yield self._finding(
            "version-not-semver", path, line, f"version {raw!r} is not a semantic version", raw
        )

    def _identity(self, skill: Skill, path: str, fm: Frontmatter) -> Iterator[Finding]:
        candidates: list[tuple[str, str, int | None, str]] = []
        slug = skill.identity.slug
        if slug and skill.file("_meta.json") is not None:
            candidates.append(("slug", slug.strip().lower(), None, "_meta.json"))
        name = _text((fm.data or {}).get("name"))
        if name and _SLUG_SHAPED.match(name.strip()):
            candidates.append(("name", name.strip(), fm.key_lines.get("name", 1), path))
        checked: set[str] = set()
        for what, value, line, where in candidates:
            if value in checked:
                continue
            checked.add(value)
            if not (3 <= len(value) <= 96 and _SLUG.match(value)):
                yield self._finding(
                    "slug-invalid", where, line, f"{what} {value!r} breaks ClawHub's slug rules", value
                )
            if value in self._reserved:
                yield self._finding(
                    "slug-reserved", where, line, f"{what} {value!r} is a reserved word", value
                )
                continue
            parts = value.split("-")
            hit = next((a for a in self._affixes if len(parts) > 1 and a in (parts[0], parts[-1])), None)
            if hit:
                yield self._finding(
                    "slug-protected-affix",
                    where,
                    line,
                    f"{what} {value!r} uses the protected word {hit!r}; it impersonates the platform or its staff",
                    value,
                )

    def _usage(self, skill: Skill, data: dict[str, Any] | None, md_path: str | None) -> Iterator[Finding]:
        blocks = metadata_blocks(data or {})
        declared_env: set[str] = set()
        declared_bins: set[str] = set()
        bins_declared = False
        # Top-level requires/primaryEnv/env are ClawHub's fallback when no metadata block exists.
        for block in [*blocks, data or {}]:
            declared_env |= _declared_env(block)
            bins, any_declared = _declared_bins(block)
            declared_bins |= bins
            bins_declared = bins_declared or any_declared
        scripts = [f for f in skill.real_files if f.kind.is_script and f.text is not None]
        for f in scripts:
            for use in env_uses(f):
                if use.name in declared_env or self._common(use.name):
                    continue
                upper = use.name.upper()
                parts = upper.split("_")
                if any(w in parts or (len(w) > 3 and upper.endswith(w)) for w in self._cred_words):
                    yield self._finding(
                        "undeclared-credential-env",
                        use.path,
                        use.line,
                        f"reads credential {use.name} which the manifest does not declare (requires.env / primaryEnv)",
                        use.name,
                    )
                else:
                    yield self._finding(
                        "undeclared-env-var",
                        use.path,
                        use.line,
                        f"reads environment variable {use.name} which the manifest does not declare",
                        use.name,
                    )
        if not bins_declared:
            return
        # The instructions' own shell blocks run programs too.
        blocks_md = [
            f
            for f in skill.files
            if f.virtual is VirtualOrigin.CODE_BLOCK and f.kind is FileKind.SHELL and f.origin_path == md_path
        ]
        for f in [*scripts, *blocks_md]:
            for use in binary_uses(f):
                if use.name in declared_bins or use.name in self._common_bins:
                    continue
                yield self._finding(
                    "undeclared-binary",
                    use.path,
                    use.line,
                    f"runs {use.name!r}, not listed in requires.bins / anyBins",
                    use.name,
                )

    def _common(self, name: str) -> bool:
        return name in self._common_env or name.startswith(self._env_prefixes)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _semver(value: str) -> bool:
    try:
        semver.Version.parse(value)
        return True
    except (ValueError, TypeError):
        return False


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()


def _declared_env(block: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    requires = block.get("requires")
    if isinstance(requires, dict):
        out |= _strings(requires.get("env"))
    out |= _strings(block.get("primaryEnv"))
    for key in ("envVars", "env"):
        entries = block.get(key)
        if isinstance(entries, list):
            for e in entries:
                if isinstance(e, dict):
                    out |= _strings(e.get("name"))
                elif isinstance(e, str):
                    out.add(e)
        elif isinstance(entries, dict):
            out |= {k for k in entries if isinstance(k, str)}
    config = block.get("config")
    if isinstance(config, dict):
        out |= _strings(config.get("requiredEnv"))
    return out


def _declared_bins(block: dict[str, Any]) -> tuple[set[str], bool]:
    out: set[str] = set()
    requires = block.get("requires")
    declared = False
    if isinstance(requires, dict):
        for key in ("bins", "anyBins"):
            if key in requires:
                declared = True
                out |= _strings(requires.get(key))
    install = block.get("install")
    if isinstance(install, list):
        for entry in install:
            if isinstance(entry, dict):
                out |= _strings(entry.get("bins"))
    return out, declared
