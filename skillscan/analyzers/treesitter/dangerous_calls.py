"""Dangerous tool usage whose argv shape decides the risk: shell strings and code built at run time.

Node checks (registered by language and node type): a constant command is reviewable in the
skill itself; a command or code string assembled at run time is not, and whatever reaches it is
interpreted by a shell or the language itself. Import aliases (`import subprocess as sp`,
`from os import system`) and call names built from strings (`getattr(os, 'sys' + 'tem')`) are
followed. JavaScript's child_process: `child_process_calls.py`.

Each check reads the file's text first (`begin`): only the calls that can be flagged are handed
to it (`call_sites.call_starts`), each distinct call text is judged once and hits past a
report's worth are counted, not built (`node_pass.CallPass`). A flood of distinct calls is judged
call by call (each judgement reads the call once: `python_calls.PythonCalls`), but for calls that
differ only in a part the judgement cannot read (`python_call_shapes`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from functools import partial

from tree_sitter import Node

from skillscan.analyzers.treesitter.call_sites import (
    CONSTANT_FIRST,
    MAX_START_WORDS,
    NOT_CALLED,
    call_starts,
    word_starts,
)
from skillscan.analyzers.treesitter.constants import builds_constant, resolve
from skillscan.analyzers.treesitter.node_pass import CallPass
from skillscan.analyzers.treesitter.parsing import LastText, byte_spans, node_text
from skillscan.analyzers.treesitter.python_call_shapes import exec_shape, shell_shape
from skillscan.analyzers.treesitter.python_calls import PythonCalls, file_calls, python_aliases
from skillscan.analyzers.treesitter.registry import FileContext, Hit
from skillscan.analyzers.treesitter.syntax_walk import Innermost, shared_walk
from skillscan.models import FileKind

_SUBPROCESS = frozenset(
    {"run", "call", "Popen", "check_output", "check_call", "getoutput", "getstatusoutput"}
)
_ALWAYS_SHELL = frozenset({"getoutput", "getstatusoutput"})
_OS_SHELL = frozenset({"system", "popen"})
_CODE_EXEC = frozenset({"exec", "eval", "compile"})


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


def truthy(node: Node | None, text: Callable[[Node], str] = node_text) -> bool:
    return node is not None and text(node) not in ("False", "0", "None", "false", "null", "undefined")


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
        if self._judge(node, file_calls(ctx, _SHELL_LEAVES))[0]:
            yield Hit(
                "python-shell-command-dynamic", node.start_point[0] + 1, call_evidence(node, ctx.source)
            )

    def begin(self, ctx: FileContext) -> CallPass:
        # A call resolving to os.* or subprocess.* ends with the function's name or an imported
        # alias (`from os import system as s`), or starts with the getattr that builds the name.
        aliases = python_aliases(ctx.source)
        starts = None
        if len(aliases) <= MAX_START_WORDS:  # else every call is read
            starts = sink_starts(
                ctx,
                self.node_types,
                _SHELL_LEAVES | aliases.keys(),
                {"subprocess", "os", "__import__", *aliases},
            )
        calls = file_calls(ctx, _SHELL_LEAVES)
        return CallPass(
            ctx,
            partial(self._judge, calls=calls),
            partial(call_evidence, source=ctx.source),
            starts,
            shell_shape(),  # what it remembers is the file's
        )

    def _judge(self, node: Node, calls: PythonCalls) -> tuple[str | None, bool]:
        func = node.child_by_field_name("function")
        if func is None:
            return None, True
        module, _, leaf = calls.callee(func).rpartition(".")
        if module == "subprocess" and leaf in _SUBPROCESS:
            always = leaf in _ALWAYS_SHELL
            command, shell = calls.arguments(node, None if always else "shell")
            uses_shell = always or truthy(shell, calls.text)
        elif module == "os" and leaf in _OS_SHELL:
            command, uses_shell = calls.arguments(node)[0], True
        else:
            return None, True
        if uses_shell and _is_dynamic(command):
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


def _mentions_code_source(arg: Node, calls: PythonCalls) -> bool:
    """A decoder or fetch word inside the argument: searched in a short argument's text, else found
    by position among the file's matches (searching each argument's text costs quadratic time on
    `exec(exec(exec(…)))`). The same either way: no match crosses an argument's edge (a
    `(`, `,` or space)."""
    if arg.end_byte - arg.start_byte <= _SHORT_ARGUMENT:
        return _CODE_SOURCE.search(calls.text(arg)) is not None
    starts, ends = _code_sources(calls.source)
    k = bisect_left(starts, arg.start_byte)
    return k < len(starts) and ends[k] <= arg.end_byte


def _from_decoder_or_fetch(call: Node, arg: Node, ctx: FileContext, calls: PythonCalls) -> tuple[bool, bool]:
    """Whether the executed value is decoded/fetched in the call itself, or one assignment away in
    the same function (`code = base64.b64decode(blob)` … `exec(code)`); and whether the call's
    text alone says so (not where the answer depends on the function around it)."""
    if _mentions_code_source(arg, calls):
        return True, True
    if arg.type != "identifier":
        return False, True
    lines = _code_assignments(ctx.source).get(calls.text(arg))
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
        rule, _ = self._judge(node, ctx, file_calls(ctx, _CODE_EXEC))
        if rule is not None:
            yield Hit(rule, node.start_point[0] + 1, call_evidence(node, ctx.source))

    def begin(self, ctx: FileContext) -> CallPass:
        # A call of exec/eval/compile ends with that name (`exec(…)`, `builtins.exec(…)`,
        # `__import__('builtins').exec(…)`), or starts with the getattr that reaches it; aliases of
        # os and subprocess never name these. A bare `exec(…)` starts where its name does, so only
        # the first names of the longer callees are searched for.
        starts = sink_starts(ctx, self.node_types, _CODE_EXEC, {"builtins", "__import__"})
        judge = partial(self._judge, ctx=ctx, calls=file_calls(ctx, _CODE_EXEC))
        shape = exec_shape(_CODE_SOURCE)  # what it remembers is the file's
        return CallPass(ctx, judge, partial(call_evidence, source=ctx.source), starts, shape)

    def _judge(self, node: Node, ctx: FileContext, calls: PythonCalls) -> tuple[str | None, bool]:
        func = node.child_by_field_name("function")
        if func is None or calls.callee(func).removeprefix("builtins.") not in _CODE_EXEC:
            return None, True
        arg = calls.arguments(node)[0]
        if arg is None:
            return None, True
        if arg.type == "call":  # its callee says whether it can be constant (`resolve`)
            inner = arg.child_by_field_name("function")
            called = calls.text(inner) if inner is not None else ""
            if called == "compile":  # exec(compile(src, ...)): the inner compile call is judged on its own
                return None, True
            if builds_constant(called.replace(" ", "")) and resolve(arg) is not None:
                return None, True
        elif resolve(arg) is not None:
            return None, True
        decoded, fixed = _from_decoder_or_fetch(node, arg, ctx, calls)
        return ("python-decoded-code-exec" if decoded else "python-dynamic-code-exec"), fixed


CHECKS = [PythonShellCommand(), PythonDynamicExec()]
