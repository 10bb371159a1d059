"""Dangerous tool usage whose argv shape decides the risk: shell strings built at run time."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.parsing import node_text, walk
from skillscan.analyzers.treesitter.registry import FileContext, Hit
from skillscan.models import FileKind

_SUBPROCESS = {"run", "call", "Popen", "check_output", "check_call", "getoutput", "getstatusoutput"}
_OS_SHELL = {"os.system", "os.popen", "system", "popen"}
_EXEC = {"exec", "eval", "compile"}
_CHILD_EXEC = {"exec", "execSync"}


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


def _is_dynamic(node: Node | None) -> bool:
    return node is not None and resolve(node) is None


class PythonShellCommand:
    languages = frozenset({FileKind.PYTHON})

    def check(self, ctx: FileContext) -> Iterator[Hit]:
        if ctx.tree is None:
            return
        for node in walk(ctx.tree.root_node):
            if node.type != "call":
                continue
            func = node.child_by_field_name("function")
            name = node_text(func) if func is not None else ""
            line = node.start_point[0] + 1
            leaf = name.rsplit(".", 1)[-1]
            if name.startswith("subprocess.") and leaf in _SUBPROCESS:
                shell = _keyword(node, "shell")
                uses_shell = leaf in {"getoutput", "getstatusoutput"} or (
                    shell is not None and node_text(shell) not in ("False", "0", "None")
                )
                if uses_shell and _is_dynamic(_first_positional(node)):
                    yield Hit("python-shell-command-dynamic", line, node_text(node))
            elif name in _OS_SHELL and name.startswith("os.") and _is_dynamic(_first_positional(node)):
                yield Hit("python-shell-command-dynamic", line, node_text(node))
            elif name in _EXEC and _is_dynamic(_first_positional(node)):
                yield Hit("python-dynamic-code-exec", line, node_text(node))


class JsChildProcessCommand:
    languages = frozenset({FileKind.JAVASCRIPT, FileKind.TYPESCRIPT})

    def check(self, ctx: FileContext) -> Iterator[Hit]:
        if ctx.tree is None or "child_process" not in ctx.source:
            return
        for node in walk(ctx.tree.root_node):
            if node.type != "call_expression":
                continue
            func = node.child_by_field_name("function")
            if func is None:
                continue
            leaf = node_text(func).rsplit(".", 1)[-1]
            # `.exec(` on regexes and databases is common; only bare or child_process receivers count.
            receiver = node_text(func).rsplit(".", 1)[0] if "." in node_text(func) else ""
            if leaf not in _CHILD_EXEC or receiver not in ("", "child_process", "cp", "childProcess"):
                continue
            args = _args(node)
            if args and resolve(args[0]) is None:
                yield Hit("js-child-process-dynamic", node.start_point[0] + 1, node_text(node))


CHECKS = [PythonShellCommand(), JsChildProcessCommand()]
