"""What a skill's scripts use from their environment: env vars read and programs run.

Simple, bounded regexes per language (ClawHub's own metadata-mismatch check is no deeper). A
shell variable assigned in the same script is local, not an env requirement; a variable with a
default (``${X:-…}``) is optional.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from skillscan.models import FileKind, SkillFile
from skillscan.textlines import LineCounter

_MAX_SCAN_CHARS = 1024 * 1024

_PY_ENV = re.compile(
    r"""\b(?:os\.)?environ(?:\.get)?\s{0,4}[\[(]\s{0,4}['"]([A-Za-z_][A-Za-z0-9_]{0,80})['"]|"""
    r"""\bos\.getenv\(\s{0,4}['"]([A-Za-z_][A-Za-z0-9_]{0,80})['"]"""
)
_JS_ENV = re.compile(
    r"""\b(?:process|Bun)\.env\.([A-Za-z_][A-Za-z0-9_]{0,80})|"""
    r"""\b(?:process|Bun)\.env\[\s{0,4}['"`]([A-Za-z_][A-Za-z0-9_]{0,80})['"`]\s{0,4}\]|"""
    r"""\bDeno\.env\.get\(\s{0,4}['"`]([A-Za-z_][A-Za-z0-9_]{0,80})['"`]"""
)
_SH_ENV = re.compile(r"\$\{?([A-Z][A-Z0-9_]{1,80})(\}|:?[-=?+])?")
# Whitespace inside line-anchored patterns is [ \t], never \s: \s would let one match attempt
# wander across many empty lines, which turns a file of newlines into a slow case.
_SH_ASSIGN = re.compile(
    r"(?:^|[;&|][ \t]{0,4}|\b(?:export|local|readonly|declare|typeset)(?:[ \t]{1,4}-\w{1,4})?[ \t]{1,4})"
    r"([A-Za-z_][A-Za-z0-9_]{0,80})\+?=",
    re.M,
)
_SH_READ = re.compile(
    r"\b(?:read(?:[ \t]{1,4}-\w{1,4}(?:[ \t]{1,4}[^\s]{1,40})?){0,4}|for)[ \t]{1,4}([A-Za-z_][A-Za-z0-9_]{0,80})"
)
_PS_ENV = re.compile(r"\$env:([A-Za-z_][A-Za-z0-9_]{0,80})", re.I)

_PY_BIN = re.compile(
    r"""\b(?:subprocess\.(?:run|call|check_call|check_output|Popen)|os\.system|os\.popen|"""
    r"""os\.exec\w{1,3}|shutil\.which)\(\s{0,4}\[?\s{0,4}[fr]?['"]([A-Za-z0-9_][\w.+-]{0,60})"""
)
_JS_BIN = re.compile(
    r"""\b(?:exec|execSync|execFile|execFileSync|spawn|spawnSync)\(\s{0,4}['"`]([A-Za-z0-9_][\w.+-]{0,60})"""
)
# Command position in a shell line: line start, or after | && || ; $( ` (then optional sudo/env).
_SH_CMD = re.compile(
    r"(?:^|\|\|?|&&|;|\$\(|`|\{|\(|\bthen\b|\bdo\b|\belse\b)[ \t]{0,8}"
    r"(?:sudo[ \t]{1,4}|exec[ \t]{1,4}|command[ \t]{1,4})?"
    r"([a-z][\w.+-]{0,60})(?=[ \t]|$|;)",
    re.M,
)
_HEREDOC = re.compile(r"<<-?[ \t]{0,4}['\"]?([A-Za-z_]\w{0,40})['\"]?")
_SH_FUNC = re.compile(
    r"^[ \t]{0,8}(?:function[ \t]{1,4})?([A-Za-z_][\w-]{0,60})[ \t]{0,4}\([ \t]{0,4}\)", re.M
)
_COMMENT_LINE = re.compile(r"^[ \t]*#[^\n]*", re.M)
MAX_USES_PER_FILE = 200


@dataclass(frozen=True, slots=True)
class Use:
    name: str
    path: str  # real path
    line: int | None


def _shell_locals(text: str) -> set[str]:
    names = {m.group(1) for m in _SH_ASSIGN.finditer(text)}
    names.update(m.group(1) for m in _SH_READ.finditer(text))
    return names


def _strip_shell_comments(text: str) -> str:
    """Blank comment lines and here-document bodies (data, not commands); keeps line numbers."""
    text = _COMMENT_LINE.sub("", text)  # comment lines only: '#' mid-line may be ${#x} or a URL
    parts: list[str] = []
    pos = 0
    for m in _HEREDOC.finditer(text):
        if m.start() < pos:
            continue
        body = text.find("\n", m.end())
        if body < 0:
            break
        end = re.compile(r"^[ \t]*" + re.escape(m.group(1)) + r"[ \t]*$", re.M).search(text, body + 1)
        stop = end.end() if end else len(text)
        parts.append(text[pos : body + 1])
        parts.append("\n" * text.count("\n", body + 1, stop))
        pos = stop
    parts.append(text[pos:])
    return "".join(parts)


def env_uses(f: SkillFile) -> Iterator[Use]:
    """Environment variables a script reads (first use of each)."""
    text = (f.text or "")[:_MAX_SCAN_CHARS]
    seen: set[str] = set()
    matches: list[tuple[int, str]] = []
    if f.kind is FileKind.PYTHON:
        matches = [(m.start(), m.group(1) or m.group(2)) for m in _PY_ENV.finditer(text)]
    elif f.kind in (FileKind.JAVASCRIPT, FileKind.TYPESCRIPT):
        matches = [(m.start(), m.group(1) or m.group(2) or m.group(3)) for m in _JS_ENV.finditer(text)]
    elif f.kind is FileKind.POWERSHELL:
        matches = [(m.start(), m.group(1)) for m in _PS_ENV.finditer(text)]
    elif f.kind is FileKind.SHELL:
        text = _strip_shell_comments(text)
        local = _shell_locals(text)
        for m in _SH_ENV.finditer(text):
            name, suffix = m.group(1), m.group(2) or ""
            if name in local or suffix[:2] in (":-", ":=", "-", "="):
                continue
            matches.append((m.start(), name))
    lines = LineCounter(text)
    for offset, name in matches:
        if name and name not in seen:
            seen.add(name)
            yield Use(name, f.real_path, f.real_line(lines.at(offset)))
            if len(seen) >= MAX_USES_PER_FILE:
                return


def binary_uses(f: SkillFile) -> Iterator[Use]:
    """Programs a script runs by name (first use of each)."""
    text = (f.text or "")[:_MAX_SCAN_CHARS]
    seen: set[str] = set()
    if f.kind is FileKind.PYTHON:
        rx = _PY_BIN
        skip: set[str] = set()
    elif f.kind in (FileKind.JAVASCRIPT, FileKind.TYPESCRIPT):
        rx = _JS_BIN
        skip = set()
    elif f.kind is FileKind.SHELL:
        text = _strip_shell_comments(text)
        rx = _SH_CMD
        skip = {m.group(1) for m in _SH_FUNC.finditer(text)} | _shell_locals(text)
    else:
        return
    lines = LineCounter(text)
    for m in rx.finditer(text):
        name = m.group(1).rsplit("/", 1)[-1]
        if name in seen or name in skip or "=" in name:
            continue
        seen.add(name)
        yield Use(name, f.real_path, f.real_line(lines.at(m.start(1))))
        if len(seen) >= MAX_USES_PER_FILE:
            return
