"""Resource abuse in Python and JavaScript/TypeScript: loops that can never end or yield, and
allocations sized to exhaust memory.

- `while True:` / `while (true)` / `for (;;)` whose body has no way out (break, return, raise,
  exit, an enclosing try) and never waits (sleep, await, yield, blocking reads, input): a CPU
  busy-loop that pins the agent's machine;
- a literal allocation of tens of millions of elements (`[x] * 10000000`, `"a" * 10**8`,
  `bytearray(10**9)`, `new Array(1e8)`): a memory bomb.

A daemon that polls with a sleep or blocks on a socket is not flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice

from tree_sitter import Node

from skillscan.analyzers.treesitter.parsing import node_text
from skillscan.analyzers.treesitter.registry import FileContext, Hit
from skillscan.analyzers.treesitter.syntax_walk import shared_walk
from skillscan.models import FileKind

MAX_HITS_PER_RULE = 5
BOMB_ELEMENTS = 10_000_000
_ALWAYS = re.compile(r"^\(?\s{0,3}(?:True|true|1|!0)\s{0,3}\)?$")
# A way out of the loop, or a call that waits (so the loop is paced, not spinning).
_EXIT_OR_WAIT = re.compile(
    r"\b(?:break|return|raise|throw|yield|await|exit|quit|sleep|wait|wait_for|input|recv|recvfrom|accept|"
    r"select|poll|join|get|read|readline|readLine|next|pause|setTimeout|setInterval|Atomics|sys\.exit|"
    r"process\.exit|os\._exit|time\.sleep|asyncio)\b"
)
_LOOPS = frozenset({"while_statement", "for_statement"})
_FUNCTIONS = frozenset({"function_definition", "function_declaration", "method_definition"})
_BOMBS = frozenset({"binary_operator", "binary_expression", "call", "new_expression", "call_expression"})
# A file can only hold a finding when it has a loop that can be endless (`while`, `for (;;)`), or
# a count of ten million or more (8+ digits, a power, an exponent).
# (separate searches: an alternation would defeat the regex engine's fast scans, 5x slower)
_EMPTY_FOR = re.compile(r";\s*;")
_LONG_NUMBER = re.compile(r"[0-9][0-9_]{7}")
_EXPONENT = re.compile(r"[0-9][eE][0-9]")


def _may_loop(text: str) -> bool:
    return "while" in text or bool(_EMPTY_FOR.search(text))


def _may_bomb(text: str) -> bool:
    return "**" in text or bool(_LONG_NUMBER.search(text)) or bool(_EXPONENT.search(text))


_NUMBER = re.compile(r"^\d[\d_]{0,20}$|^\d{1,3}\s{0,2}\*\*\s{0,2}\d{1,2}$|^\d(?:\.\d{1,6})?e\d{1,2}$", re.I)


def _number(text: str) -> int | None:
    t = text.strip().replace("_", "")
    if not _NUMBER.match(t):
        return None
    try:
        if "**" in t:
            base, exp = t.split("**", 1)
            return int(base) ** int(exp)
        return int(float(t)) if "e" in t.lower() else int(t)
    except (ValueError, OverflowError):
        return None


def _infinite(loop: Node) -> bool:
    if loop.type == "while_statement":
        cond = loop.child_by_field_name("condition")
        # `(True)` and the like are short: never copy a long condition's text to compare it
        return (
            cond is not None
            and cond.end_byte - cond.start_byte <= 12
            and bool(_ALWAYS.match(node_text(cond)))
        )
    # JS `for (;;)`: no condition, which the grammar gives as an empty statement. (A Python `for`
    # has no initializer: it ends with its iterable.)
    if loop.type != "for_statement" or loop.child_by_field_name("initializer") is None:
        return False
    cond = loop.child_by_field_name("condition")
    return cond is None or cond.type == "empty_statement"


def _in_try(loop: Node) -> bool:
    """A `try` at most six levels up and no function in between: `try: while True: it.seek(n) …
    except EOFError:` ends by exception, a normal idiom. Asked only of endless, busy loops (six
    parent steps each; the shared walk bounds the depth such a step pays for)."""
    node: Node | None = loop
    for _ in range(6):
        node = node.parent if node is not None else None
        if node is None or node.type in _FUNCTIONS:
            return False
        if node.type == "try_statement":
            return True
    return False


def _busy(loop: Node) -> bool:
    body = loop.child_by_field_name("body")
    if body is None or body.end_byte - body.start_byte > 20_000:
        return False  # a long body does real work; judge only small spinning loops
    return not _EXIT_OR_WAIT.search(node_text(body))


def _bomb(node: Node) -> int | None:
    """Elements a literal allocation asks for (`[x] * N`, `"s" * N`, `bytearray(N)`, `Array(N)`)."""
    if node.type in {"binary_operator", "binary_expression"}:
        op = node.child_by_field_name("operator")
        if op is None or node_text(op) != "*":
            return None
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None:
            return None
        for seq, count in ((left, right), (right, left)):
            if seq.type in {"list", "string", "array"}:
                # a count is a short literal: never copy a long operand's text to find out
                return _number(node_text(count)) if count.end_byte - count.start_byte <= 64 else None
        return None
    if node.type in {"call", "new_expression", "call_expression"}:
        func = node.child_by_field_name("function") or node.child_by_field_name("constructor")
        args = node.child_by_field_name("arguments")
        if (
            func is None
            or args is None
            or func.end_byte - func.start_byte > 12
            or node_text(func) not in {"bytearray", "bytes", "Array", "Buffer.alloc"}
        ):
            return None
        first = next((a for a in args.named_children if a.type != "comment"), None)
        return _number(node_text(first)) if first is not None else None
    return None


class ResourceAbuse:
    """File check: busy loops without a way out and literal memory bombs."""

    languages = frozenset({FileKind.PYTHON, FileKind.JAVASCRIPT, FileKind.TYPESCRIPT})

    def check(self, ctx: FileContext) -> Iterator[Hit]:
        tree = ctx.tree
        endless, bombs = _may_loop(ctx.source), _may_bomb(ctx.source)
        if tree is None or not (endless or bombs):
            return
        walk = shared_walk(ctx)
        if walk is None:
            return
        if endless:
            loops = (walk.nodes[i] for i in walk.select(_LOOPS))
            busy = (n for n in loops if _infinite(n) and _busy(n) and not _in_try(n))
            for n in islice(busy, MAX_HITS_PER_RULE):
                msg = "Endless loop with no exit and no wait: pins a CPU"
                yield Hit("unbounded-busy-loop", n.start_point[0] + 1, node_text(n)[:200], msg)
        if bombs:
            sized = (
                (n, size)
                for n in (walk.nodes[i] for i in walk.select(_BOMBS))
                if (size := _bomb(n)) is not None and size >= BOMB_ELEMENTS
            )
            for n, size in islice(sized, MAX_HITS_PER_RULE):
                msg = f"Allocates {size:,} elements at once: exhausts memory"
                yield Hit("memory-bomb", n.start_point[0] + 1, node_text(n)[:200], msg)


CHECKS = [ResourceAbuse()]
