"""Checks on the ``metadata.openclaw`` block and its aliases (clawhub-api.md §2.5).

ClawHub reads ``clawdbot`` first, then ``clawdis``, then ``openclaw``; OpenClaw reads ``openclaw``
first. Two blocks that disagree therefore show the registry one skill and the agent another.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from skillscan.models import Severity

BLOCK_NAMES = ("openclaw", "clawdbot", "clawdis")
# Fields whose value changes what the agent requires, installs or loads.
_EFFECTIVE = ("requires", "install", "always", "primaryEnv", "os", "envVars", "env", "skillKey", "config")
_STR_FIELDS = ("skillKey", "primaryEnv", "emoji", "homepage", "cliHelp", "author")
_OS_VALUES = frozenset({"darwin", "linux", "win32", "macos", "windows", "freebsd", "openbsd"})
_INSTALL_KINDS = frozenset({"brew", "node", "go", "uv", "download", "npm", "pip", "cargo", "apt"})
_DEP_TYPES = frozenset({"pip", "npm", "brew", "go", "cargo", "apt", "other"})

Issue = tuple[str, str, str, Severity | None]  # rule id, message, evidence, severity override


def metadata_blocks(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every openclaw-style block that is a mapping: metadata.<name>, then top-level clawdis."""
    return [block for _, block in _named_blocks(data) if isinstance(block, dict)]


def _named_blocks(data: dict[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    meta = data.get("metadata")
    if isinstance(meta, dict):
        out.extend((f"metadata.{n}", meta[n]) for n in BLOCK_NAMES if n in meta)
    if "clawdis" in data:
        out.append(("clawdis", data["clawdis"]))
    return out


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in {"true", "yes", "on", "1"})


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _schema(name: str, block: Any) -> Iterator[str]:
    if not isinstance(block, dict):
        yield f"{name} is a {type(block).__name__}, not a mapping"
        return
    if "always" in block and not isinstance(block["always"], bool):
        yield f"{name}.always is not a boolean"
    for key in _STR_FIELDS:
        if key in block and not isinstance(block[key], str):
            yield f"{name}.{key} is not a string"
    if "os" in block:
        os_value = block["os"]
        if not _is_str_list(os_value):
            yield f"{name}.os is not a list of strings"
        else:
            unknown = [v for v in os_value if v.lower() not in _OS_VALUES]
            if unknown:
                yield f"{name}.os has unknown values {unknown[:5]}"
    requires = block.get("requires")
    if requires is not None:
        if not isinstance(requires, dict):
            yield f"{name}.requires is not a mapping"
        else:
            for key in ("bins", "anyBins", "env", "config"):
                if key in requires and not _is_str_list(requires[key]):
                    yield f"{name}.requires.{key} is not a list of strings"
    install = block.get("install")
    if install is not None:
        if not isinstance(install, list):
            yield f"{name}.install is not a list"
        else:
            for i, entry in enumerate(install[:50]):
                if not isinstance(entry, dict):
                    yield f"{name}.install[{i}] is not a mapping"
                    continue
                kind = entry.get("kind", entry.get("type"))
                if kind not in _INSTALL_KINDS:
                    yield f"{name}.install[{i}] has unknown kind {str(kind)[:40]!r}"
                if kind == "download" and not isinstance(entry.get("url"), str):
                    yield f"{name}.install[{i}] of kind download has no url"
    for key in ("envVars", "env"):
        entries = block.get(key)
        if entries is not None and not (
            isinstance(entries, list)
            and all(isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries)
        ):
            yield f"{name}.{key} is not a list of {{name, required?, description?}}"
    deps = block.get("dependencies")
    if deps is not None:
        if not isinstance(deps, list):
            yield f"{name}.dependencies is not a list"
        else:
            for i, dep in enumerate(deps[:50]):
                if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
                    yield f"{name}.dependencies[{i}] has no name"
                elif dep.get("type") is not None and dep.get("type") not in _DEP_TYPES:
                    yield f"{name}.dependencies[{i}] has unknown type {str(dep.get('type'))[:40]!r}"
    for key in ("links", "config", "nix"):
        if key in block and not isinstance(block[key], dict):
            yield f"{name}.{key} is not a mapping"


def _canonical(block: dict[str, Any]) -> dict[str, str]:
    return {k: json.dumps(block.get(k), sort_keys=True, default=str) for k in _EFFECTIVE if k in block}


def _disagreement(named: list[tuple[str, Any]]) -> Issue | None:
    blocks = [(n, b) for n, b in named if isinstance(b, dict)]
    if len(blocks) < 2:
        return None
    first_name, first = blocks[0]
    base = _canonical(first)
    for other_name, other in blocks[1:]:
        theirs = _canonical(other)
        differing = sorted(k for k in set(base) | set(theirs) if base.get(k) != theirs.get(k))
        if differing:
            return (
                "metadata-blocks-disagree",
                f"{first_name} and {other_name} declare different {', '.join(differing)}: ClawHub reads "
                "clawdbot first, OpenClaw reads openclaw first",
                f"{first_name} vs {other_name}: {', '.join(differing)}",
                None,
            )
    return None


def _download_severity(url: Any) -> Severity | None:
    if not isinstance(url, str):
        return Severity.HIGH
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "https":
        return Severity.HIGH
    try:
        ipaddress.ip_address((parts.hostname or "").strip("[]"))
        return Severity.HIGH
    except ValueError:
        return None


def metadata_findings(data: dict[str, Any]) -> Iterator[Issue]:
    named = _named_blocks(data)
    for name, block in named:
        for problem in _schema(name, block):
            yield "metadata-schema", problem, problem, None
    issue = _disagreement(named)
    if issue:
        yield issue
    seen_urls: set[str] = set()
    for name, block in named:
        install = block.get("install") if isinstance(block, dict) else None
        if not isinstance(install, list):
            continue
        for entry in install[:50]:
            if not isinstance(entry, dict) or entry.get("kind", entry.get("type")) != "download":
                continue
            url = entry.get("url")
            key = str(url)
            if key in seen_urls:
                continue
            seen_urls.add(key)
            yield (
                "install-download",
                f"{name}.install downloads and extracts {str(url)[:120]!r}; ClawHub drops download entries, "
                "so the registry page does not show this installer",
                str(url),
                _download_severity(url),
            )
    top_always = _truthy(data.get("always"))
    hidden = [n for n, b in named if isinstance(b, dict) and _truthy(b.get("always"))]
    if hidden and not top_always:
        yield (
            "always-enabled",
            f"{hidden[0]}.always is true: the skill loads into every session, and ClawHub's check reads only the "
            "top-level key",
            f"{hidden[0]}.always: true",
            Severity.MEDIUM,
        )
    elif top_always:
        yield "always-enabled", "always: true loads the skill into every session", "always: true", None
