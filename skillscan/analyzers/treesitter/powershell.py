"""Download-and-execute in PowerShell (tree-sitter-powershell).

- `iwr … | iex`, `irm … | Invoke-Expression`, `IEX (New-Object Net.WebClient).DownloadString(…)`,
  `Invoke-Expression (Invoke-WebRequest …).Content`, `$r = iwr …; iex $r.Content`,
  `& ([scriptblock]::Create((irm …)))`;
- download then run: `Invoke-WebRequest … -OutFile x.exe; Start-Process x.exe`, `.DownloadFile(…)`,
  `Start-BitsTransfer`, `certutil -urlcache … x` followed by `Start-Process` / `&` / `msiexec`;
- hidden scripts: `powershell -EncodedCommand <base64 UTF-16LE>` (decoded and checked again),
  `iex ([Text.Encoding]::…GetString([Convert]::FromBase64String(…)))`.

The tree gives statements and pipeline stages; inside a statement the shapes are matched on its
text with bounded patterns (PowerShell's expression grammar is too irregular to walk reliably).
Grading by host is the same as for shell (host_policy.HostPolicy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

from skillscan.analyzers.host_policy import HostPolicy, Trust
from skillscan.analyzers.treesitter.powershell_reads import read_plan
from skillscan.analyzers.treesitter.powershell_text import (
    AROUND_SLOTS,
    CERTUTIL,
    CODE,
    ENCODED_EXEC,
    EXEC_CMDS,
    EXEC_WORD,
    FETCH_TEXT,
    NESTS,
    OUTFILE,
    RAW,
    RUN_CMDS,
    SCRIPTBLOCK,
    STATEMENT_WORDS,
    STR_ASSIGN,
    TEXT,
    TRIGGER_WORDS,
    URL,
    VAR_ASSIGN,
    VAR_REF,
    Read,
    code_text,
    command_name,
    decode_encoded_command,
    encoded_command_arg,
    outcome,
    statement_stages,
)
from skillscan.analyzers.treesitter.registry import FileContext, Hit
from skillscan.analyzers.treesitter.scan_hits import Downloads, Grades, Hits, StatementMemo, repeats
from skillscan.analyzers.treesitter.scan_shapes import ShapeMemo, cut
from skillscan.analyzers.treesitter.shell_text import (
    REMOTE_LOADERS,
    RULE_ENCODED,
    RULE_PS_ENCODED,
    Detection,
    grade,
    rule_for,
)
from skillscan.analyzers.treesitter.shell_words import text
from skillscan.analyzers.urls import UrlRef
from skillscan.models import FileKind

MAX_DEPTH = 3
MAX_SOURCE = 2 * 1024 * 1024
MAX_VISITED = 200_000  # nodes walked per text (statements replayed from the memo are not walked)
POWERSHELL = Language(tree_sitter_powershell.language())


@dataclass
class _PsScan:
    """One PowerShell text being scanned: hits and what earlier statements set (`version` changes
    with any of it, so a repeated statement is replayed only in the same state)."""

    policy: HostPolicy
    depth: int
    hits: Hits = field(default_factory=Hits)
    strings: dict[str, str] = field(default_factory=dict)  # $name -> literal string
    fetched_vars: dict[str, list[str]] = field(default_factory=dict)  # $name -> URLs it was fetched from
    downloads: Downloads = field(default_factory=Downloads)  # (path, least trusted URL)
    version: int = 0
    budget: int = MAX_VISITED
    code: bytes = b""  # the text under the scanned root, from its first byte (`base`)
    base: int = 0
    grades: Grades = field(init=False)  # the least trusted of fetched URLs, each graded once
    shapes: ShapeMemo = field(init=False)  # statements that differ only in their URLs
    reads: list[Read] | None = None  # what the statement being analysed read of its text, in order

    def __post_init__(self) -> None:
        self.grades = Grades(self.policy)
        self.shapes = ShapeMemo(self.hits, self.policy.trusts, around=AROUND_SLOTS, facts=read_plan)

    def read(self, search: Callable[[Any], Any], arg: Any, part: int = TEXT) -> Any:
        """`search(arg)` (`part` says what `arg` is: powershell_text.Read), recorded while the
        statement analysed may get a shape: a statement replays it only if each read finds in
        it what it found in the first (`powershell_reads`)."""
        found = search(arg)
        if self.reads is not None:
            self.reads.append((search, part, outcome(found)))
        return found

    def urls_in(self, s: str) -> list[str]:
        resolved = VAR_REF.sub(lambda m: self.strings.get(m.group(1).lower(), m.group(0)), s)
        return [m.group(0) for m in URL.finditer(resolved)]

    def hit(self, node: Node, rule: str, message: str) -> None:
        self.hits.add(rule, node.start_point[0] + 1, message, node)

    def graded(self, node: Node, urls: list[str], shape: str) -> None:
        found = self.grades.worst(urls)
        rule, message = grade(self.policy, found, shape, with_message=not self.hits.full(rule_for(found)))
        self.hits.add(rule, node.start_point[0] + 1, message, node, graded=urls)

    def set(self, effect: tuple[Any, ...], base_line: int = 0) -> None:
        """Change the state: ("string" | "fetched", $name, value) or ("download", keys, entry);
        also how a remembered statement's effects are replayed (StatementMemo)."""
        kind, key, value = effect
        if kind == "download":
            changed = self.downloads.add(key, value)
        else:
            table: dict[str, Any] = self.strings if kind == "string" else self.fetched_vars
            changed = table.get(key) != value
            table[key] = value
        if changed:
            self.version += 1
            if self.hits.recording is not None:
                self.hits.recording.effects.append(effect)


