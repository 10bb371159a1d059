"""Shared state and shell anatomy for the shell threat checks (reverse shells, persistence,
destructive commands, exfiltration): one scan of one shell text, its hits, and predicates over
tree-sitter-bash nodes (pipeline stages, redirect targets, what a command reads or uploads).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from tree_sitter import Node

from skillscan.analyzers.treesitter.parsing import walk
from skillscan.analyzers.treesitter.scan_hits import Hits
from skillscan.analyzers.treesitter.sensitive import ThreatContext, sensitive_path
from skillscan.analyzers.treesitter.shell_text import evidence_of
from skillscan.analyzers.treesitter.shell_words import SHELLS, Cmd, base_name, literal, peel, text

NETCATS = frozenset({"nc", "ncat", "netcat", "nc.traditional", "nc.openbsd", "telnet"})
DECODERS = frozenset({"base64", "base32", "basenc", "xxd", "openssl", "uudecode"})
ENCODERS = frozenset({"base64", "base32", "basenc", "xxd", "gzip", "bzip2", "xz", "zstd", "openssl", "od"})
ENV_DUMPERS = frozenset({"env", "printenv", "set", "export", "declare", "compgen"})
READERS = frozenset(
    {"cat", "head", "tail", "less", "more", "base64", "xxd", "od", "strings", "gzip", "bzip2", "xz",
     "zip", "tar", "openssl", "jq", "sed", "awk", "grep", "cp", "sqlite3", "plutil", "dd", "tac"}
)  # fmt: skip
REMOTE_COPY = frozenset({"scp", "rsync", "sftp", "ftp", "lftp", "rclone"})
MAILERS = frozenset({"mail", "mailx", "sendmail", "mutt", "msmtp"})
DNS_TOOLS = frozenset({"dig", "nslookup", "host", "drill", "resolvectl", "getent", "ping", "ping6"})
# What a persisted command or appended rc line must not contain: fetches, decoders, raw sockets,
# hidden drop locations, interactive shells and wrappers around credential-prompting commands.
PAYLOAD = re.compile(
    r"(?i)\b(?:curl|wget|fetch)\s|/dev/(?:tcp|udp)/|\b(?:nc|ncat|netcat|socat|telnet)\s|"
    r"\bbase64\s{1,3}(?:-d|-D|--decode)|\bxxd\s{1,3}-r|\beval\b|\b(?:python\d?(?:\.\d{1,2})?|perl|ruby|node)\s{1,3}-[ce]\s|"
    r"\bosascript\b|/tmp/\.|/var/tmp/\.|/dev/shm/|\b(?:ba|z)?sh\s{1,3}-i\b|\bmkfifo\b|"
    r"\balias\s{1,3}(?:sudo|su|ssh|scp|git|gpg|doas|security)=|\bexport\s{1,3}(?:LD_PRELOAD|DYLD_INSERT_LIBRARIES)="
)
# chmod modes reported (`shell_threats._permissions`), as alternatives matched against a whole
# mode or a whole word of a text (`shell_gate`): world-writable (an octal mode whose "other" digit
# has the write bit, or +w for o / a / everyone) ...
CHMOD_WIDE = r"0?[0-7]?[0-7][0-7][2367]|(?:[ug]{0,2}[oa][ugoa]{0,2})?\+[rx]{0,2}w[rxX]{0,2}"
# ... and setuid / setgid.
CHMOD_SETUID = r"[ugoa]{0,3}\+[rwxt]{0,3}s[rwxt]{0,3}|[2467][0-7]{3}"
CREDENTIAL_WORDS = re.compile(
    r"(?i)\b(?:credentials?|passwords?|passwd|secrets?|tokens?|api[_-]?keys?|private[_-]?keys?|mnemonic|seed[_ ]phrase)\b"
)
_VAR_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]{0,63})")
MAX_VISITED = 200_000  # nodes walked per text (statements replayed from the memo are not walked)


@dataclass
class ShellScan:
    """One shell text being scanned: its context, literal assignments and hits so far.

    Statements are analysed once per distinct text (scan_hits.StatementMemo): what one does to
    the scan besides hits (`fetched_at`, `decodes_file`) is recorded so a repeat can replay it."""

    ctx: ThreatContext
    env: Mapping[str, str]
    depth: int = 0
    hits: Hits = field(default_factory=Hits)
    root: Node | None = None  # the script, whose own variable names `assigned` collects when needed
    more_assigned: frozenset[str] = frozenset()  # names set elsewhere (other blocks of a document)
    fetch_lines: set[int] = field(default_factory=set)  # lines holding a download
    file_decodes: list[tuple[int, Node | str]] = field(default_factory=list)  # `base64 -d <file>`
    cmds: dict[int, Cmd] = field(default_factory=dict)  # peel() of the current statement's commands
    budget: int = MAX_VISITED

    @cached_property
    def assigned(self) -> frozenset[str]:
        """Names the script sets itself (not inherited env)."""
        return (assigned_names(self.root) if self.root is not None else frozenset()) | self.more_assigned

    def hit(self, node: Node, rule: str, message: str) -> None:
        self.hits.add(rule, node.start_point[0] + 1, message, node)

    def peel(self, node: Node) -> Cmd:
        cmd = self.cmds.get(node.id)
        if cmd is None:
            cmd = self.cmds[node.id] = peel(node, self.env)
        return cmd

    def fetched_at(self, node: Node) -> None:
        self.fetch_lines.add(node.start_point[0] + 1)
        if self.hits.recording is not None:
            self.hits.recording.effects.append(("fetch", node.start_point[0] + 1 - self.hits.base))

    def decodes_file(self, node: Node) -> None:
        self.file_decodes.append((node.start_point[0] + 1, node))
        if self.hits.recording is not None:
            rel = node.start_point[0] + 1 - self.hits.base
            self.hits.recording.effects.append(("decode", rel, evidence_of(node)))

    def replay(self, effect: tuple[Any, ...], base_line: int) -> None:
        """A remembered statement's effect, at its new line (StatementMemo)."""
        if effect[0] == "fetch":
            self.fetch_lines.add(base_line + effect[1])
        else:
            self.file_decodes.append((base_line + effect[1], effect[2]))

    def env_vars(self, s: str, depth: int = 0) -> list[str]:
        """Inherited environment variables a text refers to, seen through local aliases
        (`API_KEY="${ZEROX_API_KEY}"` -> ZEROX_API_KEY); names the script computes itself drop out."""
        out: list[str] = []
        for v in var_refs(s):
            if v in self.env and depth < 3:
                out += self.env_vars(self.env[v], depth + 1)
            elif v not in self.assigned:
                out.append(v)
        return out

    def words(self, cmd: Cmd) -> list[str]:
        """Literal argument texts ("" where an argument is not literal)."""
        return [literal(a, self.env) or "" for a in cmd.args]

    def raw_words(self, cmd: Cmd) -> list[str]:
        """Argument texts as written (variables and substitutions kept)."""
        return [text(a) for a in cmd.args]


