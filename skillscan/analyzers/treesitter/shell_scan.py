"""The state of one download-and-execute scan of a shell text (shell.py): hits, the files written
by downloaders so far, effects a repeated statement replays (scan_hits.StatementMemo), and what the
commands under a node fetch or decode (worked out once per statement)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node

from skillscan.analyzers.host_policy import HostPolicy, Trust
from skillscan.analyzers.treesitter.scan_hits import Downloads, Grades, Hits
from skillscan.analyzers.treesitter.scan_shapes import ShapeMemo
from skillscan.analyzers.treesitter.shell_text import DECODERS, Detection, grade, rule_for
from skillscan.analyzers.treesitter.shell_words import (
    FETCHERS,
    Cmd,
    download_keys,
    fetch_targets,
    literal,
    peel,
)
from skillscan.analyzers.urls import UrlRef

MAX_VISITED = 500_000  # nodes walked per text (statements replayed from the memo are not walked)
SUBST = frozenset({"command_substitution", "process_substitution"})
_COMMAND = frozenset({"command"})


def direct(node: Node, types: frozenset[str]) -> list[Node]:
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
        if n.type not in SUBST:
            stack.extend(reversed(n.children))
    return out


def body_command(node: Node) -> Node | None:
    """The command a pipeline stage runs (a redirected stage's body), or None."""
    if node.type == "command":
        return node
    if node.type == "redirected_statement":
        body = node.child_by_field_name("body")
        return body if body is not None and body.type == "command" else None
    return None


def pipeline_stages(node: Node, depth: int = 0) -> list[Node]:
    """Pipeline stages, flattened: tree-sitter-bash sometimes nests a following line's pipeline
    (or a redirected one) inside the last stage instead of ending the pipeline at the newline."""
    out: list[Node] = []
    for c in node.named_children:
        if c.type == "comment":
            continue
        body = c.child_by_field_name("body") if c.type == "redirected_statement" else None
        if depth < 8 and c.type == "pipeline":
            out.extend(pipeline_stages(c, depth + 1))
        elif depth < 8 and body is not None and body.type == "pipeline":
            out.extend(pipeline_stages(body, depth + 1))
        else:
            out.append(c)
    return out


@dataclass
class DownloadScan:
    """One shell text being scanned for download-and-execute: its hits, the files downloaded so far
    and, per statement, the commands already peeled."""

    policy: HostPolicy
    env: Mapping[str, str]
    depth: int
    powershell: Callable[[str, HostPolicy, int], list[Detection]] | None
    hits: Hits = field(default_factory=Hits)
    # files written by a downloader, with (least trusted URL, written from a decoded payload)
    downloads: Downloads = field(default_factory=Downloads)
    line_offset: int = 0  # added to node rows when a single logical line is parsed on its own
    spans: list[tuple[int, int]] | None = None  # rows of statements that cross a line end
    version: int = 0  # changes with `downloads`: a statement's memo key (scan_hits.StatementMemo)
    budget: int = MAX_VISITED
    cmds: dict[int, Cmd] = field(default_factory=dict)  # peel() of the current statement's commands
    fetches: dict[int, tuple[list[str], str | None, bool]] = field(default_factory=dict)  # fetch_targets()
    stage_cmds: dict[int, list[Cmd]] = field(default_factory=dict)  # commands directly under a node
    grades: Grades = field(init=False)  # the least trusted of fetched URLs, each graded once
    shapes: ShapeMemo = field(init=False)  # statements that differ only in the URLs they fetch

    def __post_init__(self) -> None:
        self.grades = Grades(self.policy)
        self.shapes = ShapeMemo(self.hits, self.policy.trusts)

    def line(self, node: Node) -> int:
        return self.line_offset + node.start_point[0] + 1

    def hit(self, node: Node, rule: str, message: str) -> None:
        self.hits.add(rule, self.line(node), message, node)

    def peel(self, node: Node) -> Cmd:
        cmd = self.cmds.get(node.id)
        if cmd is None:
            cmd = self.cmds[node.id] = peel(node, self.env)
        return cmd

    def fetch_targets(self, cmd: Cmd) -> tuple[list[str], str | None, bool]:
        found = self.fetches.get(cmd.node.id)
        if found is None:
            found = self.fetches[cmd.node.id] = fetch_targets(cmd, self.env)
        return found

    def commands_in(self, node: Node) -> list[Cmd]:
        found = self.stage_cmds.get(node.id)
        if found is None:
            found = self.stage_cmds[node.id] = [self.peel(n) for n in direct(node, _COMMAND)]
        return found

    def fetched(self, node: Node) -> tuple[bool, list[str]]:
        """Whether `node` contains a downloader writing to stdout, and the URLs fetched (graded only
        by the caller that reports them: `worst`)."""
        found = False
        fetched: list[str] = []
        for cmd in self.commands_in(node):
            if cmd.name not in FETCHERS:
                continue
            urls, _out, stdout = self.fetch_targets(cmd)
            if not stdout or not urls:
                continue  # `curl | bash` as a phrase in prose names the pattern; it fetches nothing
            found = True
            fetched += urls
        return found, fetched

    def decodes(self, node: Node) -> bool:
        for cmd in self.commands_in(node):
            check = DECODERS.get(cmd.name)
            if check is not None and check([literal(a, self.env) or "" for a in cmd.args]):
                return True
        return False

    def worst(self, urls: list[str]) -> tuple[Trust, UrlRef] | None:
        return self.grades.worst(urls)

    def downloaded(self, target: str, origin: tuple[Trust, UrlRef] | None, decoded: bool) -> None:
        keys, entry = download_keys(target), (target, origin, decoded)
        if self.downloads.add(keys, entry):
            self.version += 1
            if self.hits.recording is not None:
                self.hits.recording.effects.append(("download", keys, entry))

    def crossing(self, node: Node) -> None:
        if self.spans is not None:
            self.spans.append((node.start_point[0], node.end_point[0]))
            if self.hits.recording is not None:
                rel, rows = self.line(node) - self.hits.base, node.end_point[0] - node.start_point[0]
                self.hits.recording.effects.append(("span", rel, rows))

    def replay(self, effect: tuple[Any, ...], base_line: int) -> None:
        """A remembered statement's effect on the scan state, at its new line (StatementMemo)."""
        if effect[0] == "download":
            self.version += self.downloads.add(effect[1], effect[2])
        elif self.spans is not None:  # ("span", line relative to the statement, rows spanned)
            first = base_line + effect[1] - self.line_offset - 1
            self.spans.append((first, first + effect[2]))

    def graded(self, node: Node, urls: list[str], shape: str) -> None:
        """A hit graded by the least trusted of `urls`, URLs a downloader in it fetches."""
        found = self.worst(urls)
        rule, message = grade(self.policy, found, shape, with_message=not self.hits.full(rule_for(found)))
        self.hits.add(rule, self.line(node), message, node, graded=urls)

    def graded_found(self, node: Node, found: tuple[Trust, UrlRef] | None, shape: str) -> None:
        """A hit graded by `found`, a URL read some other way (code in a string, a download): not
        one of a statement's fetched URLs (scan_shapes)."""
        self.hit(node, *grade(self.policy, found, shape, with_message=not self.hits.full(rule_for(found))))