def scan_powershell(
    source: str,
    policy: HostPolicy,
    depth: int = 0,
    root: Node | None = None,
    saturate: Callable[[str], None] | None = None,
) -> list[Detection]:
    """Every download-and-execute shape in a PowerShell text (lines are 1-based in `source`).

    `root` is the already parsed tree of `source` when the caller has one (one parse per file).
    `saturate` (the file's `FileContext.saturate` for the check) lets the scan stop once a critical
    rule is listed as often as a report keeps (scan_hits.Hits)."""
    low = source.lower()
    if depth > MAX_DEPTH or not any(w in low for w in TRIGGER_WORDS):
        return []
    if root is None:
        root = Parser(POWERSHELL).parse(source[:MAX_SOURCE].encode("utf-8", "replace")).root_node
    scan = _PsScan(policy=policy, depth=depth, hits=Hits(saturate=saturate))
    scan.code, scan.base = root.text or b"", root.start_byte
    _walk(scan, StatementMemo(scan.hits, scan.set), root, outermost=True)
    return scan.hits.result()


def _walk(scan: _PsScan, memo: StatementMemo, root: Node, outermost: bool) -> None:
    """Tree order: the statements of a statement list are analysed when the list is reached, then
    the lists nested in them (script blocks). In an outermost list each statement, and then what
    nests in it, is analysed once per distinct text and state; a repeat replays."""
    stack = [root]
    while stack and scan.budget > 0 and not scan.hits.saturated:
        node = stack.pop()
        scan.budget -= 1
        if node.type != "statement_list":
            stack.extend(reversed(node.children))
        elif not outermost:
            for statement in node.named_children:
                if statement.type == "pipeline":
                    _statement(scan, statement)
            stack.extend(reversed(node.children))
        else:
            _statements(scan, memo, node)


