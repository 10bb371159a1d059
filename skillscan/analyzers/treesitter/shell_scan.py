"""The state of one download-and-execute scan of a shell text (shell.py): hits, the files written
by downloaders so far, and effects a repeated statement replays (scan_hits.StatementMemo)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node

from skillscan.analyzers.delivery import HostPolicy, Trust, UrlRef
from skillscan.analyzers.treesitter.scan_hits import Downloads, Grades, Hits
from skillscan.analyzers.treesitter.shell_text import Detection, grade, rule_for
from skillscan.analyzers.treesitter.shell_words import Cmd, download_keys, fetch_targets, peel

MAX_VISITED = 500_000  # nodes walked per text (statements replayed from the memo are not walked)


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

    def __post_init__(self) -> None:
        self.grades = Grades(self.policy)

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

    def graded(self, node: Node, found: tuple[Trust, UrlRef] | None, shape: str) -> None:
        self.hit(node, *grade(self.policy, found, shape, with_message=not self.hits.full(rule_for(found))))
