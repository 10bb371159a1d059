"""Where rules live, their metadata, and the ruleset digest that keys every stored verdict."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from skillscan import __version__
from skillscan.config import BUNDLED_RULES_DIR, Settings
from skillscan.errors import RuleError
from skillscan.models import Category, Confidence, RuleMeta, RuleStatus, Severity

PACKAGE_DIR = Path(__file__).resolve().parent
REQUIRED_META = ("id", "category", "severity", "confidence", "description", "status")


def load_yaml(text: str) -> Any:
    """Safe YAML via libyaml when present (10–30× faster than the pure-Python loader, which
    matters for the cold start of `skillscan scan`); same safe constructors either way."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def meta_from_mapping(rule_id: str, engine: str, meta: Mapping[str, Any], source: str) -> RuleMeta:
    """Validate rule metadata against the enums; a typo is an error, not a silent default."""
    missing = [k for k in REQUIRED_META if k != "id" and k not in meta]
    if missing:
        raise RuleError(f"{source}: metadata lacks {', '.join(missing)}")
    declared_id = meta.get("id", rule_id)
    if declared_id != rule_id:
        raise RuleError(f"{source}: metadata id {declared_id!r} does not match {rule_id!r}")
    try:
        return RuleMeta(
            id=rule_id,
            engine=engine,
            category=Category(meta["category"]),
            severity=Severity(meta["severity"]),
            confidence=Confidence(meta["confidence"]),
            description=" ".join(str(meta["description"]).split()),  # YAML block text on one line
            status=RuleStatus(meta["status"]),
        )
    except ValueError as e:
        raise RuleError(f"{source}: bad metadata: {e}") from e


def load_rule_data(path: Path, engine: str, required: tuple[str, ...]) -> dict[str, Any]:
    """An engine's rule data file: a YAML mapping that must define `required` keys."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise RuleError(f"{engine}: cannot load rules from {path}: {e}") from e
    if not isinstance(data, dict) or any(k not in data for k in required):
        raise RuleError(f"{engine}: {path} must define {', '.join(required)}")
    return data


def metas_from_specs(engine: str, specs: Mapping[str, Any], source: str) -> dict[str, RuleMeta]:
    """Rule id → metadata for a mapping of rule specs (status defaults to stable)."""
    out = {}
    for rule_id, spec in specs.items():
        if not isinstance(spec, Mapping):
            raise RuleError(f"{source}: rule {rule_id} must be a mapping")
        out[rule_id] = meta_from_mapping(rule_id, engine, {"status": "stable", **spec}, source)
    return out


def yara_rule_files(settings: Settings) -> list[Path]:
    """Public rule files (one rule each); private helpers in `_shared/` are pulled in by `include`."""
    return sorted(settings.yara_rules_dir.glob("*.yar"))


def semgrep_rule_files(settings: Settings) -> list[Path]:
    return sorted(settings.semgrep_rules_dir.glob("*.yaml"))


def _digest_inputs(settings: Settings) -> list[Path]:
    files: list[Path] = []
    files += sorted(settings.yara_rules_dir.rglob("*.yar"))
    files += sorted(settings.semgrep_rules_dir.rglob("*.yaml"))
    # Rules of the code-based engines and the default policy are data files inside the package; a
    # wheel's copy of the rule folders is in there too, counted above only when it is the one in use.
    files += sorted(p for p in PACKAGE_DIR.rglob("*.yaml") if not _outside_digest(p))
    if settings.policy_file is not None:
        files.append(settings.policy_file)
    return files


def _outside_digest(path: Path) -> bool:
    return path.is_relative_to(BUNDLED_RULES_DIR) or "templates" in path.relative_to(PACKAGE_DIR).parts


def ruleset_digest(settings: Settings) -> str:
    """sha256 over every rule file, the verdict policy and the skillscan version (first 16 hex)."""
    h = hashlib.sha256(f"skillscan {__version__}\n".encode())
    for path in _digest_inputs(settings):
        try:
            data = path.read_bytes()
        except OSError as e:
            raise RuleError(f"cannot read rule file {path}: {e.strerror}") from e
        h.update(f"{path.name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:16]


def all_rules(settings: Settings) -> list[RuleMeta]:
    """Metadata of every rule of every default engine, sorted by id."""
    from skillscan.diff import rules as update_diff_rules
    from skillscan.scan import default_analyzers

    metas: dict[str, RuleMeta] = {}
    analyzers = default_analyzers(settings)
    # The update diff compares two versions, so it is no per-skill analyzer; its rule is listed too.
    per_engine = [a.rules() for a in analyzers] + [update_diff_rules()]
    if not any(a.name == "reputation" for a in analyzers):
        per_engine.append(_reputation_rules())  # listed even when no VirusTotal key is configured
    for analyzer in analyzers:
        analyzer.close()
    for engine_rules in per_engine:
        for meta in engine_rules:
            if meta.id in metas and metas[meta.id].engine != meta.engine:
                raise RuleError(
                    f"rule id {meta.id!r} is defined by {metas[meta.id].engine} and {meta.engine}"
                )
            metas[meta.id] = meta
    from skillscan.manifest import inventory_rules  # findings of safe unpack (analyzer "bundle")

    for meta in inventory_rules():
        metas.setdefault(meta.id, meta)
    return sorted(metas.values(), key=lambda m: m.id)


def _reputation_rules() -> list[RuleMeta]:
    try:
        from skillscan.analyzers.reputation.analyzer import load_rules
    except ModuleNotFoundError as e:  # the reputation engine is optional
        if e.name and e.name.startswith("skillscan.analyzers.reputation"):
            return []
        raise
    return load_rules()
