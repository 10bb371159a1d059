"""One walk per file: the named nodes the checks read, by type, in document order, bounded.

Every check that reads Python or JavaScript nodes (the node checks, obfuscation, flows, resource
abuse) shares one walk of the file (`shared_walk`), so a file costs one traversal, not one per
check. The walk goes down `named_children` lists (built in C; anonymous nodes are tokens, never
parents), ≈2× faster than a tree cursor and as fast as a tree-sitter query's own traversal,
which would also cost a Python object per capture and a sort (captures come back unordered).

Bounds, each reported on the file (`FileContext.fall_short`) so that no check's silence is
taken for a clean file:
- nodes: one per character of source, at least MIN_NODES and at most MAX_NODES (memory: a walked
  node costs a Python object, and a whole 2 MB file of token soup took 550 MB). Real code stays far
  below (minified bundles measured 0.26–0.67 nodes per byte, the largest 830k nodes), so only token
  soup is cut short; the walk then stops at the byte where the budget ran out.
- depth: MAX_DEPTH levels (real code measured at most 77). Checks that climb parents pay
  O(depth) per step in tree-sitter, so deeper nodes are left out rather than made quadratic.
"""

from __future__ import annotations

import gc
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache

from tree_sitter import Node

from skillscan.analyzers.treesitter.parsing import language
from skillscan.analyzers.treesitter.registry import FileContext
from skillscan.models import FileKind

MIN_NODES = 300_000
MAX_NODES = 1_000_000
MAX_DEPTH = 1_000

# The node types the checks read, per language (grammar names; a name a grammar lacks is left
# out). Node checks must register types from this list (the dispatcher checks).
_PY = frozenset(
    {"call", "assignment", "augmented_assignment", "named_expression", "for_statement", "for_in_clause",
     "as_pattern", "return_statement", "function_definition", "attribute", "subscript", "identifier",
     "string", "pair", "while_statement", "binary_operator", "import_statement", "import_from_statement",
     "concatenated_string"}
)  # fmt: skip
_JS = frozenset(
    {"call_expression", "new_expression", "variable_declarator", "assignment_expression",
     "augmented_assignment_expression", "for_in_statement", "return_statement", "arrow_function",
     "function_declaration", "method_definition", "function_expression", "generator_function_declaration",
     "pair", "member_expression", "subscript_expression", "identifier", "property_identifier", "string",
     "template_string", "while_statement", "for_statement", "binary_expression", "import_statement",
     "shorthand_property_identifier"}
)  # fmt: skip
WALKED = {FileKind.PYTHON: _PY, FileKind.JAVASCRIPT: _JS, FileKind.TYPESCRIPT: _JS}


