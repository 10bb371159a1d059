"""Download-and-execute in shell, in every shape (tree-sitter-bash).

- pipelines: `curl … | sh`, `wget -qO- … | sudo -E bash -s --`, `curl … | python3 -`;
- code from a substitution: `bash -c "$(curl …)"`, `sh <(curl …)`, `source <(curl …)`,
  `eval "$(wget -O- …)"`, `bash <<< "$(curl …)"`, `bash < <(curl …)`, `$(curl …)`;
- download then run: `curl -o x … && chmod +x x && ./x`, `wget …/a.sh; bash a.sh`;
- decoded payloads into a shell: `echo <b64> | base64 -d|-D|--decode | sh`, `eval "$(… | base64 -d)"`;
- strings that are code: `bash -c '…'` (parsed again), `python -c` / `node -e` / `perl -e` with a
  fetch and an exec, `powershell -Command …` / `-EncodedCommand …` (handed to the PowerShell checks).

Each hit is graded by where the code comes from (delivery.HostPolicy): a delivery host (raw IP,
paste site, tunnel, shortener, …) is critical, an undeclared host high, the skill's own or a
well-known vendor installer low. `sudo`/`env`/`nohup` prefixes and line continuations are seen
through. Everything is parsed, nothing is run.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from skillscan.analyzers.delivery import HostPolicy, Trust, UrlRef
from skillscan.analyzers.treesitter.registry import FileContext, Hit
from skillscan.analyzers.treesitter.shell_text import (
    DECODERS,
    DO_SHELL_SCRIPT,
    INLINE_DECODE,
    INLINE_EXEC,
    INLINE_FETCH,
    REMOTE_LOADERS,
    TRIGGER,
    URL_IN_CODE,
    Detection,
    defuse_long_pipelines,
    evidence_of,
    logical_lines,
)
from skillscan.analyzers.treesitter.shell_words import (
    FETCHERS,
    SHELLS,
    Cmd,
    assignments,
    base_name,
    fetch_targets,
    is_interpreter,
    literal,
    peel,
    reads_stdin_as_code,
    same_file,
    text,
)
from skillscan.models import FileKind

RULE_BY_TRUST = {
    Trust.DELIVERY: "download-exec-delivery-host",
    Trust.UNDECLARED: "download-exec-undeclared-host",
    Trust.DECLARED: "download-exec-declared-host",
}
RULE_ENCODED = "encoded-payload-pipe-shell"
RULE_PS_ENCODED = "powershell-encoded-command"
MAX_DEPTH = 3
MAX_SOURCE = 2 * 1024 * 1024
MAX_LINES_REPARSED = 20_000

BASH = Language(tree_sitter_bash.language())
_PS_NAMES = frozenset({"powershell", "pwsh", "powershell.exe", "pwsh.exe"})


@dataclass
class _Scan:
    policy: HostPolicy
    env: Mapping[str, str]
    depth: int
    powershell: Callable[[str, HostPolicy, int], list[Detection]] | None
    out: list[Detection] = field(default_factory=list)
    # files written by a downloader (with the least trusted URL) or from a decoded payload (True)
    downloads: list[tuple[str, tuple[Trust, UrlRef] | None, bool]] = field(default_factory=list)
    line_offset: int = 0  # added to node rows when a single logical line is parsed on its own

    def line(self, node: Node) -> int:
        return self.line_offset + node.start_point[0] + 1

    def hit(self, node: Node, rule: str, message: str) -> None:
        self.out.append(Detection(rule, self.line(node), evidence_of(node), message))

    def graded(self, node: Node, found: tuple[Trust, UrlRef] | None, shape: str) -> None:
        if found is None:
            self.hit(node, RULE_BY_TRUST[Trust.UNDECLARED], f"{shape} from a URL computed at run time")
            return
        trust, url = found
        target = (url.host + url.path)[:120]
        if trust is Trust.DELIVERY:
            kinds = ", ".join(sorted(self.policy.catalog.classify(url) - {"archive", "executable"}))
            msg = f"{shape}: code fetched from {target} ({kinds}) is executed"
        elif trust is Trust.UNDECLARED:
            msg = f"{shape}: code fetched from {target}, a host the skill does not declare, is executed"
        else:
            msg = f"{shape}: code fetched from {target} (declared or well-known installer host) is executed"
        self.hit(node, RULE_BY_TRUST[trust], msg)


def scan_bash(
    source: str,
    policy: HostPolicy,
    depth: int = 0,
    powershell: Callable[[str, HostPolicy, int], list[Detection]] | None = None,
    root: Node | None = None,
) -> list[Detection]:
    """Every download-and-execute shape in a shell text (lines are 1-based in `source`).

    `root` is the already parsed tree of `source` when the caller has one (one parse per file)."""
    if depth > MAX_DEPTH or not TRIGGER.search(_unquoted(source)):
        return []
    parser = Parser(BASH)
    source = source[:MAX_SOURCE]
    if root is None:
        source = defuse_long_pipelines(source)
        root = parser.parse(source.encode("utf-8", "replace")).root_node
    scan = _Scan(policy=policy, env=assignments(root), depth=depth, powershell=powershell)
    logical = logical_lines(source) if source.count("\n") < MAX_LINES_REPARSED else []
    starts = [first for first, _ in logical]
    suspect = _visit(scan, root, 0, starts)
    # tree-sitter-bash can run a pipeline on past its newline and swallow the next line into a
    # redirect: the logical lines under a statement that crosses a line end are parsed again alone.
    for index in sorted(suspect):
        first_line, chunk = logical[index]
        if chunk.strip() and not chunk.lstrip().startswith("#"):
            _visit(scan, parser.parse(chunk.encode("utf-8", "replace")).root_node, first_line, [])
    seen: set[tuple[str, int]] = set()
    unique = []
    for d in scan.out:
        if (d.rule_id, d.line) not in seen:
            seen.add((d.rule_id, d.line))
            unique.append(d)
    return unique


_CROSSING = frozenset({"pipeline", "redirected_statement", "list", "command"})


def _unquoted(source: str) -> str:
    return source.replace("'", "").replace('"', "").replace("\\", "")


def _visit(scan: _Scan, root: Node, line_offset: int, starts: list[int]) -> set[int]:
    """Dispatch every node; return the logical lines (indexes into `starts`) that a simple
    statement runs across, which only a misparse (or a multi-line string) does."""
    scan.line_offset = line_offset
    suspect: set[int] = set()
    stack: list[tuple[Node, int]] = [(root, 0)]
    path: list[Node] = []
    budget = 500_000
    while stack and budget > 0:
        budget -= 1
        node, depth = stack.pop()
        del path[depth:]
        parent = path[-1] if path else None
        path.append(node)
        kind = node.type
        if kind == "pipeline":
            if parent is None or parent.type not in {"pipeline", "redirected_statement"}:
                _pipeline(scan, node)
        elif kind == "redirected_statement":
            _redirected(scan, node)
        elif kind == "command":
            _command(scan, node, path)
        if starts and kind in _CROSSING and node.end_point[0] > node.start_point[0]:
            lo = bisect.bisect_right(starts, node.start_point[0]) - 1
            hi = bisect.bisect_right(starts, node.end_point[0]) - 1
            if hi > lo:
                suspect.update(range(max(lo, 0), hi + 1))
        stack.extend((c, depth + 1) for c in reversed(node.children))
    return suspect


_SUBST = frozenset({"command_substitution", "process_substitution"})


def _direct(node: Node, types: frozenset[str]) -> list[Node]:
    """Descendants of `node` of the given types, not looking inside nested substitutions (whose
    output is an argument, not code): keeps hostile nesting linear."""
    out: list[Node] = [node] if node.type in types else []
    stack = list(reversed(node.children))
    seen = 0
    while stack and seen < 50_000:
        n = stack.pop()
        seen += 1
        if n.type in types:
            out.append(n)
        if n.type not in _SUBST:
            stack.extend(reversed(n.children))
    return out


def _commands_in(node: Node, env: Mapping[str, str]) -> list[Cmd]:
    return [peel(n, env) for n in _direct(node, frozenset({"command"}))]


def _fetch_into_stdout(node: Node, scan: _Scan) -> tuple[bool, tuple[Trust, UrlRef] | None]:
    """Whether `node` contains a downloader writing to stdout, and the least trusted URL."""
    found = False
    worst: tuple[Trust, UrlRef] | None = None
    for cmd in _commands_in(node, scan.env):
        if cmd.name not in FETCHERS:
            continue
        urls, _out, stdout = fetch_targets(cmd, scan.env)
        if not stdout or not urls:
            continue  # `curl | bash` as a phrase in prose names the pattern; it fetches nothing
        found = True
        w = scan.policy.worst(urls)
        if w is not None and (worst is None or w[0] > worst[0]):
            worst = w
    return found, worst


def _decodes(node: Node, env: Mapping[str, str]) -> bool:
    for cmd in _commands_in(node, env):
        check = DECODERS.get(cmd.name)
        if check is not None and check([literal(a, env) or "" for a in cmd.args]):
            return True
    return False


def _body_command(node: Node) -> Node | None:
    if node.type == "command":
        return node
    if node.type == "redirected_statement":
        body = node.child_by_field_name("body")
        return body if body is not None and body.type == "command" else None
    return None


def _stages(node: Node, depth: int = 0) -> list[Node]:
    """Pipeline stages, flattened: tree-sitter-bash sometimes nests a following line's pipeline
    (or a redirected one) inside the last stage instead of ending the pipeline at the newline."""
    out: list[Node] = []
    for c in node.named_children:
        if c.type == "comment":
            continue
        body = c.child_by_field_name("body") if c.type == "redirected_statement" else None
        if depth < 8 and c.type == "pipeline":
            out.extend(_stages(c, depth + 1))
        elif depth < 8 and body is not None and body.type == "pipeline":
            out.extend(_stages(body, depth + 1))
        else:
            out.append(c)
    return out


def _pipeline(scan: _Scan, node: Node) -> None:
    stages = _stages(node)
    fetched = False
    worst: tuple[Trust, UrlRef] | None = None
    decoded = False
    for stage in stages:
        body = _body_command(stage)
        if body is not None and (fetched or decoded):
            cmd = peel(body, scan.env)
            if reads_stdin_as_code(cmd, scan.env):
                into = cmd.name
                if fetched:
                    scan.graded(node, worst, f"download piped into {into}")
                if decoded:
                    scan.hit(node, RULE_ENCODED, f"encoded payload decoded and piped into {into}")
                return
        f, w = _fetch_into_stdout(stage, scan)
        if f:
            fetched = True
            if w is not None and (worst is None or w[0] > worst[0]):
                worst = w
        decoded = decoded or _decodes(stage, scan.env)


def _redirected(scan: _Scan, node: Node) -> None:
    """`bash <<< "$(curl …)"`, `bash < <(curl …)`; and `curl … > x.sh` / `… | base64 -d > x`
    (remembered, so that running `x.sh` later counts as running the download)."""
    _written_to_file(scan, node)
    body = _body_command(node)
    if body is None:
        return
    cmd = peel(body, scan.env)
    if not reads_stdin_as_code(cmd, scan.env):
        return
    for redirect in node.children_by_field_name("redirect"):
        if redirect.type not in {"herestring_redirect", "file_redirect"}:
            continue
        for sub in _direct(redirect, _SUBST):
            fetched, worst = _fetch_into_stdout(sub, scan)
            if fetched:
                scan.graded(node, worst, f"download redirected into {cmd.name}")
            if _decodes(sub, scan.env):
                scan.hit(node, RULE_ENCODED, f"encoded payload decoded and redirected into {cmd.name}")


def _written_to_file(scan: _Scan, node: Node) -> None:
    body = node.child_by_field_name("body")
    if body is None or body.type not in {"command", "pipeline"}:
        return
    fetched, worst = _fetch_into_stdout(body, scan)
    decoded = _decodes(body, scan.env)
    if not (fetched or decoded):
        return
    for redirect in node.children_by_field_name("redirect"):
        if redirect.type != "file_redirect" or "<" in text(redirect).split(None, 1)[0]:
            continue
        dest = redirect.child_by_field_name("destination")
        target = literal(dest, scan.env) if dest is not None else None
        if target and not target.startswith("/dev/"):
            scan.downloads.append((target, worst, decoded and not fetched))


def _command(scan: _Scan, node: Node, path: list[Node]) -> None:
    cmd = peel(node, scan.env)
    name_node = node.child_by_field_name("name")
    if cmd.name == "" and name_node is not None:
        # `$(curl -s …)` as the command itself runs whatever the server returns
        for sub in _direct(name_node, _SUBST):
            fetched, worst = _fetch_into_stdout(sub, scan)
            if fetched:
                scan.graded(node, worst, "downloaded text run as a command")
        return
    if cmd.name in FETCHERS:
        urls, out_file, _stdout = fetch_targets(cmd, scan.env)
        if out_file:
            scan.downloads.append((out_file, scan.policy.worst(urls), False))
        return
    if cmd.name in _PS_NAMES:
        _powershell_cli(scan, node, cmd)
        return
    if cmd.name.lower() in REMOTE_LOADERS:
        urls = [w for w in (literal(a, scan.env) or "" for a in cmd.args) if "://" in w]
        if urls:
            found = scan.policy.worst(URL_IN_CODE.findall(" ".join(urls)))
            scan.graded(node, found, f"{cmd.name} loads and runs a remote program")
        return
    code_runner = is_interpreter(cmd.name) or cmd.name in {"eval", "source", "."}
    if code_runner:
        _substituted_code(scan, node, cmd)
        _inline_code(scan, node, cmd)
    _runs_download(scan, node, cmd, path)


def _substituted_code(scan: _Scan, node: Node, cmd: Cmd) -> None:
    """`bash -c "$(curl …)"`, `sh <(curl …)`, `source <(curl …)`, `eval "$(… | base64 -d)"`."""
    herestrings = [c for c in node.children if c.type == "herestring_redirect"]
    if herestrings and not reads_stdin_as_code(cmd, scan.env):
        herestrings = []
    for arg in [*cmd.args, *herestrings]:
        subs = [arg] if arg.type in _SUBST else _direct(arg, _SUBST)
        for sub in subs:
            fetched, worst = _fetch_into_stdout(sub, scan)
            shape = "process substitution" if sub.type == "process_substitution" else "command substitution"
            if fetched:
                scan.graded(node, worst, f"download run by {cmd.name} via {shape}")
            if _decodes(sub, scan.env):
                scan.hit(node, RULE_ENCODED, f"encoded payload decoded and run by {cmd.name} via {shape}")


def _inline_code(scan: _Scan, node: Node, cmd: Cmd) -> None:
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
            for d in scan_bash(code, scan.policy, scan.depth + 1, scan.powershell):
                scan.out.append(Detection(d.rule_id, scan.line(node), evidence_of(node), d.message))
        elif INLINE_FETCH.search(code) and INLINE_EXEC.search(code):
            urls = [m.group(0) for m in URL_IN_CODE.finditer(code)]
            scan.graded(node, scan.policy.worst(urls), f"{cmd.name} one-liner that fetches and executes code")
        elif INLINE_DECODE.search(code) and INLINE_EXEC.search(code):
            scan.hit(node, RULE_ENCODED, f"{cmd.name} one-liner that decodes and executes a hidden payload")
        return


def _runs_download(scan: _Scan, node: Node, cmd: Cmd, path: list[Node]) -> None:
    """A file written by an earlier downloader run as a program, a script or an installer."""
    if not scan.downloads:
        return
    candidates: list[str] = [cmd.word] if cmd.word else []
    if is_interpreter(cmd.name) or cmd.name in {"source", ".", "open", "installer", "msiexec", "start"}:
        for a in cmd.args:
            w = literal(a, scan.env) or ""
            if w and not w.startswith("-"):
                candidates.append(w)
                break
    for target, origin, encoded in reversed(scan.downloads):
        if any(same_file(target, c) for c in candidates):
            chain = node  # report the whole `curl … && chmod … && ./x` chain
            for ancestor in reversed(path[:-1]):
                if ancestor.type not in {"list", "pipeline", "redirected_statement"}:
                    break
                chain = ancestor
            if encoded:
                scan.hit(chain, RULE_ENCODED, f"decoded payload written to {base_name(target)} is executed")
            else:
                scan.graded(chain, origin, f"downloaded file {base_name(target)} is executed")
            return


def _powershell_cli(scan: _Scan, node: Node, cmd: Cmd) -> None:
    """`powershell -EncodedCommand <b64>` / `pwsh -c "iwr … | iex"` from a shell."""
    if scan.powershell is None:
        return
    from skillscan.analyzers.treesitter.powershell import decode_encoded_command, encoded_command_arg

    words = [literal(a, scan.env) or "" for a in cmd.args]
    encoded = encoded_command_arg(words)
    if encoded is not None:
        decoded = decode_encoded_command(encoded)
        scan.hit(node, RULE_PS_ENCODED, "PowerShell run with a base64 -EncodedCommand that hides its script")
        if decoded:
            for d in scan.powershell(decoded, scan.policy, scan.depth + 1):
                scan.out.append(Detection(d.rule_id, scan.line(node), evidence_of(node), d.message))
        return
    for i, w in enumerate(words[:-1]):
        if w.lower() in {"-c", "-command", "-com"}:
            for d in scan.powershell(" ".join(words[i + 1 :]), scan.policy, scan.depth + 1):
                scan.out.append(Detection(d.rule_id, scan.line(node), evidence_of(node), d.message))
            return


class ShellDownloadExec:
    """File check: every download-and-execute shape in shell files, code blocks and decoded payloads."""

    languages = frozenset({FileKind.SHELL})

    def check(self, ctx: FileContext) -> Iterator[Hit]:
        from skillscan.analyzers.treesitter.powershell import scan_powershell

        tree = ctx.tree
        root = tree.root_node if tree is not None else None
        for d in scan_bash(ctx.source, ctx.skill.host_policy, powershell=scan_powershell, root=root):
            yield Hit(d.rule_id, d.line, d.evidence, d.message)


CHECKS = [ShellDownloadExec()]
