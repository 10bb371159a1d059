"""`Sweep.innermost_of` looks few places up (bisection, a short look back, the furthest end before)
instead of sweeping to them: both ways must name the same node as a plain search does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter import Node

from skillscan.analyzers.treesitter import flow_sweep
from skillscan.analyzers.treesitter.flow_sweep import Sweep
from skillscan.analyzers.treesitter.parsing import parse, walk
from skillscan.models import FileKind

# statements with calls nested in callees and arguments, blocks, and a statement cut short
PIECES = ["f(", "g(1)", ")", "a.b(", "x = ", "(", "h(k(2), ", "cp.exec(c);\n", "[", "]", "{", "}",
          "function q() { return r(s(t())); }\n", ";\n", "u(v)(w)", ".then(", "\n"]  # fmt: skip


def _calls(text: str, data: st.DataObject) -> tuple[Node, list[Node], list[int], list[int]]:
    """The script's root, its calls and errors (`nodes`), the calls among them (`indices`), and
    some places drawn in it, in increasing order."""
    tree = parse(FileKind.JAVASCRIPT, text)
    assert tree is not None
    nodes = [n for n in walk(tree.root_node, limit=10**6) if n.type in {"call_expression", "ERROR"}]
    indices = [i for i, n in enumerate(nodes) if n.type == "call_expression"]
    positions = sorted(data.draw(st.lists(st.integers(0, len(text.encode())), max_size=12)))
    return tree.root_node, nodes, indices, positions


def _expected(nodes: list, indices: list[int], pos: int) -> tuple[int, int, int]:  # type: ignore[type-arg]
    around = [i for i in indices if nodes[i].start_byte <= pos < nodes[i].end_byte]
    if not around:
        return -1, -1, -1
    i = max(around, key=lambda i: (nodes[i].start_byte, i))
    return nodes[i].end_byte, nodes[i].start_byte, i


@pytest.mark.parametrize("rooted", [False, True])  # with the root, its children rule nodes out
@pytest.mark.parametrize(("cost", "look_back"), [(0, 1), (0, 3), (0, 16), (10**9, 16)])
@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=60), data=st.data())
def test_looked_up_and_swept_places_agree(
    rooted: bool, cost: int, look_back: int, pieces: list[str], data: st.DataObject
) -> None:
    root, nodes, indices, positions = _calls("".join(pieces), data)
    saved = flow_sweep.LOOKUP_COST, flow_sweep.LOOK_BACK
    flow_sweep.LOOKUP_COST, flow_sweep.LOOK_BACK = cost, look_back  # 0: every place looked up
    try:
        found, starts, ends = Sweep(nodes, indices, root if rooted else None).innermost_of(positions)
    finally:
        flow_sweep.LOOKUP_COST, flow_sweep.LOOK_BACK = saved
    expected = [_expected(nodes, indices, p) for p in positions]
    assert list(zip(ends, starts, found, strict=True)) == expected


@pytest.mark.parametrize(("jump", "look_back"), [(0, 1), (0, 16), (10**9, 16)])
@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=60), data=st.data())
def test_jumped_and_swept_places_agree(
    jump: int, look_back: int, pieces: list[str], data: st.DataObject
) -> None:
    # a sweep far behind a place jumps there (`Sweep._jump`): it must find every node around it
    root, nodes, indices, positions = _calls("".join(pieces), data)
    saved = flow_sweep.JUMP_BYTES, flow_sweep.LOOK_BACK
    flow_sweep.JUMP_BYTES, flow_sweep.LOOK_BACK = jump, look_back  # 0: every place jumps
    try:
        sweep = Sweep(nodes, indices, root)
        found = [sweep.around(p) for p in positions]
    finally:
        flow_sweep.JUMP_BYTES, flow_sweep.LOOK_BACK = saved
    expected = [sorted(i for i in indices if nodes[i].start_byte <= p < nodes[i].end_byte) for p in positions]
    assert found == expected
