"""The nodes of one bucket around places of a script (`Sweep`), asked in increasing order: one
pass with a stack of the nodes open, or for a place far ahead a lookup by bisection bounded by the
root's child around it. No parent climbs: `node.parent` costs O(depth) in tree-sitter, and more
with many siblings."""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from tree_sitter import Node

LOOKUP_COST = 64  # node reads of one bisection and look back, against one node swept past
LOOK_BACK = 16
JUMP_BYTES = 16384  # a sweep this far behind the place asked about jumps there (`Sweep._jump`)


class Sweep:
    """The nodes of a bucket around places asked about in increasing order (`around`): one pass
    over the bucket with a stack of the nodes open there, no parent climbs (`node.parent` costs
    O(depth) in tree-sitter, and more with many siblings). A place before the last one asked
    starts the pass over. A node is around a place when it starts at or before it and ends after."""

    def __init__(self, nodes: list[Node], indices: list[int], root: Node | None = None) -> None:
        self._nodes = nodes
        self._indices = indices
        self._root = root  # the tree's root: its children bound the nodes around a place
        self._reached: list[int] | None = None
        self._reset()

    def _reset(self) -> None:
        self._next = 0
        self._pending = -1  # start byte of the next node once read (it lies past the last place)
        self._open: list[tuple[int, int, int]] = []  # (end, start, index), each inside the one below
        self._last = -1

    def _advance(self, pos: int) -> list[tuple[int, int, int]]:
        if pos < self._last:
            self._reset()
        self._last = pos
        nodes, indices = self._nodes, self._indices
        k, count, start = self._next, len(indices), self._pending
        far = k < count and pos - (start if start >= 0 else nodes[indices[k]].start_byte) > JUMP_BYTES
        if far and self._jump(pos):
            return self._open
        stack = self._open
        while k < count:
            if start < 0:
                start = nodes[indices[k]].start_byte
            if start > pos:
                break
            while stack and stack[-1][0] <= start:
                stack.pop()
            i = indices[k]
            stack.append((nodes[i].end_byte, start, i))
            k += 1
            start = -1
        self._next, self._pending = k, start
        while stack and stack[-1][0] <= pos:
            stack.pop()
        return stack

    def _jump(self, pos: int) -> bool:
        """Set the sweep at `pos` by bisection, not node by node: the nodes around it lie in the
        root's child around it (a top-level statement), found within LOOK_BACK nodes back."""
        if self._root is None:
            return False
        nodes, indices = self._nodes, self._indices
        k = bisect_right(indices, pos, key=lambda i: nodes[i].start_byte)  # the nodes starting by pos
        first = self._top_start(pos)
        found = []
        j = k - 1
        while j >= 0 and (n := nodes[indices[j]]).start_byte >= first:
            if k - j > LOOK_BACK:
                return False
            if n.end_byte > pos:
                found.append((n.end_byte, n.start_byte, indices[j]))
            j -= 1
        found.reverse()
        self._open, self._next, self._pending = found, k, -1
        return True

    def _top_start(self, pos: int) -> int:
        """Where the root's child around `pos` starts (past `pos` when none is): no node that
        starts before it reaches `pos`. Asked of the tree (the root holds its children's ends)."""
        top = self._root.first_child_for_byte(pos) if self._root is not None else None
        return top.start_byte if top is not None and top.start_byte <= pos else pos + 1

    def around(self, pos: int) -> list[int]:
        """Indices of the nodes around `pos`, outermost first."""
        return [i for _, _, i in self._advance(pos)]

    def innermost(self, pos: int) -> int | None:
        stack = self._advance(pos)
        return stack[-1][2] if stack else None

    def innermost_of(self, positions: list[int]) -> tuple[list[int], list[int], list[int]]:
        """For increasing `positions`: the innermost node around each (-1: none), its start and
        its end byte. Few places among many nodes are each looked up (`_looked_up`) rather than
        swept to: a single place at the end of a file would pass every node."""
        found: list[int] = []
        found_starts: list[int] = []
        found_ends: list[int] = []
        sparse = len(positions) * LOOKUP_COST < len(self._indices)
        advance, look_up = self._advance, self._looked_up
        for pos in positions:
            end, begin, i = look_up(pos) if sparse else (-2, -2, -2)
            if i == -2:  # not settled by a short look back: sweep to it
                stack = advance(pos)
                end, begin, i = stack[-1] if stack else (-1, -1, -1)
            found.append(i)
            found_starts.append(begin)
            found_ends.append(end)
        return found, found_starts, found_ends

    def _looked_up(self, pos: int) -> tuple[int, int, int]:
        """(end, start, index) of the innermost node around `pos`: the last node starting at or
        before it that ends after it (nodes nest), found by bisection and a look back over at most
        LOOK_BACK nodes, the rest ruled out by starting before the root's child around it, or by
        the furthest end before them (`_reach`); (-1, -1, -1): none; (-2, -2, -2): not settled so."""
        nodes, indices = self._nodes, self._indices
        k = bisect_right(indices, pos, key=lambda i: nodes[i].start_byte) - 1
        for j in range(k, max(k - LOOK_BACK, -1), -1):
            n = nodes[indices[j]]
            if n.end_byte > pos:
                return n.end_byte, n.start_byte, indices[j]
        if k < LOOK_BACK or (
            self._root is not None and nodes[indices[k - LOOK_BACK]].start_byte < self._top_start(pos)
        ):
            return -1, -1, -1
        if self._reach()[k - LOOK_BACK] <= pos:
            return -1, -1, -1
        return -2, -2, -2

    def _reach(self) -> list[int]:
        """Per node of the bucket, the furthest end byte of it and the nodes before it."""
        if self._reached is None:
            nodes = self._nodes
            self._reached = list(accumulate((nodes[i].end_byte for i in self._indices), max))
        return self._reached
