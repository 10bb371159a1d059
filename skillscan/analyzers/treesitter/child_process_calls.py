"""child_process in JavaScript/TypeScript: a shell command string built at run time.

A node check (dangerous_calls.py has the Python ones): exec/execSync always run a shell,
spawn/execFile only with `shell: true`; a constant command is reviewable, one assembled at run
time is not. Module objects (`const cp = require('child_process')`, `import * as cp`), the
inline `require('child_process').exec(…)` and destructured or imported names
(`const { exec: run } = require('child_process')`) are followed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial

from tree_sitter import Node

from skillscan.analyzers.treesitter.call_sites import CONSTANT_FIRST, MAX_START_WORDS, NOT_CALLED, any_word
from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.dangerous_calls import call_evidence, sink_starts, truthy
from skillscan.analyzers.treesitter.flow_model import call_args
from skillscan.analyzers.treesitter.node_pass import CallPass
from skillscan.analyzers.treesitter.parsing import LastText, node_text
from skillscan.analyzers.treesitter.registry import FileContext, Hit
from skillscan.models import FileKind

_CHILD_SHELL = frozenset({"exec", "execSync"})  # always through a shell
_CHILD_SPAWN = frozenset({"spawn", "spawnSync", "execFile", "execFileSync"})  # shell only with shell: true
_REQUIRE = r"""(?:require\(\s*|from\s+)['"](?:node:)?child_process['"]"""
_INLINE_REQUIRE = re.compile(r"""require\(\s*['"](?:node:)?child_process['"]\s*\)""")
_MAX_REQUIRE_BYTES = 1000


@LastText
def _js_bindings(source: str) -> tuple[frozenset[str], dict[str, str]]:
    """Module objects bound to child_process, and destructured/imported names → their export."""
    modules: set[str] = {"child_process"}
    names: dict[str, str] = {}
    for m in re.finditer(r"(?:const|let|var)\s+(\w+)\s*=\s*" + _REQUIRE, source):
        modules.add(m.group(1))
    for m in re.finditer(r"import\s+(?:\*\s+as\s+)?(\w+)\s+" + _REQUIRE, source):
        modules.add(m.group(1))
    for m in re.finditer(
        r"(?:(?:const|let|var)\s*\{([^}]{1,400})\}\s*=|import\s*\{([^}]{1,400})\})\s*" + _REQUIRE, source
    ):
        for part in (m.group(1) or m.group(2) or "").split(","):
            bits = re.split(r"\s*(?::|\bas\b)\s*", part.strip())
            if bits and bits[0]:
                names[bits[-1]] = bits[0]
    return frozenset(modules), names


def _js_options_shell(node: Node) -> bool:
    for arg in call_args(node)[1:]:
        if arg.type != "object":
            continue
        for pair in arg.named_children:
            key = pair.child_by_field_name("key")
            if pair.type == "pair" and key is not None and node_text(key).strip("'\"") == "shell":
                return truthy(pair.child_by_field_name("value"))
    return False


class JsChildProcessCommand:
    """child_process exec/execSync (always a shell), or spawn/execFile with shell: true, on a
    command string built at run time."""

    languages = frozenset({FileKind.JAVASCRIPT, FileKind.TYPESCRIPT})
    node_types = frozenset({"call_expression"})
    needles = ("child_process",)

    def visit(self, node: Node, ctx: FileContext) -> Iterator[Hit]:
        if self._judge(node, ctx.source)[0]:
            yield Hit("js-child-process-dynamic", node.start_point[0] + 1, call_evidence(node, ctx.source))

    def begin(self, ctx: FileContext) -> CallPass | None:
        # The callee ends with an export (`cp.exec`, `require('child_process').exec`) or a name bound
        # to one (`const { exec: run } = …`), called with anything but one plain string.
        source = ctx.source
        modules, names = _js_bindings(source)
        exports = _CHILD_SHELL | _CHILD_SPAWN | set(names)
        starts = None
        if len(modules) + len(names) <= MAX_START_WORDS:  # else every call is read
            if not any_word(source, exports, NOT_CALLED + CONSTANT_FIRST):
                return None
            starts = sink_starts(
                ctx, self.node_types, exports, modules | set(names) | {"require"}, getattr_too=False
            )
        return CallPass(
            ctx, partial(self._judge, source=source), partial(call_evidence, source=source), starts
        )

    def _judge(self, node: Node, source: str) -> tuple[str | None, bool]:
        func = node.child_by_field_name("function")
        if func is None:
            return None, True
        modules, names = _js_bindings(source)
        if func.type == "member_expression":
            obj = func.child_by_field_name("object")
            prop = func.child_by_field_name("property")
            if obj is None or prop is None:
                return None, True
            export = node_text(prop)
            if export not in _CHILD_SHELL and export not in _CHILD_SPAWN:
                return None, True
            # a module object is a name, or `require('child_process')` itself: never copy the text of
            # a long receiver (each call of a chain `a(…).b(…).c(…)` would copy the rest)
            if not (obj.type == "identifier" and node_text(obj) in modules) and not (
                obj.type == "call_expression"
                and obj.end_byte - obj.start_byte <= _MAX_REQUIRE_BYTES
                and _INLINE_REQUIRE.fullmatch(node_text(obj))
            ):
                return None, True  # `.exec(` on regexes and database handles is not a shell
        elif func.type == "identifier" and names and node_text(func) in names:
            export = names[node_text(func)]
        else:
            return None, True
        shell = export in _CHILD_SHELL or (export in _CHILD_SPAWN and _js_options_shell(node))
        args = call_args(node)
        if shell and args and resolve(args[0]) is None:
            return "js-child-process-dynamic", True
        return None, True


CHECKS = [JsChildProcessCommand()]
