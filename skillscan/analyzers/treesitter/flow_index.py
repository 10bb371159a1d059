"""A script's statements, strings and names from the file's shared walk (`syntax_walk`), and the
lookups that spare further walks (flow and obfuscation checks).

`FileIndex`, built once per file and shared by the obfuscation and flow checks, keeps literal
strings and names in source order with their start bytes, so "the strings and names under this
expression" is a bisection instead of a walk of the expression; `Heat` answers "could anything
tainted lie under this node" the same way: a value with no tainted name, secret read or tainted
call beneath it carries no secret and is dismissed without walking it; its sweeps
(`flow_sweep.Sweep`) find the nodes of a bucket around given places without climbing parents.
Every lookup is bounded, so the work stays linear in the file. `FileIndex.prefix` is the same script cut short after some statements.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from functools import cache, cached_property
from itertools import accumulate, islice
from math import isqrt

from tree_sitter import Node

from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.flow_model import Lang
from skillscan.analyzers.treesitter.flow_sweep import Sweep
from skillscan.analyzers.treesitter.flow_syntax import NAMING_PARENTS
from skillscan.analyzers.treesitter.parsing import node_text
from skillscan.analyzers.treesitter.registry import FileContext
from skillscan.analyzers.treesitter.syntax_walk import Walk, shared_walk

WINDOW_BYTES = 2000  # a path expression is small: look at the first strings and names of a value
WINDOW_PARTS = 50
STRINGS = frozenset({"string", "template_string"})
NAMES = frozenset({"identifier", "property_identifier", "shorthand_property_identifier"})  # `{key}` reads key


Buckets = tuple[tuple[str, frozenset[str]], ...]  # (bucket, node types): hashable, for the cache


@cache
def flow_buckets(lang: Lang) -> Buckets:
    return (
        ("assign", lang.assign),
        ("loop", lang.loop),
        ("as", frozenset({"as_pattern"})),
        ("return", frozenset({"return_statement"})),
        ("arrow", frozenset({"arrow_function"})),
        ("call", lang.call),
        ("function", lang.functions),
        ("namer", NAMING_PARENTS),
        ("member", frozenset({lang.member})),
        ("subscript", frozenset({"subscript", "subscript_expression"})),
        ("name", NAMES),
        ("string", STRINGS),
        ("import", frozenset({"import_statement", "import_from_statement"})),
        ("joined", frozenset({"concatenated_string"})),  # Python's strings side by side
    )


BINDINGS = ("assign", "loop", "as", "return", "arrow")  # the statements that hand a value on to a name
STATEMENTS = (*BINDINGS, "call")


class FileIndex:
    """A script as the flow and obfuscation checks read it (from the file's shared walk): its
    statements in document order, and the strings and names under any node by bisection. With a
    `limit`, only the nodes that start before that byte (`prefix`)."""

    def __init__(self, walk: Walk, lang: Lang, text: str = "", limit: int | None = None) -> None:
        self.nodes = walk.nodes
        self._walk = walk
        self._lang = lang
        self._types = dict(flow_buckets(lang))
        self._indices: dict[str, list[int]] = {}  # bucket -> its node indices, on first use
        # past the horizon nothing is indexed: a node reaching there is never dismissed
        self.horizon = walk.horizon
        self.limit = limit
        self.text = text  # the source, for finding names by text
        self._nodes_of: dict[str, list[Node]] = {}  # bucket -> its nodes, on first use
        self._string_values: dict[int, str] = {}
        self._name_texts: dict[int, str] = {}
        self._names_by_text: dict[str, list[int]] | None = None

    @classmethod
    def of(cls, fctx: FileContext, lang: Lang) -> FileIndex | None:
        """The file's index, built once per skill scan and shared by the checks that read Python
        and JavaScript (obfuscation, then the flows)."""
        built: dict[str, FileIndex] = fctx.shared.setdefault(__name__, {})
        if lang.name not in built:
            walk = shared_walk(fctx)
            if walk is None:
                return None
            built[lang.name] = cls(walk, lang, fctx.source)
        return built[lang.name]

    def prefix(self, limit: int) -> FileIndex:
        """The same script, only the nodes that start before byte `limit`."""
        out = FileIndex(self._walk, self._lang, self.text, limit)
        out._string_values, out._name_texts = self._string_values, self._name_texts
        return out

    @cached_property
    def statements(self) -> list[tuple[int, str]]:
        """(node index, bucket) of assignments, loops, returns, calls … in document order."""
        return sorted((i, b) for b in STATEMENTS for i in self.indices(b))

    def indices(self, name: str) -> list[int]:
        """The bucket's node indices in document order (made on first use: do not change it)."""
        found = self._indices.get(name)
        if found is None:
            found = self._walk.select(self._types.get(name, frozenset()))
            if self.limit is not None:
                found = found[: bisect_left(found, self.limit, key=self._walk.starts.__getitem__)]
            self._indices[name] = found
        return found

    def bucket(self, name: str) -> list[Node]:
        """The bucket's nodes in document order (one list, made on first use: do not change it)."""
        found = self._nodes_of.get(name)
        if found is None:
            found = self._nodes_of[name] = [self.nodes[i] for i in self.indices(name)]
        return found

    def sweep(self, name: str) -> Sweep:
        return Sweep(self.nodes, self.indices(name), self.root)

    @property
    def root(self) -> Node:
        return self._walk.root

    # --- strings and names under a node --------------------------------------------------
    def strings_under(self, node: Node) -> list[str]:
        """Literal string contents under `node` (not inside another string), in order."""
        out: list[str] = []
        covered = -1  # end byte of the last string taken: strings inside it are its own parts
        for i in self._window("string", node):
            if len(out) >= WINDOW_PARTS:
                break
            if self._walk.starts[i] >= covered:
                covered = self.nodes[i].end_byte
                out.append(self._string_value(i))
        return out

    def inside(self, bucket: str, positions: list[int]) -> list[int]:
        """The (sorted) `positions` inside a node of the bucket, or past the horizon (unknown): by
        bisection over the nodes' starts and the furthest end reached so far."""
        indices, nodes, at = self.indices(bucket), self.nodes, self._walk.starts
        starts = [at[i] for i in indices]
        reach = list(accumulate((nodes[i].end_byte for i in indices), max))
        horizon = float("inf") if self.horizon is None else self.horizon
        return [
            p for p in positions if p >= horizon or ((k := bisect_right(starts, p) - 1) >= 0 and reach[k] > p)
        ]

    def _window(self, bucket: str, node: Node) -> Iterator[int]:
        """Indexes of the bucket's nodes that start within `node` (its first WINDOW_BYTES), in order."""
        positions, at = self.indices(bucket), self._walk.starts
        end = min(node.end_byte, node.start_byte + WINDOW_BYTES)
        k = bisect_left(positions, node.start_byte, key=at.__getitem__)
        while k < len(positions) and at[positions[k]] < end:
            yield positions[k]
            k += 1

    def _string_value(self, i: int) -> str:
        value = self._string_values.get(i)
        if value is None:
            n = self.nodes[i]
            resolved = resolve(n)
            value = resolved if resolved is not None else _fragments(n)
            self._string_values[i] = value
        return value

    def names_under(self, node: Node) -> list[str]:
        """Identifiers and property names under `node`, in order."""
        return [self.name_text(i) for i in islice(self._window("name", node), WINDOW_PARTS)]

    def name_text(self, i: int) -> str:
        text = self._name_texts.get(i)
        if text is None:
            text = self._name_texts[i] = node_text(self.nodes[i])
        return text

    def names_by_text(self) -> dict[str, list[int]]:
        if self._names_by_text is None:
            self._names_by_text = {}
            for i in self.indices("name"):
                self._names_by_text.setdefault(self.name_text(i), []).append(i)
        return self._names_by_text


def _fragments(n: Node) -> str:
    return "/".join(node_text(c) for c in n.named_children if c.type in {"string_content", "string_fragment"})


class Heat:
    """Start bytes of the tainted leaves of one file (names, secret reads, tainted calls): a node
    can carry a secret only when one of them lies in its byte range. Sorted, with a small sorted
    overflow merged in once it outgrows the square root of the rest (amortised sub-linear adds)."""

    def __init__(self, horizon: int | None) -> None:
        self._main: list[int] = []
        self._extra: list[int] = []
        self._horizon = horizon

    def add(self, starts: Iterable[int]) -> None:
        batch = list(starts)
        if len(self._extra) + len(batch) > 32 + isqrt(len(self._main)):
            self._main = sorted(self._main + self._extra + batch)
            self._extra = []
            return
        for s in batch:
            insort(self._extra, s)

    def merged(self) -> list[int]:
        """All the start bytes, sorted (one list: do not change it)."""
        if self._extra:
            self._main = sorted(self._main + self._extra)
            self._extra = []
        return self._main

    @property
    def horizon(self) -> float:
        """Past this byte nothing is indexed: a range reaching beyond it is never cold."""
        return float("inf") if self._horizon is None else self._horizon

    def __bool__(self) -> bool:
        return bool(self._main or self._extra) or self._horizon is not None

    def under(self, node: Node) -> bool:
        return self.hot(node.start_byte, node.end_byte)

    def hot(self, start: int, end: int) -> bool:
        """Whether a tainted leaf starts in [start, end)."""
        if self._horizon is not None and end > self._horizon:
            return True
        for arr in (self._main, self._extra):
            k = bisect_left(arr, start)
            if k < len(arr) and arr[k] < end:
                return True
        return False


class Spans:
    """A union of byte ranges (the values the current taint round has looked at), for asking
    whether a leaf lies in one of them. Ranges arrive mostly in source order: appending is O(1)."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        starts, ends = self._starts, self._ends
        if not starts or start > ends[-1]:
            starts.append(start)
            ends.append(end)
            return
        if start >= starts[-1]:
            ends[-1] = max(ends[-1], end)
            return
        # out of order: insert, then merge with the neighbours it touches
        k = bisect_left(starts, start)
        if k > 0 and ends[k - 1] >= start:
            k -= 1
            start = starts[k]
        j = k
        while j < len(starts) and starts[j] <= end:
            end = max(end, ends[j])
            j += 1
        starts[k:j] = [start]
        ends[k:j] = [end]

    def within(self, positions: list[int]) -> list[int]:
        """The positions that lie in one of the ranges."""
        starts, ends = self._starts, self._ends
        return [p for p in positions if (k := bisect_right(starts, p) - 1) >= 0 and p < ends[k]]