def _statements(scan: _PsScan, memo: StatementMemo, node: Node) -> None:
    """An outermost statement list: each statement, then what nests in it, analysed once per
    distinct text and state; a repeat replays, and repeats in a row replay together."""
    hits, code, base = scan.hits, scan.code, scan.base
    children = node.children
    nesting: list[tuple[int, int]] = []  # runs [start, end) of one statement in which lists nest
    i = 0
    while i < len(children) and not hits.saturated:
        c = children[i]
        # the text sliced from the root's bytes: one copy, not a `Node.text` call per statement
        text = code[c.start_byte - base : c.end_byte - base]
        end = i + 1
        if c.type == "pipeline" and not _inert(scan, text):
            key = ("statement", text, scan.version)
            if not memo.replay(key, c):
                # a statement of a shape seen before (the same but for its URLs) replays it, as do
                # the statements of that shape that follow it (none of them nests statements)
                shaped = cut(text) if not scan.downloads else None
                if shaped is not None:
                    replayed, _ = scan.shapes.replay((shaped[0], scan.version), children, i, code, base)
                    if replayed:
                        i += replayed
                        continue
                _analyse(scan, memo, c, key, text, shaped)
            if key[2] == scan.version and memo.repeatable(key):
                end += memo.replay_repeats(key, repeats(children, end, code, base, text, "pipeline"))
        if NESTS.search(text):
            nesting.append((i, end))
        i = end
    for start, end in nesting:
        c = children[start]
        text = code[c.start_byte - base : c.end_byte - base]
        for i in range(start, end):
            if hits.saturated:
                return
            c = children[i]
            key = ("nested", text, scan.version)
            if not memo.replay(key, c):
                memo.record(key, c.start_point[0] + 1, partial(_walk, scan, memo, c, False))
            if key[2] == scan.version and memo.repeatable(key):
                memo.replay_repeats(key, children[i + 1 : end])
                break


def _analyse(
    scan: _PsScan,
    memo: StatementMemo,
    node: Node,
    key: tuple[str, bytes, int],
    text: bytes,
    shaped: tuple[tuple[bytes, ...], list[bytes]] | None,
) -> None:
    """An outermost statement not seen before, analysed; its shape remembered (scan_shapes) if it
    has one (`shaped`: its text `cut` around the URLs), nests no statement and is plain ASCII."""
    scan.reads = [] if shaped is not None else None
    rec = memo.record(key, node.start_point[0] + 1, partial(_statement, scan, node))
    reads, scan.reads = scan.reads, None
    if shaped is None or reads is None or scan.downloads or scan.hits.saturated:
        return
    if not text.isascii() or NESTS.search(text):
        return
    around, slots = shaped
    # the slots hold no quote: a statement of the shape has one where this one has
    quoted = b"'" in text or b'"' in text
    scan.shapes.learn((around, key[2]), text, around, slots, rec, node, reads=(quoted, tuple(reads)))


def _inert(scan: _PsScan, raw: bytes) -> bool:
    """Whether a statement can do nothing in the scan's state (`STATEMENT_WORDS`)."""
    return not scan.downloads and raw.isascii() and not scan.read(STATEMENT_WORDS.search, raw, RAW)


def _statement(scan: _PsScan, node: Node) -> None:
    raw = node.text or b""
    if _inert(scan, raw):
        return
    stmt = raw.decode("utf-8", "replace")[:100_000]
    # every pattern matched on the statement is read through `scan.read`: a URL could hold what
    # it looks for (the tree and the URLs a hit is graded from are compared by scan_shapes)
    m = scan.read(STR_ASSIGN.match, stmt)
    if m:
        scan.set(("string", m.group(1).lower(), m.group(2)))
        return
    code = code_text(node)
    stages = statement_stages(node)
    names = [command_name(s) if s.type == "command" else "" for s in stages]
    fetches = bool(scan.read(FETCH_TEXT.search, code, CODE))
    assigned = scan.read(VAR_ASSIGN.match, code, CODE)
    if assigned and fetches and not any(n in EXEC_CMDS for n in names):
        scan.set(("fetched", assigned.group(1).lower(), scan.urls_in(stmt)))
    # iwr … | iex
    for i, name in enumerate(names):
        if (
            name in EXEC_CMDS
            and i > 0
            and any(scan.read(FETCH_TEXT.search, code_text(s), j) for j, s in enumerate(stages[:i]))
        ):
            scan.graded(node, scan.urls_in(stmt), f"download piped into {name}")
            return
    # iex (…DownloadString…), iex $r.Content, [scriptblock]::Create((irm …))
    execs = any(n in EXEC_CMDS for n in names) or scan.read(EXEC_WORD.search, code, CODE) is not None
    if (execs or scan.read(SCRIPTBLOCK.search, code, CODE)) and fetches:
        scan.graded(node, scan.urls_in(stmt), "downloaded script evaluated")
        return
    if execs:
        for var in (v.lower() for v in scan.read(VAR_REF.findall, code, CODE)):
            if var in scan.fetched_vars:
                scan.graded(node, scan.fetched_vars[var], "downloaded script evaluated from a variable")
                return
        if scan.read(ENCODED_EXEC.search, code, CODE):
            scan.hit(node, RULE_ENCODED, "base64-encoded script evaluated")
            return
    for name, stage in zip(names, stages, strict=False):
        if name in REMOTE_LOADERS and "://" in text(stage):
            scan.graded(node, scan.urls_in(text(stage)), f"{name} loads and runs a remote program")
            return
    _encoded_child(scan, node, names, stages)
    _download_and_run(scan, node, stmt, names, fetches)


