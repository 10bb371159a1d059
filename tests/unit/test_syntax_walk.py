from __future__ import annotations

import pytest
from tree_sitter import Node

from skillscan.analyzers.treesitter.parsing import parse
from skillscan.analyzers.treesitter.syntax_walk import (
    MAX_NODES,
    MIN_NODES,
    WALKED,
    Innermost,
    Walk,
    deeper_than,
    node_budget,
)
from skillscan.models import FileKind

PY = """import os

def outer(a):
    def inner(b):
        return os.system(b)
    x = {"k": [f(g(1)) for g in h]}
    return inner(x)

while True:
    y = a.b.c(d[0])
"""


def root_of(kind: FileKind, text: str) -> Node:
    tree = parse(kind, text)
    assert tree is not None
    return tree.root_node


def preorder(node: Node) -> list[tuple[Node, int]]:
    """Every node with its depth, by a tree cursor: the reference the walk must agree with."""
    out: list[tuple[Node, int]] = []
    cursor = node.walk()
    while True:
        assert cursor.node is not None
        out.append((cursor.node, cursor.depth))
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return out


@pytest.mark.parametrize(
    ("kind", "text", "pair"),
    [
        (FileKind.PYTHON, PY, {"call", "subscript"}),
        (
            FileKind.JAVASCRIPT,
            "const f = (a) => { while (1) { g(a.b, `x${c}`); } };\nnew X(y)['z'](1);\n",
            {"call_expression", "subscript_expression"},
        ),
    ],
)
def test_walk_keeps_the_walked_types_in_document_order(kind: FileKind, text: str, pair: set[str]) -> None:
    root = root_of(kind, text)
    walk = Walk(root, kind, budget=10_000)
    want = [n for n, _ in preorder(root) if n.is_named and n.type in WALKED[kind]]
    assert [n.id for n in walk.nodes] == [n.id for n in want]
    assert list(walk.starts) == [n.start_byte for n in want]
    assert walk.horizon is None and not walk.deep and walk.shortfalls() == []
    for node_type, indices in walk.by_type.items():
        assert all(walk.nodes[i].type == node_type for i in indices)
    merged = walk.select(frozenset(pair))
    assert merged == sorted(merged) and {walk.nodes[i].type for i in merged} == pair


def test_node_budget_stops_the_walk_where_it_runs_out_and_says_so() -> None:
    root = root_of(FileKind.PYTHON, PY * 20)
    walk = Walk(root, FileKind.PYTHON, budget=300)
    assert walk.horizon is not None and walk.nodes
    assert all(n.start_byte < walk.horizon for n in walk.nodes)
    full = Walk(root, FileKind.PYTHON, budget=root.descendant_count)
    assert len(walk.nodes) < len(full.nodes)
    assert [n.id for n in walk.nodes] == [n.id for n in full.nodes[: len(walk.nodes)]]
    [(cause, detail)] = walk.shortfalls()
    assert cause == "nodes" and "stopped after 300 nodes" in detail


def test_node_budget_grows_with_the_file_between_its_bounds() -> None:
    assert node_budget(10) == MIN_NODES
    assert node_budget(MIN_NODES + 5) == MIN_NODES + 5
    assert node_budget(2 * MAX_NODES) == MAX_NODES  # a walked node is a Python object: memory


def test_nodes_below_the_depth_bound_are_left_out_and_reported() -> None:
    text = "x = " + "f(" * 40 + "os.system(cmd)" + ")" * 40 + "\n"
    root = root_of(FileKind.PYTHON, text)
    walk = Walk(root, FileKind.PYTHON, budget=10_000, max_depth=30)
    depth_of = {n.id: d for n, d in preorder(root)}
    assert walk.deep and walk.nodes
    assert max(depth_of[n.id] for n in walk.nodes) == 30
    assert list(walk.starts) == [n.start_byte for n in walk.nodes]
    assert "system" not in {n.text.decode() for n in walk.nodes if n.text}
    [(cause, detail)] = walk.shortfalls()
    assert cause == "depth" and "deeper than 30 levels" in detail
    assert not Walk(root, FileKind.PYTHON, budget=10_000, max_depth=200).deep


@pytest.mark.parametrize("limit", [0, 1, 3, 5, 8, 12, 40])
def test_deeper_than_agrees_with_a_full_walk(limit: int) -> None:
    root = root_of(FileKind.PYTHON, PY)
    deepest = max(d for n, d in preorder(root) if n.is_named)
    assert deeper_than(root, limit) == (deepest > limit)


def test_innermost_function_around_positions_in_order() -> None:
    root = root_of(FileKind.PYTHON, PY)
    walk = Walk(root, FileKind.PYTHON, budget=10_000)
    around = Innermost(walk, frozenset({"function_definition"}))

    def name_at(marker: str) -> str | None:
        found = around.at(PY.index(marker))
        name = found.child_by_field_name("name") if found is not None else None
        return name.text.decode() if name is not None and name.text else None

    assert [name_at(m) for m in ("import", "os.system", "x = {", "return inner", "y = a")] == [
        None,
        "inner",
        "outer",
        "outer",
        None,
    ]
    assert name_at("os.system") == "inner"  # asked again after a later position: starts over


def test_nodes_starting_at_given_bytes() -> None:
    text = "f(a)(b)\n" + "g(1)\n" * 300 + "h(x).y(z)\n"
    walk = Walk(root_of(FileKind.PYTHON, text), FileKind.PYTHON, 10_000)
    calls = walk.select(frozenset({"call"}))
    last = len(text) - len("h(x).y(z)\n")
    # both calls of a chain start at its first byte; a start no call has finds nothing
    assert [walk.nodes[i].start_byte for i in walk.starting_at(calls, [last + 1, last, 0, 0])] == [
        0,
        0,
        last,
        last,
    ]
    assert walk.starting_at(calls, [n.start_byte for n in (walk.nodes[i] for i in calls)]) == calls
    assert walk.starting_at(calls, []) == [] and walk.starting_at([], [0]) == []
