"""Download-and-execute in shell, in every shape (tree-sitter-bash).

- pipelines: `curl … | sh`, `wget -qO- … | sudo -E bash -s --`, `curl … | python3 -`;
- code from a substitution: `bash -c "$(curl …)"`, `sh <(curl …)`, `source <(curl …)`,
  `eval "$(wget -O- …)"`, `bash <<< "$(curl …)"`, `bash < <(curl …)`, `$(curl …)`;
- download then run: `curl -o x … && chmod +x x && ./x`, `wget …/a.sh; bash a.sh` (shell_downloads);
- decoded payloads into a shell: `echo <b64> | base64 -d|-D|--decode | sh`, `eval "$(… | base64 -d)"`;
- strings that are code: `bash -c '…'` (parsed again), `python -c` / `node -e` / `perl -e` with a
  fetch and an exec, `powershell -Command …` / `-EncodedCommand …` (handed to the PowerShell checks).

Each hit is graded by where the code comes from (host_policy.HostPolicy): a delivery host (raw IP,
paste site, tunnel, shortener, …) is critical, an undeclared host high, the skill's own or a
well-known vendor installer low. `sudo`/`env`/`nohup` prefixes and line continuations are seen
through. Everything is parsed, nothing is run.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from functools import partial

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from skillscan.analyzers.host_policy import HostPolicy
from skillscan.analyzers.treesitter.powershell import scan_powershell
from skillscan.analyzers.treesitter.powershell_text import decode_encoded_command, encoded_command_arg
from skillscan.analyzers.treesitter.registry import FileContext, Hit
from skillscan.analyzers.treesitter.scan_hits import Hits, StatementMemo, repeats
from skillscan.analyzers.treesitter.scan_shapes import cut
from skillscan.analyzers.treesitter.shell_downloads import runs_download, written_to_file
from skillscan.analyzers.treesitter.shell_scan import (
    MAX_VISITED,
    SUBST,
    DownloadScan,
    body_command,
    direct,
    pipeline_stages,
)
from skillscan.analyzers.treesitter.shell_text import (
    DO_SHELL_SCRIPT,
    INLINE_DECODE,
    INLINE_EXEC,
    INLINE_FETCH,
    REMOTE_LOADERS,
    RULE_ENCODED,
    RULE_PS_ENCODED,
    URL_IN_CODE,
    Detection,
    defuse_long_pipelines,
    logical_lines,
    may_fetch_or_decode,
)
from skillscan.analyzers.treesitter.shell_words import (
    FETCHERS,
    SHELLS,
    Cmd,
    LazyEnv,
    is_interpreter,
    literal,
    reads_stdin_as_code,
)
from skillscan.models import FileKind

MAX_DEPTH = 3
MAX_SOURCE = 2 * 1024 * 1024
MAX_LINES_REPARSED = 20_000

BASH = Language(tree_sitter_bash.language())
_PS_NAMES = frozenset({"powershell", "pwsh", "powershell.exe", "pwsh.exe"})


def scan_bash(
    source: str,
    policy: HostPolicy,
    depth: int = 0,
    powershell: Callable[[str, HostPolicy, int], list[Detection]] | None = None,
    root: Node | None = None,
    saturate: Callable[[str], None] | None = None,
) -> list[Detection]:
    """Every download-and-execute shape in a shell text (lines are 1-based in `source`).

    `root` is the already parsed tree of `source` when the caller has one (one parse per file).
    `saturate` (the file's `FileContext.saturate` for this check) lets the scan stop once a
    critical rule is listed as often as a report keeps (scan_hits.Hits); texts scanned inside this
    one (`bash -c '…'`) report their stop to it too."""
    if depth > MAX_DEPTH or not may_fetch_or_decode(source):
        return []
    parser = Parser(BASH)
    source = source[:MAX_SOURCE]
    if root is None:
        source = defuse_long_pipelines(source)
        root = parser.parse(source.encode("utf-8", "replace")).root_node
    scan = DownloadScan(
        policy=policy, env=LazyEnv(root), depth=depth, powershell=powershell, hits=Hits(saturate=saturate)
    )
    memo = StatementMemo(scan.hits, scan.replay)
    scan.spans = [] if source.count("\n") < MAX_LINES_REPARSED else None
    _visit(scan, memo, root, 0)
    spans, scan.spans = scan.spans, None
    if not spans or scan.hits.saturated:
        return scan.hits.result()
    # tree-sitter-bash can run a pipeline on past its newline and swallow the next line into a
    # redirect: the logical lines under a statement that crosses a line end are parsed again alone.
    logical = logical_lines(source)
    starts = [first for first, _ in logical]
    suspect: set[int] = set()
    for first_row, last_row in spans:
        lo = bisect.bisect_right(starts, first_row) - 1
        hi = bisect.bisect_right(starts, last_row) - 1
        if hi > lo:
            suspect.update(range(max(lo, 0), hi + 1))
    for index in sorted(suspect):
        if scan.hits.saturated:
            break
        first_line, chunk = logical[index]
        if chunk.strip() and not chunk.lstrip().startswith("#") and _may_add(scan, chunk):
            key = ("chunk", chunk, scan.version)
            if not memo.replay(key, first_line + 1):
                memo.record(key, first_line + 1, partial(_visit_chunk, scan, memo, parser, chunk, first_line))
    return scan.hits.result()


_CROSSING = frozenset({"pipeline", "redirected_statement", "list", "command"})


def _may_add(scan: DownloadScan, code: str) -> bool:
    """Whether parsing a line again could find anything: text that names no fetcher or decoder
    and holds no variable, substitution or code that fetches or decodes cannot fetch, decode or
    write a download; without an earlier download it cannot run one either. (Quotes and
    backslashes are seen through, as the shell does.)"""
    if scan.downloads or "$" in code or "`" in code or may_fetch_or_decode(code):
        return True
    plain = code.replace("\\", "")
    return bool(
        any(f in plain for f in FETCHERS)
        or INLINE_FETCH.search(code)
        or INLINE_DECODE.search(code)
        or INLINE_FETCH.search(plain)
        or INLINE_DECODE.search(plain)
    )


def _visit_chunk(
    scan: DownloadScan, memo: StatementMemo, parser: Parser, chunk: str, first_line: int
) -> None:
    _visit(scan, memo, parser.parse(chunk.encode("utf-8", "replace")).root_node, first_line)


def _visit(scan: DownloadScan, memo: StatementMemo, root: Node, line_offset: int) -> None:
    """Each top-level statement once per distinct text (and downloads state): a repeat replays."""
    scan.line_offset = line_offset
    scan.budget = MAX_VISITED
    # statement texts sliced from the root's bytes: one copy, not one `Node.text` call per statement
    code, base = root.text or b"", root.start_byte
    units = root.named_children
    i = 0
    while i < len(units) and scan.budget > 0 and not scan.hits.saturated:
        unit = units[i]
        i += 1
        text = code[unit.start_byte - base : unit.end_byte - base]
        key = (text, scan.version)
        if not memo.replay(key, unit, line_offset):
            # a statement of a shape seen before (the same but for the URLs it fetches) replays it,
            # as do the statements of that shape that follow it
            shaped = cut(text) if scan.hits.recording is None and not scan.downloads else None
            if shaped is not None:
                shape = (shaped[0], scan.version)
                replayed, cost = scan.shapes.replay(shape, units, i - 1, code, base, line_offset, scan.budget)
                if replayed:
                    i += replayed - 1
                    scan.budget -= cost
                    continue
            _analyse(scan, memo, root, unit, key, shaped)
        if scan.budget > 0 and key[1] == scan.version and memo.repeatable(key):
            i += memo.replay_repeats(key, repeats(units, i, code, base, text), line_offset)


def _analyse(
    scan: DownloadScan,
    memo: StatementMemo,
    root: Node,
    unit: Node,
    key: tuple[bytes, int],
    shaped: tuple[tuple[bytes, ...], list[bytes]] | None,
) -> None:
    """A statement not seen before, analysed; its shape remembered (scan_shapes) if it has one
    (`shaped`: its text `cut` around the URLs)."""
    budget = scan.budget
    rec = memo.record(key, scan.line(unit), partial(_statement, scan, root, unit))
    if shaped is not None and scan.budget > 0 and not scan.hits.saturated and not scan.downloads:
        around, slots = shaped
        scan.shapes.learn((around, key[1]), key[0], around, slots, rec, unit, budget - scan.budget)


def _statement(scan: DownloadScan, root: Node, unit: Node) -> None:
    """Dispatch every node of one statement in tree order; note the ones that run across a line
    end, which only a misparse (or a multi-line string) does."""
    scan.cmds, scan.fetches, scan.stage_cmds = {}, {}, {}
    cursor = unit.walk()  # cannot climb above `unit`
    ancestors: list[Node] = [root]
    while scan.budget > 0 and not scan.hits.saturated:
        scan.budget -= 1
        node = cursor.node
        assert node is not None
        kind = node.type
        if kind == "pipeline":
            if ancestors[-1].type not in {"pipeline", "redirected_statement"}:
                _pipeline(scan, node)
        elif kind == "redirected_statement":
            _redirected(scan, node)
        elif kind == "command":
            _command(scan, node, ancestors)
        if kind in _CROSSING and node.end_point[0] > node.start_point[0]:
            scan.crossing(node)
        if cursor.goto_first_child():
            ancestors.append(node)
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return
            ancestors.pop()


def _pipeline(scan: DownloadScan, node: Node) -> None:
    stages = pipeline_stages(node)
    fetched = False
    urls: list[str] = []
    decoded = False
    for stage in stages:
        body = body_command(stage)
        if body is not None and (fetched or decoded):
            cmd = scan.peel(body)
            if reads_stdin_as_code(cmd, scan.env):
                into = cmd.name
                if fetched:
                    scan.graded(node, urls, f"download piped into {into}")
                if decoded:
                    scan.hit(node, RULE_ENCODED, f"encoded payload decoded and piped into {into}")
                return
        f, stage_urls = scan.fetched(stage)
        if f:
            fetched = True
            urls += stage_urls
        decoded = decoded or scan.decodes(stage)


def _redirected(scan: DownloadScan, node: Node) -> None:
    """`bash <<< "$(curl …)"`, `bash < <(curl …)`; and `curl … > x.sh` / `… | base64 -d > x`
    (remembered, so that running `x.sh` later counts as running the download)."""
    written_to_file(scan, node)
    body = body_command(node)
    if body is None:
        return
    cmd = scan.peel(body)
    if not reads_stdin_as_code(cmd, scan.env):
        return
    for redirect in node.children_by_field_name("redirect"):
        if redirect.type not in {"herestring_redirect", "file_redirect"}:
            continue
        for sub in direct(redirect, SUBST):
            fetched, urls = scan.fetched(sub)
            if fetched:
                scan.graded(node, urls, f"download redirected into {cmd.name}")
            if scan.decodes(sub):
                scan.hit(node, RULE_ENCODED, f"encoded payload decoded and redirected into {cmd.name}")


def _command(scan: DownloadScan, node: Node, ancestors: list[Node]) -> None:
    cmd = scan.peel(node)
    name_node = node.child_by_field_name("name")
    if cmd.name == "" and name_node is not None:
        # `$(curl -s …)` as the command itself runs whatever the server returns
        for sub in direct(name_node, SUBST):
            fetched, urls = scan.fetched(sub)
            if fetched:
                scan.graded(node, urls, "downloaded text run as a command")
        return
    if cmd.name in FETCHERS:
        urls, out_file, _stdout = scan.fetch_targets(cmd)
        if out_file:
            scan.downloaded(out_file, scan.worst(urls), False)
        return
    if cmd.name in _PS_NAMES:
        _powershell_cli(scan, node, cmd)
        return
    if cmd.name.lower() in REMOTE_LOADERS:
        urls = [w for w in (literal(a, scan.env) or "" for a in cmd.args) if "://" in w]
        if urls:
            found = scan.worst(URL_IN_CODE.findall(" ".join(urls)))
            scan.graded_found(node, found, f"{cmd.name} loads and runs a remote program")
        return
    code_runner = is_interpreter(cmd.name) or cmd.name in {"eval", "source", "."}
    if code_runner:
        _substituted_code(scan, node, cmd)
        _inline_code(scan, node, cmd)
    runs_download(scan, node, cmd, ancestors)


def _substituted_code(scan: DownloadScan, node: Node, cmd: Cmd) -> None:
    """`bash -c "$(curl …)"`, `sh <(curl …)`, `source <(curl …)`, `eval "$(… | base64 -d)"`."""
    herestrings = [c for c in node.children if c.type == "herestring_redirect"]
    if herestrings and not reads_stdin_as_code(cmd, scan.env):
        herestrings = []
    for arg in [*cmd.args, *herestrings]:
        subs = [arg] if arg.type in SUBST else direct(arg, SUBST)
        for sub in subs:
            fetched, urls = scan.fetched(sub)
            shape = "process substitution" if sub.type == "process_substitution" else "command substitution"
            if fetched:
                scan.graded(node, urls, f"download run by {cmd.name} via {shape}")
            if scan.decodes(sub):
                scan.hit(node, RULE_ENCODED, f"encoded payload decoded and run by {cmd.name} via {shape}")


def _inline_code(scan: DownloadScan, node: Node, cmd: Cmd) -> None:
    """The string of `bash -c '…'` (parsed again) or `python -c` / `node -e` / `perl -e`."""
    words = [literal(a, scan.env) for a in cmd.args]
    for i, w in enumerate(words[:-1]):
        if w not in {"-c", "-e", "--eval", "-E", "-p", "-Command", "-command", "-r"}:
            continue
        code = words[i + 1]
        if not code:
            return
        if cmd.name == "osascript":
            code = " ; ".join(m.group(1) for m in DO_SHELL_SCRIPT.finditer(code))
        if cmd.name in SHELLS or (cmd.name == "osascript" and code):
            for d in scan_bash(
                code, scan.policy, scan.depth + 1, scan.powershell, saturate=scan.hits.saturate
            ):
                scan.hit(node, d.rule_id, d.message)
        elif INLINE_FETCH.search(code) and INLINE_EXEC.search(code):
            urls = [m.group(0) for m in URL_IN_CODE.finditer(code)]
            scan.graded_found(node, scan.worst(urls), f"{cmd.name} one-liner that fetches and executes code")
        elif INLINE_DECODE.search(code) and INLINE_EXEC.search(code):
            scan.hit(node, RULE_ENCODED, f"{cmd.name} one-liner that decodes and executes a hidden payload")
        return


def _powershell_cli(scan: DownloadScan, node: Node, cmd: Cmd) -> None:
    """`powershell -EncodedCommand <b64>` / `pwsh -c "iwr … | iex"` from a shell."""
    if scan.powershell is None:
        return
    words = [literal(a, scan.env) or "" for a in cmd.args]
    encoded = encoded_command_arg(words)
    if encoded is not None:
        decoded = decode_encoded_command(encoded)
        scan.hit(node, RULE_PS_ENCODED, "PowerShell run with a base64 -EncodedCommand that hides its script")
        if decoded:
            for d in scan.powershell(decoded, scan.policy, scan.depth + 1):
                scan.hit(node, d.rule_id, d.message)
        return
    for i, w in enumerate(words[:-1]):
        if w.lower() in {"-c", "-command", "-com"}:
            for d in scan.powershell(" ".join(words[i + 1 :]), scan.policy, scan.depth + 1):
                scan.hit(node, d.rule_id, d.message)
            return


class ShellDownloadExec:
    """File check: every download-and-execute shape in shell files, code blocks and decoded payloads."""

    languages = frozenset({FileKind.SHELL})

    def check(self, ctx: FileContext) -> Iterator[Hit]:
        tree = ctx.tree
        root = tree.root_node if tree is not None else None
        saturate = partial(ctx.saturate, type(self).__name__)
        powershell = partial(scan_powershell, saturate=saturate)
        for d in scan_bash(
            ctx.source, ctx.skill.host_policy, powershell=powershell, root=root, saturate=saturate
        ):
            yield Hit(d.rule_id, d.line, d.evidence, d.message, more=d.more)


CHECKS = [ShellDownloadExec()]