def _encoded_child(scan: _PsScan, node: Node, names: list[str], stages: list[Node]) -> None:
    for name, stage in zip(names, stages, strict=False):
        if name.removesuffix(".exe") not in {"powershell", "pwsh"}:
            continue
        words = text(stage).split()
        value = encoded_command_arg(words[1:])
        if value is None:
            continue
        scan.hit(node, RULE_PS_ENCODED, "PowerShell -EncodedCommand hides its script")
        decoded = decode_encoded_command(value)
        if decoded:
            for d in scan_powershell(decoded, scan.policy, scan.depth + 1, saturate=scan.hits.saturate):
                scan.hit(node, d.rule_id, d.message)


def _norm_path(p: str) -> str:
    return p.strip("\"' ").replace("/", "\\").lower()


def _downloaded(scan: _PsScan, path: str, origin: tuple[Trust, UrlRef] | None) -> None:
    scan.set(("download", (("path", path), ("base", _base(path))), (path, origin)))


def _base(path: str) -> str:
    return path.rsplit("\\", 1)[-1]


def _download_and_run(scan: _PsScan, node: Node, stmt: str, names: list[str], fetches: bool) -> None:
    m = scan.read(CERTUTIL.search, stmt)
    if m:
        _downloaded(scan, _norm_path(m.group(2)), scan.grades.worst([m.group(1)]))
        return
    if fetches:
        m2 = scan.read(OUTFILE.search, stmt)
        if m2:
            target = m2.group(2) or m2.group(4)
            _downloaded(scan, _norm_path(target), scan.grades.worst(scan.urls_in(stmt)))
        return
    if not scan.downloads:
        return
    first = names[0] if names else ""
    words = [_norm_path(w) for w in stmt.replace("&", " ").split()[:12]]
    runs = first in RUN_CMDS or stmt.lstrip().startswith(("&", ".\\", "./")) or (words and "\\" in words[0])
    if not runs:
        return
    found = scan.downloads.find(k for w in words for k in (("path", w), ("base", _base(w))))
    if found is not None:
        path, origin = found
        urls = [origin[1].raw] if origin is not None else []
        scan.graded(node, urls, f"downloaded file {_base(path)} is started")


class PowerShellDownloadExec:
    """File check: download cradles, download-and-start and encoded commands in PowerShell."""

    languages = frozenset({FileKind.POWERSHELL})

    def check(self, ctx: FileContext) -> Iterator[Hit]:
        tree = ctx.tree
        root = tree.root_node if tree is not None else None
        saturate = partial(ctx.saturate, type(self).__name__)
        for d in scan_powershell(ctx.source, ctx.skill.host_policy, root=root, saturate=saturate):
            yield Hit(d.rule_id, d.line, d.evidence, d.message, more=d.more)


CHECKS = [PowerShellDownloadExec()]
