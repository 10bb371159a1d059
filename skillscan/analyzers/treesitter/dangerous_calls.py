"""Dangerous tool usage whose argv shape decides the risk: shell strings and code built at run time.

Node checks (registered by language and node type): a constant command is reviewable in the
skill itself; a command or code string assembled at run time is not, and whatever reaches it is
interpreted by a shell or the language itself. Import aliases (`import subprocess as sp`,
`from os import system`) and call names built from strings (`getattr(os, 'sys' + 'tem')`) are
followed. JavaScript's child_process: `child_process_calls.py`.

Each check reads the file's text first (`begin`): only the calls that can be flagged are handed
to it (`call_sites.call_starts`), each distinct call text is judged once and hits past a
report's worth are counted, not built (`node_pass.CallPass`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Generic, TypeVar

from tree_sitter import Node

from skillscan.analyzers.treesitter.call_sites import (
    CONSTANT_FIRST,
    MAX_START_WORDS,
    NOT_CALLED,
    call_starts,
    word_starts,
)
from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.node_pass import CallPass
from skillscan.analyzers.treesitter.parsing import byte_spans, node_text
from skillscan.analyzers.treesitter.registry import FileContext, Hit
from skillscan.analyzers.treesitter.syntax_walk import Innermost, shared_walk
from skillscan.models import FileKind

T = TypeVar("T")
_SUBPROCESS = frozenset(
    {"run", "call", "Popen", "check_output", "check_call", "getoutput", "getstatusoutput"}
)
_ALWAYS_SHELL = frozenset({"getoutput", "getstatusoutput"})
_OS_SHELL = frozenset({"system", "popen"})
_CODE_EXEC = frozenset({"exec", "eval", "compile"})


def _args(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    return [a for a in args.named_children if a.type != "comment"] if args is not None else []


def _keyword(call: Node, name: str) -> Node | None:
    for a in _args(call):
        if a.type == "keyword_argument" and node_text(a.child_by_field_name("name") or a) == name:
            return a.child_by_field_name("value")
    return None


def _first_positional(call: Node) -> Node | None:
    return next(
        (a for a in _args(call) if a.type not in ("keyword_argument", "dictionary_splat", "list_splat")), None
    )


_EVIDENCE_BYTES = 2000  # the report keeps 200 characters of evidence


def call_evidence(node: Node, source: str) -> str:
    """The start of a call's text. These checks hit every matching node (the engine caps what is
    listed), so a nested `exec(exec(exec(…)))` must not copy each call's whole text: slice an
    ASCII file in place (offsets are characters), else join the first tokens."""
    start, end = node.start_byte, node.end_byte
    if end - start <= _EVIDENCE_BYTES:
        return node_text(node)
    if source.isascii():
        return source[start : start + _EVIDENCE_BYTES]
    parts: list[str] = []
    cursor, size, last_end = node.walk(), 0, start
    while size < _EVIDENCE_BYTES:
        leaf = cursor.node
        if leaf is None:
            break
        if leaf.child_count == 0:
            text = node_text(leaf)[:_EVIDENCE_BYTES]
            parts.append((" " if leaf.start_byte > last_end else "") + text)
            size, last_end = size + len(text) + 1, leaf.end_byte
        elif cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return "".join(parts)
    return "".join(parts)


def _is_dynamic(node: Node | None) -> bool:
    return node is not None and resolve(node) is None


def truthy(node: Node | None) -> bool:
    return node is not None and node_text(node) not in ("False", "0", "None", "false", "null", "undefined")


class LastText(Generic[T]):
    """`fn(text)` remembered for the last text object only: the dispatcher hands a check one
    file's nodes in a row, so the text is never hashed and no earlier file is kept alive."""

    def __init__(self, fn: Callable[[str], T]) -> None:
        self._fn = fn
        self._last: tuple[str, T] | None = None

    def __call__(self, text: str) -> T:
        last = self._last  # one read of a tuple: safe if two threads scan at once
        if last is not None and last[0] is text:
            return last[1]
        value = self._fn(text)
        self._last = (text, value)
        return value


@LastText
def _python_aliases(source: str) -> dict[str, str]:
    """Local name → qualified name, from import statements (`sp` → `subprocess`, `system` → `os.system`)."""
    out: dict[str, str] = {}
    for mod, alias in re.findall(r"^\s*import\s+(subprocess|os)\s+as\s+(\w+)", source, re.M):
        out[alias] = mod
    for mod, names in re.findall(r"^\s*from\s+(subprocess|os)\s+import\s+\(?([\w\s,]+)", source, re.M):
        for part in names.split(","):
            bits = part.split()
            if bits:
                out[bits[-1]] = f"{mod}.{bits[0]}"
    return out