@cache
def _kind_ids(kind: FileKind) -> dict[int, str]:
    """Grammar symbol -> walked type name. A name can have several symbols (aliases): take all."""
    grammar = language(kind)
    if grammar is None:
        return {}
    wanted = WALKED.get(kind, frozenset())
    out: dict[int, str] = {}
    for sym in range(grammar.node_kind_count):
        name = grammar.node_kind_for_id(sym)
        if name in wanted and grammar.node_kind_is_named(sym):
            out[sym] = name
    return out


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector: a walk makes up to a million node objects (tracked by it)
    and no cycles, and each full collection it would trigger traverses the whole heap (5x the
    walk's own time on a 1 MB bundle). Left off only if it was off before."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


class Walk:
    """The walked nodes of one tree in document order (`nodes`), their start bytes (`starts`), and
    per type the indices of its nodes there (`by_type`). `horizon`: the byte where the node budget
    ran out (None: all seen).

    A start is read as the walk keeps its node: a node read again later costs a cache miss in a
    large tree (≈0.3 µs), a look-up in `starts` does not."""

    def __init__(self, root: Node, kind: FileKind, budget: int, max_depth: int | None = None) -> None:
        max_depth = MAX_DEPTH if max_depth is None else max_depth
        self.max_depth = max_depth
        self.root = root
        self.nodes: list[Node] = []
        self.starts = array("q")
        self.by_type: dict[str, list[int]] = {t: [] for t in WALKED.get(kind, ())}
        self.total = root.descendant_count
        self.budget = budget
        self.horizon: int | None = None
        if self.total > budget:
            cursor = root.walk()
            cursor.goto_descendant(budget)  # the first node past the budget, in document order
            self.horizon = cursor.node.start_byte if cursor.node is not None else None
        self.deep = deeper_than(root, max_depth)
        targets = {sym: self.by_type[name] for sym, name in _kind_ids(kind).items()}
        with no_cycle_collection():
            if self.deep:
                self._bounded_walk(root, targets, max_depth)
            else:
                self._walk(root, targets)

    def select(self, types: frozenset[str]) -> list[int]:
        """Indices of the nodes of `types`, in document order (a list of the walk's own when there
        is one type: do not change it)."""
        lists = [found for t in types if (found := self.by_type.get(t))]
        if len(lists) == 1:
            return lists[0]
        merged: list[int] = []
        for found in lists:
            merged += found
        merged.sort()  # sorted runs: timsort merges them in linear time
        return merged

    def starting_at(self, found: Sequence[int], starts: Sequence[int]) -> list[int]:
        """The nodes among `found` (indices in document order) that start at one of `starts`
        (bytes), in document order: each start looked up by bisection (log n node reads); for
        many starts, one pass over the nodes costs less."""
        at = self.starts
        out: list[int] = []
        for start in sorted(set(starts)):
            k = bisect_left(found, start, key=at.__getitem__)
            while k < len(found) and at[found[k]] == start:
                out.append(found[k])
                k += 1
        return out

    def _walk(self, root: Node, targets: dict[int, list[int]]) -> None:
        nodes, horizon = self.nodes, self.horizon
        keep, start_at, stack = nodes.append, self.starts.append, [root]
        pop, push = stack.pop, stack.extend
        while stack:
            n = pop()
            if horizon is not None and n.start_byte >= horizon:
                break  # in document order: every node left starts there or later
            found = targets.get(n.kind_id)
            if found is not None:
                found.append(len(nodes))
                keep(n)
                start_at(n.start_byte)
            children = n.named_children
            if children:
                children.reverse()
                push(children)

    def _bounded_walk(self, root: Node, targets: dict[int, list[int]], max_depth: int) -> None:
        """The same walk, leaving out what lies deeper than `max_depth` (and past the horizon)."""
        nodes, horizon = self.nodes, self.horizon
        keep, start_at, stack = nodes.append, self.starts.append, [(root, 0)]
        pop, push = stack.pop, stack.extend
        while stack:
            n, depth = pop()
            if horizon is not None and n.start_byte >= horizon:
                break
            found = targets.get(n.kind_id)
            if found is not None:
                found.append(len(nodes))
                keep(n)
                start_at(n.start_byte)
            if depth < max_depth:
                children = n.named_children
                push((c, depth + 1) for c in reversed(children))

    def shortfalls(self) -> list[tuple[str, str]]:
        """(cause, detail) of each part of the file this walk left out."""
        out = []
        if self.horizon is not None:
            out.append(
                (
                    "nodes",
                    f"syntax tree of {self.total:,} nodes, over the budget of {self.budget:,} for its "
                    f"size: analysis stopped after {self.budget:,} nodes",
                )
            )
        if self.deep:
            out.append(
                (
                    "depth",
                    f"syntax tree nested deeper than {self.max_depth:,} levels: deeper nodes were not checked",
                )
            )
        return out


class Innermost:
    """The innermost walked node of some types around each position asked about. Positions come
    in increasing order (as the dispatcher hands nodes out), so one sweep with a stack answers
    them all: no parent climbs (`node.parent` costs O(depth) in tree-sitter). A position before
    the last one asked starts the sweep over."""

    def __init__(self, walk: Walk, types: frozenset[str]) -> None:
        self._nodes = [walk.nodes[i] for i in walk.select(types)]
        self._next = 0
        self._around: list[tuple[int, Node]] = []  # (end byte, node), each inside the one below
        self._last = -1

    def at(self, pos: int) -> Node | None:
        if pos < self._last:
            self._next, self._around = 0, []
        self._last = pos
        nodes, around = self._nodes, self._around
        while self._next < len(nodes) and nodes[self._next].start_byte <= pos:
            n = nodes[self._next]
            self._next += 1
            while around and around[-1][0] <= n.start_byte:
                around.pop()
            around.append((n.end_byte, n))
        while around and around[-1][0] <= pos:
            around.pop()
        return around[-1][1] if around else None


def deeper_than(root: Node, limit: int) -> bool:
    """Whether a named node lies more than `limit` levels below `root`. Only subtrees with enough
    nodes to reach that deep are entered (`descendant_count`, which counts the node itself, is
    O(1)): a flat file costs one look at each top-level statement."""
    if root.descendant_count <= limit:
        return False
    stack = [(root, 0)]
    while stack:
        n, depth = stack.pop()
        if depth > limit:
            return True
        for c in n.named_children:
            if depth + c.descendant_count > limit:  # c, at depth + 1, may reach below the limit
                stack.append((c, depth + 1))
    return False


def node_budget(source_size: int) -> int:
    return min(MAX_NODES, max(MIN_NODES, source_size))


def shared_walk(fctx: FileContext) -> Walk | None:
    """The file's walk, made once per skill scan for every check that reads its nodes; what its
    bounds left out is reported on the file."""
    tree = fctx.tree
    if tree is None or fctx.file.kind not in WALKED:
        return None
    found: Walk | None = fctx.shared.get(__name__)
    if found is None:
        found = fctx.shared[__name__] = Walk(tree.root_node, fctx.file.kind, node_budget(len(fctx.source)))
        for cause, detail in found.shortfalls():
            fctx.fall_short(cause, detail)
    return found
