"""Detections of one scanned shell or PowerShell text, and replay of repeated statements.

- `Hits` keeps the first detection per rule and line and lists at most
  MAX_FINDINGS_PER_RULE_FILE per rule; further matches are only counted (reported in
  `Detection.more`), so their evidence and messages are never built. Given a `saturate` callback
  (a file check's `FileContext.saturate`), it reports the first critical rule listed that many
  times (`registry.saturating_rules`) and says so in `saturated`: the scan stops there. Without
  one (a text scanned outside any file) nothing stops.
- `Grades` grades each fetched URL once per text (`HostPolicy.worst`).
- `Downloads` remembers the files earlier statements wrote, found again in O(1).
- `StatementMemo` analyses each distinct top-level statement once: a statement whose text (and
  the scan state it reads) was seen before replays what it did, shifted to its own line. Repeats
  that follow each other (`repeats`) are replayed together: a file of one cradle repeated 35,000
  times costs one analysis, a comparison per line and one set update.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tree_sitter import Node

from skillscan.analyzers.host_policy import HostPolicy, Trust
from skillscan.analyzers.treesitter.registry import MAX_FINDINGS_PER_RULE_FILE, saturating_rules
from skillscan.analyzers.treesitter.shell_text import Detection, evidence_of
from skillscan.analyzers.urls import UrlRef

MAX_MEMO_ENTRIES = 50_000  # distinct statements remembered per text; beyond, new ones are analysed


@dataclass
class Recording:
    """What analysing one statement did, with lines relative to the statement's first line."""

    hits: list[tuple[str, int, str | None, str]] = field(default_factory=list)
    effects: list[tuple[Any, ...]] = field(default_factory=list)  # scanner state changes, in order
    graded: dict[int, tuple[str, ...]] = field(default_factory=dict)  # hit index -> URLs graded


class Hits:
    def __init__(
        self,
        limit: int = MAX_FINDINGS_PER_RULE_FILE,
        keep: Callable[[int], bool] | None = None,
        saturate: Callable[[str], None] | None = None,
    ) -> None:
        self.limit = limit
        self.keep = keep  # lines whose detections count at all (None: every line)
        self.saturate = saturate
        self._saturating = saturating_rules() if saturate is not None else frozenset()
        self.saturated: str | None = None  # the saturating rule listed `limit` times: stop scanning
        self.recording: Recording | None = None
        self.base = 0
        self._out: list[Detection] = []
        self._seen: dict[str, set[int]] = {}  # lines of each rule's detections (ints hash cheaply)
        self._listed: dict[str, int] = {}
        self._more: dict[str, int] = {}

    def full(self, rule: str) -> bool:
        return self._listed.get(rule, 0) >= self.limit

    def add(
        self, rule: str, line: int, message: str, evidence: Node | str, graded: Sequence[str] | None = None
    ) -> None:
        """A detection; `evidence` is the node (its text is read only when the hit is listed);
        `graded`: the fetched URLs whose least trusted chose the rule (recorded for scan_shapes)."""
        ev: str | None = None
        if not self.full(rule):
            ev = evidence if isinstance(evidence, str) else evidence_of(evidence)
        if self.recording is not None:
            if graded is not None:
                self.recording.graded[len(self.recording.hits)] = tuple(graded)
            self.recording.hits.append((rule, line - self.base, ev, message))
        self.emit(rule, line, ev, message)

    def emit(self, rule: str, line: int, evidence: str | None, message: str) -> None:
        seen = self._seen.get(rule)
        if seen is None:
            seen = self._seen[rule] = set()
        if line in seen or (self.keep is not None and not self.keep(line)):
            return
        seen.add(line)
        listed = self._listed.get(rule, 0)
        if evidence is None or listed >= self.limit:  # no evidence: the rule was full when recorded
            self._more[rule] = self._more.get(rule, 0) + 1
            return
        self._listed[rule] = listed + 1
        self._out.append(Detection(rule, line, evidence, message))
        if listed + 1 >= self.limit and rule in self._saturating and self.saturated is None:
            self.saturated = rule
            assert self.saturate is not None
            self.saturate(rule)

    def count(self, rule: str, lines: list[int]) -> None:
        """Matches of a rule already listed in full at `lines` (what `emit` would do with each: count
        each rule and line once), in one set update."""
        assert self.full(rule)
        if self.keep is not None:
            lines = [line for line in lines if self.keep(line)]
        seen = self._seen.setdefault(rule, set())
        before = len(seen)
        seen.update(lines)
        if added := len(seen) - before:
            self._more[rule] = self._more.get(rule, 0) + added

    def result(self) -> list[Detection]:
        """Listed detections in order; the last of each rule carries the count of the rest."""
        out = list(self._out)
        last = {d.rule_id: i for i, d in enumerate(out)}
        for rule, n in self._more.items():
            out[last[rule]] = replace(out[last[rule]], more=n)
        return out


