"""A skill version's capability profile: what it can make an agent's machine do.

Derived from the inventoried skill (scripts, markdown code blocks and inline commands, decoded
payloads, frontmatter install specs, bundled binaries) and from the scan's findings. Comparing
the profiles of two versions shows what an update adds (`skillscan.diff`). Each item keeps the
first real file and line where it was seen, so a finding about it points somewhere useful.
Nothing is executed; every pattern is bounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from skillscan.analyzers.regex_prefilter import literal_prefilter
from skillscan.literal_gates import Gate, LiteralGates
from skillscan.models import Category, FileKind, Finding, Skill, SkillFile, VirtualOrigin
from skillscan.normalize import fold_case
from skillscan.profile_patterns import (
    CREDENTIAL_RES,
    DETECTORS,
    ENV_RES,
    EXEC_RES,
    HOST_OK,
    HOST_RES,
    LOOPBACK,
    PERSISTENCE_RES,
    PKG_INSTALL,
    PKG_TOKEN,
    SHELL_NOISE,
    WHOLE_ENV,
    WORD_GATES,
)
from skillscan.textlines import LineCounter

NETWORK_HOSTS = "network_hosts"
PROCESS_EXEC = "process_exec"
CREDENTIAL_PATHS = "credential_paths"
ENV_VARS = "env_vars"
INSTALL_SPECS = "install_specs"
PERSISTENCE = "persistence"
BINARIES = "binaries"
AGENT_COMMANDS = "agent_commands"

CAPABILITIES: tuple[str, ...] = (
    PROCESS_EXEC,
    NETWORK_HOSTS,
    CREDENTIAL_PATHS,
    PERSISTENCE,
    BINARIES,
    INSTALL_SPECS,
    AGENT_COMMANDS,
    ENV_VARS,
)
LABELS: Mapping[str, str] = {
    NETWORK_HOSTS: "network hosts",
    PROCESS_EXEC: "process execution",
    CREDENTIAL_PATHS: "credential paths read",
    ENV_VARS: "environment variables read",
    INSTALL_SPECS: "install specs",
    PERSISTENCE: "persistence locations",
    BINARIES: "bundled binaries",
    AGENT_COMMANDS: "commands the agent is told to run",
}

MAX_ITEMS_PER_CAPABILITY = 200  # a hostile skill cannot grow a profile without bound
_MAX_SCAN_CHARS = 512 * 1024  # per file: profiles need the gist, not every byte of a huge file


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    line: int | None


@dataclass(frozen=True)
class CapabilityProfile:
    items: Mapping[str, Mapping[str, Location]] = field(default_factory=dict)

    def get(self, capability: str) -> frozenset[str]:
        return frozenset(self.items.get(capability, {}))

    def location(self, capability: str, item: str) -> Location | None:
        return self.items.get(capability, {}).get(item)

    def is_empty(self) -> bool:
        return not any(self.items.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            cap: [
                {"item": k, "path": loc.path, "line": loc.line} for k, loc in sorted(self.items[cap].items())
            ]
            for cap in CAPABILITIES
            if self.items.get(cap)
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CapabilityProfile:
        items: dict[str, dict[str, Location]] = {}
        for cap, entries in d.items():
            if cap in LABELS and isinstance(entries, list):
                items[cap] = {
                    str(e["item"]): Location(str(e.get("path", "")), e.get("line"))
                    for e in entries
                    if "item" in e
                }
        return cls(items=items)


_CMD_SPLIT = re.compile(r"\|\|?|&&|;")
_CMD_TOKEN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+\-]{0,60}$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = frozenset({"sudo", "env", "nohup", "exec", "time", "command"})
_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")


def _scan_text(f: SkillFile) -> str:
    return (f.text or "")[:_MAX_SCAN_CHARS]


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


@cache
def _gates() -> LiteralGates[re.Pattern[str]]:
    """Each detector's gate: its word gate, else its prefilter's literals, else none (always runs)."""
    gates: dict[re.Pattern[str], Gate | None] = {}
    for pattern in DETECTORS:
        prefilter = literal_prefilter(pattern.pattern)
        if pattern in WORD_GATES:
            gates[pattern] = WORD_GATES[pattern]
        elif prefilter is not None and prefilter.folded:
            gates[pattern] = Gate(literals=prefilter.literals)
        else:
            gates[pattern] = None
    return LiteralGates(gates)


class _Text:
    """A file's text and the detectors whose gates it opens (one pass over it). Most detectors
    need a word most files lack: the pass rules them out before their regex runs."""

    __slots__ = ("open", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.open = _gates().open(fold_case(text))

    def may_match(self, pattern: re.Pattern[str]) -> bool:
        """False only when `pattern` cannot match (a gate never drops a match)."""
        return pattern in self.open or pattern not in _gates().keys

    def first(self, patterns: Iterable[re.Pattern[str]]) -> int | None:
        """Where the earliest match of any of `patterns` starts (None: none matches)."""
        start = None
        for pattern in patterns:
            m = pattern.search(self.text) if self.may_match(pattern) else None
            if m is not None and (start is None or m.start() < start):
                start = m.start()
        return start


class _Builder:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Location]] = {cap: {} for cap in CAPABILITIES}

    def full(self, capability: str) -> bool:
        return len(self.items[capability]) >= MAX_ITEMS_PER_CAPABILITY

    def wants(self, capability: str, item: str) -> bool:
        """Whether `add` would keep `item` (so its line is worth counting)."""
        return item not in self.items[capability] and not self.full(capability)

    def add(self, capability: str, item: str, f: SkillFile | None, line: int | None, path: str = "") -> None:
        if not self.wants(capability, item):
            return
        bucket = self.items[capability]
        if f is not None:
            bucket[item] = Location(f.real_path, f.real_line(line))
        else:
            bucket[item] = Location(path, line)

    def profile(self) -> CapabilityProfile:
        return CapabilityProfile(items={cap: dict(v) for cap, v in self.items.items() if v})


def _is_code(f: SkillFile) -> bool:
    if f.virtual is None:
        return f.kind.is_script
    return f.virtual in (VirtualOrigin.CODE_BLOCK, VirtualOrigin.INLINE_CODE, VirtualOrigin.DECODED) or (
        f.kind.is_script
    )


def _is_config(f: SkillFile) -> bool:
    return f.virtual is None and f.kind in (FileKind.JSON, FileKind.YAML, FileKind.TOML)


def _is_agent_instruction(f: SkillFile) -> bool:
    origin = (f.origin_path or "").lower()
    return (
        f.virtual in (VirtualOrigin.CODE_BLOCK, VirtualOrigin.INLINE_CODE)
        and origin.endswith(_MARKDOWN_SUFFIXES)
        and f.kind in (FileKind.SHELL, FileKind.POWERSHELL)
    )


def _hosts(b: _Builder, f: SkillFile, t: _Text) -> None:
    text = t.text
    for pattern in HOST_RES:
        if not t.may_match(pattern):
            continue
        lines = LineCounter(text)
        for m in pattern.finditer(text):
            if b.full(NETWORK_HOSTS):
                return
            host = m.group(1).lower().rstrip(".")
            if host in LOOPBACK or not HOST_OK.match(host) or ("." not in host and not host.startswith("[")):
                continue
            if b.wants(NETWORK_HOSTS, host):
                b.add(NETWORK_HOSTS, host, f, lines.at(m.start()))


def _parts(
    table: Iterable[tuple[re.Pattern[str], str]],
) -> tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]:
    """(name, patterns) in table order: entries sharing a name are parts of one detector."""
    parts: dict[str, list[re.Pattern[str]]] = {}
    for pattern, name in table:
        parts.setdefault(name, []).append(pattern)
    return tuple((name, tuple(patterns)) for name, patterns in parts.items())


_EXEC_PARTS, _CREDENTIAL_PARTS, _PERSISTENCE_PARTS = (
    _parts(EXEC_RES),
    _parts(CREDENTIAL_RES),
    _parts(PERSISTENCE_RES),
)


def _patterns(
    b: _Builder, cap: str, parts: Iterable[tuple[str, tuple[re.Pattern[str], ...]]], f: SkillFile, t: _Text
) -> None:
    for name, patterns in parts:
        start = t.first(patterns)
        if start is not None:
            b.add(cap, name, f, _line_of(t.text, start))


def _env(b: _Builder, f: SkillFile, t: _Text) -> None:
    text = t.text
    shellish = f.kind in (FileKind.SHELL, FileKind.POWERSHELL) or f.virtual is not None
    for i, pattern in enumerate(ENV_RES):
        if i == len(ENV_RES) - 1 and not shellish:
            continue  # $NAME is a shell read; in Python/JS it is usually a template
        if not t.may_match(pattern):
            continue
        lines = LineCounter(text)
        for m in pattern.finditer(text):
            if b.full(ENV_VARS):
                return
            name = next(g for g in m.groups() if g)
            if i == len(ENV_RES) - 1 and name in SHELL_NOISE:
                continue
            if b.wants(ENV_VARS, name):
                b.add(ENV_VARS, name, f, lines.at(m.start()))
    whole = t.first(WHOLE_ENV)
    if whole is not None:
        b.add(ENV_VARS, "(entire environment)", f, _line_of(text, whole))


def _installs_in_text(b: _Builder, f: SkillFile, t: _Text) -> None:
    if not t.may_match(PKG_INSTALL):
        return
    text = t.text
    lines = LineCounter(text)
    for m in PKG_INSTALL.finditer(text):
        if b.full(INSTALL_SPECS):
            return
        manager = m.group(1).split()[0]
        for token in m.group(2).split()[:8]:
            if token.startswith("-") or not PKG_TOKEN.match(token) or token in {"install", "add"}:
                continue
            item = f"{manager}:{token}"
            if b.wants(INSTALL_SPECS, item):
                b.add(INSTALL_SPECS, item, f, lines.at(m.start()))


def _agent_commands(b: _Builder, f: SkillFile, text: str) -> None:
    for n, line in enumerate(text.splitlines()[:2000], start=1):
        line = line.strip().lstrip("$>").strip()
        if not line or line.startswith("#"):
            continue
        for segment in _CMD_SPLIT.split(line):
            # The program is the first word that is neither an assignment nor a wrapper.
            word = next((w for w in segment.split() if not _ASSIGNMENT.match(w) and w not in _WRAPPERS), None)
            if word is not None:
                program = word.rsplit("/", 1)[-1]
                if _CMD_TOKEN.match(program):
                    b.add(AGENT_COMMANDS, program, f, n)


def _frontmatter_installs(b: _Builder, skill: Skill) -> None:
    fm = skill.frontmatter or {}
    meta: Any = fm.get("metadata")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            meta = None
    blocks = [meta.get(k) for k in ("openclaw", "clawdbot", "clawdis")] if isinstance(meta, dict) else []
    blocks.append(fm.get("clawdis"))
    blocks.append(fm)  # top-level fallbacks (`dependencies`, `install`)
    skill_md = next((f.path for f in skill.real_files if f.path.lower() == "skill.md"), "SKILL.md")
    for block in blocks:
        if not isinstance(block, dict):
            continue
        for spec in _as_list(block.get("install")):
            if isinstance(spec, dict):
                kind = str(spec.get("kind") or spec.get("type") or "install")
                what = (
                    spec.get("formula")
                    or spec.get("package")
                    or spec.get("module")
                    or spec.get("url")
                    or spec.get("id")
                )
                if what:
                    b.add(INSTALL_SPECS, f"{kind}:{str(what)[:200]}", None, None, skill_md)
        for dep in _as_list(block.get("dependencies")):
            if isinstance(dep, dict) and dep.get("name"):
                b.add(
                    INSTALL_SPECS,
                    f"{dep.get('type') or 'dep'}:{str(dep['name'])[:200]}",
                    None,
                    None,
                    skill_md,
                )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# Finding categories that are themselves capabilities, whatever the text looked like.
_FINDING_CAPABILITIES: Mapping[Category, str] = {
    Category.REVERSE_SHELL: PROCESS_EXEC,
    Category.REMOTE_EXEC: PROCESS_EXEC,
    Category.CRYPTOMINER: PROCESS_EXEC,
    Category.CREDENTIAL_ACCESS: CREDENTIAL_PATHS,
    Category.PERSISTENCE: PERSISTENCE,
    Category.AGENT_TAMPERING: PERSISTENCE,
}


def extract_profile(skill: Skill, findings: Sequence[Finding] = ()) -> CapabilityProfile:
    b = _Builder()
    for f in skill.files:
        if (f.virtual is None and (f.kind is FileKind.BINARY or f.text is None) and f.size) or (
            f.virtual is VirtualOrigin.ARCHIVE and f.text is None and f.size
        ):
            b.add(BINARIES, f"{f.path} (sha256:{f.sha256[:12]})", f, None)
        text = _scan_text(f)
        if not text:
            continue
        code = _is_code(f)
        if code or _is_config(f):
            t = _Text(text)
            _hosts(b, f, t)
        if code:
            _patterns(b, PROCESS_EXEC, _EXEC_PARTS, f, t)
            _patterns(b, CREDENTIAL_PATHS, _CREDENTIAL_PARTS, f, t)
            _patterns(b, PERSISTENCE, _PERSISTENCE_PARTS, f, t)
            _env(b, f, t)
            _installs_in_text(b, f, t)
            if f.virtual is None and f.kind in (FileKind.SHELL, FileKind.POWERSHELL):
                b.add(PROCESS_EXEC, f"{f.kind} script", f, 1)
        if _is_agent_instruction(f):
            _agent_commands(b, f, text)
    _frontmatter_installs(b, skill)
    for finding in findings:
        cap = _FINDING_CAPABILITIES.get(finding.category)
        if cap is not None:
            b.add(cap, f"{finding.category}: {finding.rule_id}", None, finding.line, finding.path)
    return b.profile()