def _python_callee(func: Node, source: str) -> str:
    """The qualified name a call resolves to, as far as the source shows."""
    if func.type == "call":  # getattr(os, 'sys' + 'tem')(...) / __import__('os').system
        inner = func.child_by_field_name("function")
        args = _args(func)
        if inner is not None and node_text(inner) == "getattr" and len(args) == 2:
            attr_name = resolve(args[1])
            if attr_name is not None:
                return f"{_python_callee(args[0], source)}.{attr_name}"
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
            args = _args(obj)
            if inner is not None and node_text(inner) == "__import__" and args:
                mod = resolve(args[0])
                return f"{mod}.{node_text(attr)}" if mod else ""
            return ""
        return f"{_python_callee(obj, source)}.{node_text(attr)}"
    name = node_text(func)
    return _python_aliases(source).get(name, name)


def _may_be(func: Node, source: str, leaves: frozenset[str]) -> bool:
    """Whether `_python_callee(func)` can end in one of `leaves`: an attribute's own name, an
    imported alias, or a name built by `getattr(…)` (resolved later). Spares resolving the
    callee of every other call."""
    if func.type == "attribute":
        attr = func.child_by_field_name("attribute")
        return attr is not None and node_text(attr) in leaves
    if func.type == "identifier":
        name = node_text(func)
        return name in leaves or _python_aliases(source).get(name, "").rpartition(".")[2] in leaves
    return func.type == "call"


_SHELL_LEAVES = _SUBPROCESS | _OS_SHELL


def sink_starts(
    ctx: FileContext,
    types: frozenset[str],
    ending: Iterable[str],
    starting: Iterable[str],
    getattr_too: bool = True,
) -> list[int] | None:
    """Where the calls a check can flag start (`call_sites.call_starts`): their callee ends with
    one of `ending`, called with anything but one plain string; with `getattr_too`, also any
    call starting with `getattr` (`getattr(os, 'sys' + 'tem')(cmd)`: its callee is a call)."""
    walk, tree = shared_walk(ctx), ctx.tree
    if walk is None or tree is None:
        return None
    calls = len(walk.select(types))
    starting = {*starting, "getattr"} if getattr_too else starting
    starts = call_starts(
        ctx.source, tree.root_node, calls, types, ending, starting, NOT_CALLED + CONSTANT_FIRST
    )
    if starts is None or not getattr_too:
        return starts
    built = word_starts(ctx.source, {"getattr"}, limit=calls)
    if built is None:
        return None
    return sorted({*starts, *built}) if built else starts


class PythonShellCommand:
    """subprocess with shell=True (or getoutput) and os.system/os.popen on a non-constant command."""

    languages = frozenset({FileKind.PYTHON})
    node_types = frozenset({"call"})
    # A shell is used by name (getoutput, os.system, os.popen), with a `shell=` keyword, or through
    # a name built by getattr(os, 'sys' + 'tem'): one of these is in every file this check can flag
    # (`__import__('o' + 's').system` still names `system`; imports and aliases name theirs).
    needles = ("shell", "getoutput", "getstatusoutput", "system", "popen", "getattr")

    def visit(self, node: Node, ctx: FileContext) -> Iterator[Hit]:
        if self._judge(node, ctx.source)[0]:
            yield Hit(
                "python-shell-command-dynamic", node.start_point[0] + 1, call_evidence(node, ctx.source)
            )

    def begin(self, ctx: FileContext) -> CallPass:
        # A call resolving to os.* or subprocess.* ends with the function's name or an imported
        # alias (`from os import system as s`), or starts with the getattr that builds the name.
        aliases = _python_aliases(ctx.source)
        starts = None
        if len(aliases) <= MAX_START_WORDS:  # else every call is read
            starts = sink_starts(
                ctx,
                self.node_types,
                _SHELL_LEAVES | aliases.keys(),
                {"subprocess", "os", "__import__", *aliases},
            )
        return CallPass(
            ctx, partial(self._judge, source=ctx.source), partial(call_evidence, source=ctx.source), starts
        )

    def _judge(self, node: Node, source: str) -> tuple[str | None, bool]:
        func = node.child_by_field_name("function")
        if func is None or not _may_be(func, source, _SHELL_LEAVES):
            return None, True
        name = _python_callee(func, source)
        module, _, leaf = name.rpartition(".")
        if module == "subprocess" and leaf in _SUBPROCESS:
            uses_shell = leaf in _ALWAYS_SHELL or truthy(_keyword(node, "shell"))
        else:
            uses_shell = module == "os" and leaf in _OS_SHELL
        if uses_shell and _is_dynamic(_first_positional(node)):
            return "python-shell-command-dynamic", True
        return None, True


# Where hidden code comes from: decoders and fetchers. A value built from one of these and then
# executed is a stager, not a plugin loader.
_CODE_SOURCE = re.compile(
    r"\b(?:b64decode|b32decode|b85decode|a85decode|urlsafe_b64decode|decodebytes|fromhex|unhexlify"
    r"|decompress|marshal\.loads|pickle\.loads|codecs\.decode|urlopen|urlretrieve"
    r"|(?:requests|httpx|session)\.(?:get|post|request)|\.(?:content|text)\b)"
)
_MAX_SCOPE_CHARS = 200_000
_SHORT_ARGUMENT = 2000