class Grades:
    """`HostPolicy.worst` of URL lists (the first of the least trusted), each URL graded once per
    scanned text: a URL fetched on many lines or pipeline stages costs one assessment."""

    def __init__(self, policy: HostPolicy) -> None:
        self.policy = policy
        self._trust: dict[str, tuple[Trust, UrlRef] | None] = {}

    def worst(self, urls: Iterable[str]) -> tuple[Trust, UrlRef] | None:
        best: tuple[Trust, UrlRef] | None = None
        for url in urls:
            if url in self._trust:
                found = self._trust[url]
            else:
                found = self.policy.worst((url,))
                if len(self._trust) < MAX_MEMO_ENTRIES:
                    self._trust[url] = found
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        return best


class Downloads:
    """Files written by a downloader or a decoder, newest last, each filed under lookup keys (its
    path, its base name): the newest entry under any of a command's keys is found without a scan
    of every earlier download. `add` says whether anything changed (a repeat of the newest entry
    changes nothing)."""

    def __init__(self) -> None:
        self._seq = 0
        self._last: object = None
        self._by_key: dict[Hashable, tuple[int, Any]] = {}

    def __bool__(self) -> bool:
        return bool(self._by_key)

    def add(self, keys: tuple[Hashable, ...], entry: Any) -> bool:
        if not keys or self._last == (keys, entry):
            return False
        self._seq += 1
        self._last = (keys, entry)
        for key in keys:
            self._by_key[key] = (self._seq, entry)
        return True

    def find(self, keys: Iterable[Hashable]) -> Any:
        """The newest entry filed under one of `keys`, or None."""
        best: tuple[int, Any] | None = None
        for key in keys:
            found = self._by_key.get(key)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        return best[1] if best is not None else None


class StatementMemo:
    """Replays a statement already analysed with the same key (its text plus the version of any
    state it reads); `apply` replays the scanner's own effects (`Recording.effects`)."""

    def __init__(self, hits: Hits, apply: Callable[[tuple[Any, ...], int], None]) -> None:
        self._hits = hits
        self._apply = apply
        self._done: dict[Hashable, Recording] = {}

    def replay(self, key: Hashable, at: Node | int, line_offset: int = 0) -> bool:
        """Replay the statement remembered under `key` at line `at` (a line, or the statement's node
        whose line plus `line_offset` is read only when there is something to replay); False when
        there is none (or a statement is being recorded, which includes everything inside it)."""
        done = None if self._hits.recording is not None else self._done.get(key)
        if done is None:
            return False
        if done.hits or done.effects:
            base_line = at if isinstance(at, int) else line_offset + at.start_point[0] + 1
            for rule, rel, ev, message in done.hits:
                self._hits.emit(rule, base_line + rel, ev, message)
            for effect in done.effects:
                self._apply(effect, base_line)
        return True

    def repeatable(self, key: Hashable) -> bool:
        """Whether the statement remembered under `key` changes no state: its repeats that follow it
        have the same key and can be replayed together (`replay_repeats`)."""
        done = None if self._hits.recording is not None else self._done.get(key)
        return done is not None and not done.effects

    def replay_repeats(self, key: Hashable, nodes: Iterable[Node], line_offset: int = 0) -> int:
        """Replay the `repeatable` statement remembered under `key` at each of `nodes` in turn, as
        many `replay` calls would, but counted in bulk once each of its rules is listed in full;
        stops early if the scan saturates. How many of `nodes` it replayed."""
        hits = self._hits
        done = self._done[key]
        assert not done.effects and hits.recording is None
        rules = {rule for rule, _rel, _ev, _message in done.hits}
        full = all(hits.full(rule) for rule in rules)
        counted: list[int] = []  # lines of repeats whose every rule was listed in full already
        replayed = 0
        for node in nodes:
            if hits.saturated:  # the statements after this one are not analysed
                break
            replayed += 1
            if not done.hits:
                continue
            line = line_offset + node.start_point[0] + 1
            if full:
                counted.append(line)
                continue
            for rule, rel, ev, message in done.hits:
                hits.emit(rule, line + rel, ev, message)
            full = all(hits.full(rule) for rule in rules)
        if counted:
            for rule, rel, _ev, _message in done.hits:
                hits.count(rule, [line + rel for line in counted])
        return replayed

    def record(self, key: Hashable, base_line: int, analyse: Callable[[], None]) -> Recording | None:
        """Run `analyse` and remember what it did under `key`; what it did (None when it ran inside
        another statement's recording)."""
        if self._hits.recording is not None:
            analyse()
            return None
        rec = Recording()
        self._hits.recording, self._hits.base = rec, base_line
        try:
            analyse()
        finally:
            self._hits.recording = None
        if len(self._done) < MAX_MEMO_ENTRIES:
            self._done[key] = rec
        return rec


def repeats(
    nodes: list[Node], start: int, code: bytes, base: int, text: bytes, kind: str | None = None
) -> Iterator[Node]:
    """The nodes from `nodes[start]` on whose text is `text` (and type `kind`, if given), up to the
    first that differs; `code` holds the text from byte `base` on. Compared in place (no copy of
    each node's text), and only as far as they are consumed."""
    size = len(text)
    for i in range(start, len(nodes)):  # by index: islice would step through nodes[:start] first
        node = nodes[i]
        at = node.start_byte - base
        if node.end_byte - base - at != size or not code.startswith(text, at):
            return
        if kind is not None and node.type != kind:
            return
        yield node
