"""Shell threats other than download-and-execute (tree-sitter-bash): reverse shells, persistence,
destructive commands, permission weakening, agent tampering by file writes (judged in
`shell_writes`), and (in `shell_exfil`) data leaving the machine.

- reverse shells: `nc -e /bin/sh`, `ncat --sh-exec`, `sh -i | nc`, fifo relays, `socat … exec:sh`;
- persistence: crontab installs, launchd plists / `launchctl submit`, systemd units, shell rc
  appends, `authorized_keys` appends — critical when what is persisted fetches, decodes or opens a
  socket, otherwise reported at low/medium (skills legitimately schedule their own scripts);
- destructive: `rm -rf` of `/`, home, system or OpenClaw directories, disk wipes, log wiping;
- permission weakening: `chmod 777` of system paths, setuid bits, sudoers edits;
- agent tampering: writes into OpenClaw's config, other skills or the agent's instruction files.

Everything is parsed, nothing is run. Lines are 1-based in the scanned text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from skillscan.analyzers.treesitter import shell_exfil
from skillscan.analyzers.treesitter.parsing import walk
from skillscan.analyzers.treesitter.registry import FileContext, Hit, SkillContext
from skillscan.analyzers.treesitter.rm_targets import RULE_ROOT, RULE_USER_DATA, rm_rule
from skillscan.analyzers.treesitter.scan_hits import Hits
from skillscan.analyzers.treesitter.sensitive import ThreatContext
from skillscan.analyzers.treesitter.shell import Detection
from skillscan.analyzers.treesitter.shell_gate import PEELED
from skillscan.analyzers.treesitter.shell_sieve import Sieve
from skillscan.analyzers.treesitter.shell_words import (
    SHELLS,
    WRAPPERS,
    Cmd,
    LazyEnv,
    base_name,
    text,
)
from skillscan.analyzers.treesitter.shell_writes import LOGS, home_path, redirected, written
from skillscan.analyzers.treesitter.threat_scan import (
    CHMOD_SETUID,
    CHMOD_WIDE,
    MAX_VISITED,
    NETCATS,
    PAYLOAD,
    ShellScan,
    enclosing,
    is_shell,
    stage_commands,
    stages,
)
from skillscan.models import FileKind, SkillFile, VirtualOrigin

BASH = Language(tree_sitter_bash.language())
MAX_SOURCE = 2 * 1024 * 1024
MAX_DEPTH = 3

_FORK_BOMB = re.compile(
    r"(\w{1,20}|:)\s{0,3}\(\)\s{0,3}\{\s{0,3}\1\s{0,3}\|\s{0,3}\1\s{0,3}&\s{0,3}\}\s{0,3};\s{0,3}\1"
)
_SYSTEM_PATH = re.compile(
    r"^(?:/|/\*|/(?:etc|usr|var|bin|sbin|lib|opt|System|Library|Applications|boot)(?:/.{0,200})?)$"
)
_WIDE_MODE = re.compile(rf"^(?:{CHMOD_WIDE})$")
_SETUID = re.compile(rf"^(?:{CHMOD_SETUID})$")


def scan_shell_threats(
    source: str,
    ctx: ThreatContext,
    depth: int = 0,
    root: Node | None = None,
    assigned: frozenset[str] = frozenset(),
    keep: Callable[[int], bool] | None = None,
    fall_short: Callable[[str, str], None] | None = None,
    saturate: Callable[[str], None] | None = None,
) -> list[Detection]:
    """Every non-download shell threat in a shell text.

    `root` is the parsed tree of `source` when the caller has one; `assigned` adds variable names
    set elsewhere (other code blocks of the same document) that are therefore not inherited env;
    `keep` says which lines count (before 20 per rule are listed); `fall_short` (a file check's
    `FileContext.fall_short`) hears when statements went unanalysed for the node budget, and
    `saturate` (its `FileContext.saturate`) lets the scan stop once a critical rule is listed in
    full (`Hits`)."""
    if depth > MAX_DEPTH or not source.strip():
        return []
    source = source[:MAX_SOURCE]
    if root is None or root.text is None:  # the gates below read the bytes the tree was parsed from
        root = Parser(BASH).parse(source.encode("utf-8", "replace")).root_node
    scan = ShellScan(
        ctx, LazyEnv(root), depth, Hits(keep=keep, saturate=saturate), root=root, more_assigned=assigned
    )
    sieve = Sieve(scan, root, partial(_statement, scan))
    sieve.run()
    if scan.budget <= 0 and scan.hits.saturated is None and fall_short is not None:
        fall_short("budget:shell_threats", f"shell threats stopped after {MAX_VISITED:,} syntax nodes")
    head = source[:200_000]
    for m in _FORK_BOMB.finditer(head) if "()" in head else ():
        line = source.count("\n", 0, m.start()) + 1
        scan.hits.add("destructive-fork-bomb", line, "Fork bomb: exhausts processes", m.group(0)[:200])
    sieve.pair_fetches()
    shell_exfil.finish(scan)
    return scan.hits.result()


def _statement(scan: ShellScan, unit: Node) -> None:
    scan.cmds = {}
    for node in walk(unit, scan.budget):
        scan.budget -= 1
        if node.type == "command":
            if _worth_peeling(node):
                _command(scan, node, scan.peel(node))
        elif node.type == "pipeline":
            _pipeline(scan, node)
            shell_exfil.pipeline(scan, node)
        elif node.type == "redirected_statement":
            redirected(scan, node)
        elif node.type == "list":
            shell_exfil.command_list(scan, node)


def _worth_peeling(node: Node) -> bool:
    """Cheap pre-check on the command's first word: most commands (echo, cd, ls, git) concern no
    check here, and resolving every argument of every command is the expensive part. A name with
    quotes, escapes or expansions inside (`c''url`, `"r"m`, `r${x}m`) is only known once resolved."""
    name = node.child_by_field_name("name")
    if name is None:
        return False
    raw = text(name)
    word = base_name(raw)
    return (
        word in _INTERESTING
        or word in WRAPPERS
        or word.startswith(("mkfs", "$", "python"))
        or any(c in raw for c in "'\"\\$")
    )


def _command(scan: ShellScan, node: Node, cmd: Cmd) -> None:
    words = scan.words(cmd)
    name = cmd.name
    if name in NETCATS:
        _netcat(scan, node, words)
    elif name == "socat":
        _socat(scan, node, words)
    elif name == "crontab":
        _crontab(scan, node, words)
    elif name == "launchctl" and words[:1] and words[0] in {"load", "bootstrap", "submit", "enable"}:
        payload = " ".join(words[1:]) if words[0] == "submit" else ""
        if PAYLOAD.search(payload):
            scan.hit(
                node, "persistence-payload", "launchctl submits a job that fetches, decodes or opens a shell"
            )
        else:
            scan.hit(node, "persistence-install", "Loads a launchd job that runs at login")
    elif name == "systemctl" and "--user" in words and {"enable", "start"} & set(words):
        scan.hit(node, "persistence-install", "Enables a systemd user service")
    elif name == "rm":
        _rm(scan, node, words)
    elif name in {"chmod", "chown"}:
        _permissions(scan, node, name, words)
    elif name == "dd" and any(
        re.match(r"^of=/dev/(?:sd|hd|vd|xvd|nvme|disk|rdisk|mmcblk)", w) for w in words
    ):
        scan.hit(node, "destructive-disk-wipe", "dd writes over a raw disk device")
    elif name.startswith("mkfs") or (
        name in {"diskutil"} and words[:1] and words[0] in {"eraseDisk", "zeroDisk"}
    ):
        scan.hit(node, "destructive-disk-wipe", "Formats or erases a disk")
    elif name in {"shred", "truncate", "srm"} and any(LOGS.search(home_path(w)) for w in words):
        scan.hit(node, "log-tampering", "Destroys system or shell logs (covering tracks)")
    elif name in {"history"} and "-c" in words:
        scan.hit(node, "log-tampering", "Clears the shell history")
    elif name in {"tee", "cp", "mv", "install", "ln"} and words:
        content = _upstream_text(node) if name == "tee" else ""
        dest = home_path(words[-1])
        if dest.endswith("/") and len(words) >= 2:
            dest += words[-2].rstrip("/").rsplit("/", 1)[-1]  # cp x.plist ~/Library/LaunchAgents/
        written(scan, node, dest, content, appended=name == "tee" and "-a" in words)
    elif name in {"sed", "perl"} and any(w.startswith("-i") or w == "-pi" for w in words) and words:
        written(scan, node, home_path(words[-1]), "", appended=True)
    shell_exfil.command(scan, node, cmd, words)


def _netcat(scan: ShellScan, node: Node, words: list[str]) -> None:
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w.startswith(("--exec", "--sh-exec", "--lua-exec")):
            scan.hit(
                node, "reverse-shell-netcat", "ncat executes a program for the network peer (remote shell)"
            )
            return
        flag = re.match(r"^-[A-Za-z]{0,5}([ec])(.*)$", w)
        if flag:
            prog = flag.group(2) or nxt
            if base_name(prog) in SHELLS or base_name(prog).lower() in {
                "cmd.exe",
                "cmd",
                "powershell",
                "pwsh",
            }:
                scan.hit(node, "reverse-shell-netcat", "netcat hands a shell to the network peer (-e/-c)")
                return


def _socat(scan: ShellScan, node: Node, words: list[str]) -> None:
    low = [w.lower() for w in words]
    runs_shell = any(
        re.match(r"^(?:exec|system):", w) and re.search(r"\b(?:ba|z|da|k)?sh\b|cmd|powershell", w)
        for w in low
    )
    networked = any(
        re.match(r"^(?:tcp[46]?|ssl|openssl|tcp[46]?-(?:listen|connect)|udp[46]?)[:-]", w) for w in low
    )
    if runs_shell and networked:
        scan.hit(node, "reverse-shell-socat", "socat joins a network connection to a shell")


def _pipeline(scan: ShellScan, node: Node) -> None:
    """`sh -i 2>&1 | nc host port`, `nc -l 4444 | bash`, `cat fifo | sh -i | nc …`."""
    cmds = [stage_commands(s, scan) for s in stages(node)]
    flat = [c for group in cmds for c in group]
    has_net = any(c.name in NETCATS or (c.name == "openssl" and "s_client" in scan.words(c)) for c in flat)
    if not has_net:
        return
    if any(is_shell(c) for c in flat):
        scan.hit(node, "reverse-shell-netcat", "A shell is piped to or from a raw network connection")


def _crontab(scan: ShellScan, node: Node, words: list[str]) -> None:
    if not words or all(w in {"-l", "-e", "-r", "-i", "-u"} or not w for w in words):
        return  # listing / interactive editing / removal
    holder = enclosing(node, frozenset({"pipeline", "redirected_statement", "list"})) or node
    content = text(holder)
    if PAYLOAD.search(content.replace(text(node), "")):
        scan.hit(
            holder, "persistence-payload", "A cron job that fetches, decodes or opens a shell is installed"
        )
    else:
        scan.hit(node, "persistence-install", "Installs crontab entries")


def _rm(scan: ShellScan, node: Node, words: list[str]) -> None:
    recursive = any(w in {"-r", "-R", "--recursive"} or re.match(r"^-[a-zA-Z]{0,4}[rR]", w) for w in words)
    targets = [home_path(w) for w in words if w and not w.startswith("-")]
    if "--no-preserve-root" in words:
        scan.hit(node, "destructive-rm-root", "rm with --no-preserve-root")
        return
    if any(LOGS.search(t) for t in targets):
        scan.hit(node, "log-tampering", "Deletes system or shell logs (covering tracks)")
    if not recursive:
        return
    rules = {rm_rule(t) for t in targets}
    if RULE_ROOT in rules:
        scan.hit(
            node,
            RULE_ROOT,
            "Recursive delete of the filesystem root, the home directory or a system directory",
        )
    elif RULE_USER_DATA in rules:
        scan.hit(
            node,
            RULE_USER_DATA,
            "Recursive delete of OpenClaw state, credentials or the user's documents",
        )


def _permissions(scan: ShellScan, node: Node, name: str, words: list[str]) -> None:
    if name != "chmod" or not words:
        return
    recursive = any(re.match(r"^-[a-zA-Z]{0,3}R", w) for w in words)
    args = [w for w in words if not w.startswith("-") or _WIDE_MODE.match(w)]
    if len(args) < 2:
        return
    mode, targets = args[0], [home_path(t) for t in args[1:]]
    if _SETUID.match(mode):
        scan.hit(node, "permission-weakening", f"Sets a setuid/setgid bit ({mode})")
    elif _WIDE_MODE.match(mode) and (
        recursive or any(_SYSTEM_PATH.match(t) or t in {"~", "~/"} for t in targets)
    ):
        scan.hit(node, "permission-weakening", f"Makes {' '.join(targets)[:80]} world-writable ({mode})")


def _upstream_text(node: Node) -> str:
    pipe = node.parent
    if pipe is None or pipe.type != "pipeline":
        return ""
    before = []
    for s in stages(pipe):
        if s.start_byte >= node.start_byte:
            break
        before.append(text(s))
    return "\n".join(before)


_INTERESTING = PEELED

# Inline code in prose is often an example in a warning ("blocks commands like `rm -rf /`").
_WARNING_CONTEXT = re.compile(
    r"(?i)\b(?:never|don'?t|do\s{1,3}not|avoid|block(?:s|ed|ing)?|prevent(?:s|ed)?|detect(?:s|ed|ion)?|"
    r"flag(?:s|ged)?|dangerous|malicious|attack(?:er|s)?|warn(?:ing|s)?|e\.g\.|such\s{1,3}as|like|"
    r"example|deny|denied|forbid(?:den)?|refuse[sd]?|risky|unsafe)\b"
)
_ASSIGNED_IN_DOC = re.compile(
    r"(?m)^[ \t]{0,8}(?:export[ \t]{1,4}|local[ \t]{1,4})?([A-Za-z_][A-Za-z0-9_]{0,63})="
)


@dataclass
class _PerSkill:
    """What every shell file of one skill shares: computed once per skill, not per code block (a
    document with 2,000 code blocks was read 2,000 times for its assignments)."""

    doc_assigned: dict[str, frozenset[str]] = field(default_factory=dict)  # by origin path
    doc_lines: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, ctx: SkillContext) -> _PerSkill:
        found = ctx.shared.get(__name__)
        if found is None:
            found = ctx.shared[__name__] = cls()
        return found

    def assigned_in(self, origin: SkillFile) -> frozenset[str]:
        if origin.path not in self.doc_assigned:
            names = _ASSIGNED_IN_DOC.findall((origin.text or "")[:MAX_SOURCE])
            self.doc_assigned[origin.path] = frozenset(names)
        return self.doc_assigned[origin.path]

    def lines_of(self, origin: SkillFile) -> list[str]:
        if origin.path not in self.doc_lines:
            self.doc_lines[origin.path] = (origin.text or "").splitlines()
        return self.doc_lines[origin.path]


class ShellThreats:
    """File check: reverse shells, persistence, destructive commands, exfiltration in shell text."""

    languages = frozenset({FileKind.SHELL})

    def check(self, ctx: FileContext) -> Iterator[Hit]:
        tree = ctx.tree
        f = ctx.file
        shared = _PerSkill.of(ctx.skill)
        origin = ctx.skill.files_by_path.get(f.origin_path) if f.origin_path else None
        assigned: frozenset[str] = frozenset()
        if f.virtual is VirtualOrigin.CODE_BLOCK and origin is not None and origin.text:
            assigned = shared.assigned_in(origin)
        root = tree.root_node if tree is not None else None
        keep = None
        if f.virtual is VirtualOrigin.INLINE_CODE and origin is not None and origin.text:
            keep = partial(_not_in_warning, f, shared.lines_of(origin))
        found = scan_shell_threats(
            ctx.source,
            ctx.skill.threat,
            root=root,
            assigned=assigned,
            keep=keep,
            fall_short=ctx.fall_short,
            saturate=partial(ctx.saturate, type(self).__name__),
        )
        for d in found:
            yield Hit(d.rule_id, d.line, d.evidence, d.message, more=d.more)


def _not_in_warning(f: SkillFile, origin_lines: list[str], line: int) -> bool:
    real = f.real_line(line)
    return not (real and 0 < real <= len(origin_lines) and _WARNING_CONTEXT.search(origin_lines[real - 1]))


CHECKS = [ShellThreats()]
