"""Which function a Python call names, and its arguments, read for a flood of calls at a time.

A check that judges every call of a 1 MB file of distinct calls pays for each tree read (a node
object each), so a call is read once, in one pass over its arguments, and what the file fixes for
all its calls is worked out once: the import aliases, and the name each distinct callee text
resolves to (`PythonCalls`).
"""

from __future__ import annotations

import re

from tree_sitter import Node

from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.flow_model import MAX_CALLEE_BYTES, call_args
from skillscan.analyzers.treesitter.parsing import LastText, node_text
from skillscan.analyzers.treesitter.registry import FileContext

_NOT_POSITIONAL = frozenset({"keyword_argument", "dictionary_splat", "list_splat", "comment"})


@LastText
def python_aliases(source: str) -> dict[str, str]:
    """Local name → qualified name, from import statements (`sp` → `subprocess`, `system` → `os.system`)."""
    out: dict[str, str] = {}
    for mod, alias in re.findall(r"^\s*import\s+(subprocess|os)\s+as\s+(\w+)", source, re.M):
        out[alias] = mod
    for mod, grouped, names in _FROM_IMPORT.findall(source):
        for part in (grouped or names).split(","):
            bits = part.split()
            if bits:
                out[bits[-1]] = f"{mod}.{bits[0]}"
    return out


# `from os import a, b as c` to the line's end, or `from os import (…)` over lines: the names
# imported stop there (`[\w\s,]+` ran on into the next statements: `import subprocess` after
# `from os import system as sh` made `subprocess` an alias of os.system)
_FROM_IMPORT = re.compile(
    r"^[ \t]*from[ \t]+(subprocess|os)[ \t]+import[ \t]*(?:\(([\w\s,]*)\)|([\w \t,]+))", re.M
)


def python_callee(func: Node, source: str) -> str:
    """The qualified name a call resolves to, as far as the source shows."""
    if func.type == "call":  # getattr(os, 'sys' + 'tem')(...) / __import__('os').system
        inner = func.child_by_field_name("function")
        args = call_args(func)
        if inner is not None and node_text(inner) == "getattr" and len(args) == 2:
            attr_name = resolve(args[1])
            if attr_name is not None:
                return f"{python_callee(args[0], source)}.{attr_name}"
        return ""
    if func.type not in ("identifier", "attribute"):
        return ""
    if func.type == "attribute":
        obj = func.child_by_field_name("object")
        attr = func.child_by_field_name("attribute")
        if obj is None or attr is None:
            return ""
        if obj.type == "call":  # __import__('os').system
            inner = obj.child_by_field_name("function")
            args = call_args(obj)
            if inner is not None and node_text(inner) == "__import__" and args:
                mod = resolve(args[0])
                return f"{mod}.{node_text(attr)}" if mod else ""
            return ""
        return f"{python_callee(obj, source)}.{node_text(attr)}"
    name = node_text(func)
    return python_aliases(source).get(name, name)


def may_be(func: Node, source: str, leaves: frozenset[str]) -> bool:
    """Whether `python_callee(func)` can end in one of `leaves`: an attribute's own name, an
    imported alias, or a name built by `getattr(…)` (resolved later). Spares resolving the
    callee of every other call."""
    if func.type == "attribute":
        attr = func.child_by_field_name("attribute")
        return attr is not None and node_text(attr) in leaves
    if func.type == "identifier":
        name = node_text(func)
        return name in leaves or python_aliases(source).get(name, "").rpartition(".")[2] in leaves
    return func.type == "call"


class PythonCalls:
    """One file's calls as a check reads them: `callee` is the name a callee resolves to
    (`python_callee`), or "" for one that cannot end in one of `leaves` (`may_be`), remembered by
    the callee's text (a flood of distinct calls repeats a few callees, and the name depends on the
    text and the file's imports only); `text` slices an ASCII file in place."""

    MAX = 10_000  # callee texts remembered

    def __init__(self, source: str, leaves: frozenset[str]) -> None:
        self.source, self._leaves, self._ascii = source, leaves, source.isascii()
        self._names: dict[str, str] = {}

    def text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte] if self._ascii else node_text(node)

    def callee(self, func: Node) -> str:
        # a long or broken callee is resolved each time, not copied to be a key
        if func.end_byte - func.start_byte > MAX_CALLEE_BYTES or func.has_error:
            return self._resolve(func)
        key = self.text(func)
        name = self._names.get(key)
        if name is None:
            name = self._resolve(func)
            if len(self._names) < self.MAX:
                self._names[key] = name
        return name

    def arguments(self, call: Node, keyword: str | None = None) -> tuple[Node | None, Node | None]:
        """The first positional argument, and the value of the first `keyword=` argument (if
        asked), in one pass over the arguments."""
        args = call.child_by_field_name("arguments")
        if args is None:
            return None, None
        if keyword is None:  # the usual call: its first argument is positional
            if not args.named_child_count:
                return None, None
            head = args.named_child(0)
            if head is not None and head.type not in _NOT_POSITIONAL:
                return head, None
        first: Node | None = None
        value: Node | None = None
        for a in args.named_children:
            t = a.type
            if t == "keyword_argument":
                if keyword is not None and self.text(a.child_by_field_name("name") or a) == keyword:
                    value, keyword = a.child_by_field_name("value"), None
            elif first is None and t not in _NOT_POSITIONAL:
                first = a
            if first is not None and keyword is None:
                break
        return first, value

    def _resolve(self, func: Node) -> str:
        return python_callee(func, self.source) if may_be(func, self.source, self._leaves) else ""


def file_calls(ctx: FileContext, leaves: frozenset[str]) -> PythonCalls:
    """The file's `PythonCalls` for these leaves, made once per file: a check's `visit` of each
    node and its `begin` share it (and the callee names it remembers)."""
    made: dict[frozenset[str], PythonCalls] = ctx.shared.setdefault(__name__, {})
    found = made.get(leaves)
    if found is None:
        found = made[leaves] = PythonCalls(ctx.source, leaves)
    return found