_ASSIGNMENT = re.compile(r"(?m)^[ \t]*(\w+)\s*(?::[^=\n]{0,80})?=(?!=)([^\n]{0,400})")


def _enclosing_scope(call: Node, ctx: FileContext) -> Node:
    """The innermost function around a call, else the module (from the shared walk, in one sweep
    per file: climbing `node.parent` costs O(depth) per step)."""
    functions: Innermost | None = ctx.shared.get(__name__)
    walk = shared_walk(ctx) if functions is None else None
    if walk is not None:
        functions = ctx.shared[__name__] = Innermost(walk, frozenset({"function_definition"}))
    found = functions.at(call.start_byte) if functions is not None else None
    tree = ctx.tree
    return found if found is not None else tree.root_node if tree is not None else call


@LastText  # one pass over a file, not one per exec
def _code_assignments(source: str) -> dict[str, list[int]]:
    """Name -> byte offsets of the lines assigning it a decoded or fetched value (`code =
    base64.b64decode(blob)`), in order."""
    out: dict[str, list[int]] = {}
    found = [m for m in _ASSIGNMENT.finditer(source) if _CODE_SOURCE.search(m.group(2))]
    for m, (start, _) in zip(found, byte_spans(source, found), strict=True):
        out.setdefault(m.group(1), []).append(start)
    return out


@LastText  # one pass over a file, not a search of each argument's text
def _code_sources(source: str) -> tuple[list[int], list[int]]:
    """Byte spans of the `_CODE_SOURCE` words of a file, in order."""
    spans = list(byte_spans(source, _CODE_SOURCE.finditer(source)))
    return [a for a, _ in spans], [b for _, b in spans]


def _mentions_code_source(arg: Node, source: str) -> bool:
    """A decoder or fetch word inside the argument: searched in a short argument's text, else found
    by position among the file's matches (searching each argument's text costs quadratic time on
    `exec(exec(exec(…)))`). The same either way: no match crosses an argument's edge (a
    `(`, `,` or space)."""
    if arg.end_byte - arg.start_byte <= _SHORT_ARGUMENT:
        return _CODE_SOURCE.search(node_text(arg)) is not None
    starts, ends = _code_sources(source)
    k = bisect_left(starts, arg.start_byte)
    return k < len(starts) and ends[k] <= arg.end_byte


def _from_decoder_or_fetch(call: Node, arg: Node, ctx: FileContext) -> tuple[bool, bool]:
    """Whether the executed value is decoded/fetched in the call itself, or one assignment away in
    the same function (`code = base64.b64decode(blob)` … `exec(code)`); and whether the call's
    text alone says so (not where the answer depends on the function around it)."""
    source = ctx.source
    if _mentions_code_source(arg, source):
        return True, True
    if arg.type != "identifier":
        return False, True
    lines = _code_assignments(source).get(node_text(arg))
    if not lines:
        return False, True
    scope = _enclosing_scope(call, ctx)
    start = scope.start_byte
    end = min(scope.end_byte, start + _MAX_SCOPE_CHARS)
    k = bisect_left(lines, start)
    return k < len(lines) and lines[k] < end, False


class PythonDynamicExec:
    """exec/eval/compile of a value computed at run time; a decoded or downloaded one is graver."""

    languages = frozenset({FileKind.PYTHON})
    node_types = frozenset({"call"})
    needles = ("exec", "eval", "compile", "getattr", "builtins")

    def visit(self, node: Node, ctx: FileContext) -> Iterator[Hit]:
        rule, _ = self._judge(node, ctx)
        if rule is not None:
            yield Hit(rule, node.start_point[0] + 1, call_evidence(node, ctx.source))

    def begin(self, ctx: FileContext) -> CallPass:
        # A call of exec/eval/compile ends with that name (`exec(…)`, `builtins.exec(…)`,
        # `__import__('builtins').exec(…)`), or starts with the getattr that reaches it; aliases of
        # os and subprocess never name these.
        starts = sink_starts(
            ctx, self.node_types, _CODE_EXEC, {"exec", "eval", "compile", "builtins", "__import__"}
        )
        return CallPass(ctx, partial(self._judge, ctx=ctx), partial(call_evidence, source=ctx.source), starts)

    def _judge(self, node: Node, ctx: FileContext) -> tuple[str | None, bool]:
        func = node.child_by_field_name("function")
        if func is None or not _may_be(func, ctx.source, _CODE_EXEC):
            return None, True
        name = _python_callee(func, ctx.source)
        arg = _first_positional(node)
        if name.removeprefix("builtins.") not in _CODE_EXEC or arg is None or not _is_dynamic(arg):
            return None, True
        if arg.type == "call" and node_text(arg.child_by_field_name("function") or arg) == "compile":
            return None, True  # exec(compile(src, ...)): the inner compile call is judged on its own
        decoded, fixed = _from_decoder_or_fetch(node, arg, ctx)
        return ("python-decoded-code-exec" if decoded else "python-dynamic-code-exec"), fixed


CHECKS = [PythonShellCommand(), PythonDynamicExec()]