MAX_STAGES = 64  # real pipelines are short; a hostile one of thousands is judged on its head


def stages(pipeline: Node) -> list[Node]:
    """The commands of a pipeline, in order (redirected statements and subshells kept whole)."""
    return [c for c in pipeline.named_children[:MAX_STAGES] if c.type not in {"comment"}]


def stage_commands(stage: Node, scan: ShellScan) -> list[Cmd]:
    """Commands inside one pipeline stage (a subshell stage may hold several)."""
    if stage.type == "command":
        return [scan.peel(stage)]
    return [scan.peel(n) for n in walk(stage, 5000) if n.type == "command"]


def enclosing(node: Node, types: frozenset[str], limit: int = 6) -> Node | None:
    cur = node.parent
    while cur is not None and limit > 0:
        if cur.type in types:
            return cur
        cur = cur.parent
        limit -= 1
    return None


def redirect_targets(stmt: Node, env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(operator, literal destination) of each file redirect of a redirected statement."""
    out: list[tuple[str, str]] = []
    for r in stmt.children_by_field_name("redirect"):
        if r.type != "file_redirect":
            continue
        op = next((text(c) for c in r.children if not c.is_named), "")
        dest = r.child_by_field_name("destination")
        if dest is not None:
            out.append((op, literal(dest, env) or text(dest)))
    return out


def heredoc_text(node: Node) -> str:
    """Bodies of here-documents and here-strings attached to a statement or command."""
    parts = []
    for n in walk(node, 2000):
        if n.type in {"heredoc_body", "herestring_redirect"}:
            parts.append(text(n))
    return "\n".join(parts)


def assigned_names(root: Node) -> frozenset[str]:
    """Every variable a script sets: assignments, `read` targets, `for` loop variables."""
    names: set[str] = set()
    for n in walk(root):
        if n.type == "variable_assignment":
            name = n.child_by_field_name("name")
            if name is not None:
                names.add(text(name))
        elif n.type == "for_statement":
            var = n.child_by_field_name("variable")
            if var is not None:
                names.add(text(var))
        elif n.type == "command":
            cmd_name = n.child_by_field_name("name")
            if cmd_name is not None and text(cmd_name) in {"read", "local", "declare", "typeset", "readonly"}:
                names.update(text(a) for a in n.children_by_field_name("argument") if a.type == "word")
    return frozenset(names)


def var_refs(s: str) -> list[str]:
    return _VAR_REF.findall(s)


def sensitive_args(scan: ShellScan, cmd: Cmd) -> str | None:
    """The label of the first sensitive path a command names among its arguments."""
    for w, raw in zip(scan.words(cmd), scan.raw_words(cmd), strict=False):
        for cand in (w, raw):
            label = sensitive_path(
                _home(cand.lstrip("@").split("=", 1)[-1] if cand.startswith("@") else cand)
            )
            if label:
                return label
    return None


def _home(p: str) -> str:
    return p.replace("${HOME}", "~").replace("$HOME", "~")


def is_shell(cmd: Cmd) -> bool:
    return cmd.name in SHELLS or base_name(cmd.word) in SHELLS


def iter_commands(node: Node, scan: ShellScan, limit: int = 5000) -> Iterator[Cmd]:
    for n in walk(node, limit):
        if n.type == "command":
            yield scan.peel(n)
