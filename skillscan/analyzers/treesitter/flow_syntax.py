"""Syntax helpers of the flow checks: assignment sides and targets, scopes, function names and
parameters, path and command strings. Pure functions of tree-sitter nodes, for `flows.py`."""

from __future__ import annotations

import re

from tree_sitter import Node

from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.flow_model import PATH_BUILDERS, PY, Lang, callee, positional
from skillscan.analyzers.treesitter.parsing import node_text


def built_hostname(node: Node) -> bool:
    """`f"{data}.attacker.example"`, `data + ".x.example"`: a host name with data in front of a domain."""
    text = node_text(node)
    return bool(re.search(r"(?:\}|\+\s{0,3}[\"'`])\.?[a-z0-9-]{1,63}\.[a-z]{2,}", text)) or bool(
        re.search(r"\$\{[^}]{1,80}\}\.[a-z0-9-]{1,63}\.", text)
    )


def command_string(call: Node) -> str | None:
    args = positional(call)
    if not args:
        return None
    first = args[0]
    if first.type in {"list", "array"}:
        parts = [resolve(c) for c in first.named_children]
        if any(p is None for p in parts):
            return None
        words = [p for p in parts if p is not None]
        if len(words) >= 3 and words[0].rsplit("/", 1)[-1] in {"sh", "bash", "zsh"} and words[1] == "-c":
            return words[2]
        return " ".join(words)
    value = resolve(first)
    if value and len(args) > 1 and args[1].type == "array" and value.rsplit("/", 1)[-1] in {"sh", "bash"}:
        rest = [resolve(c) for c in args[1].named_children]
        if len(rest) >= 2 and rest[0] == "-c" and rest[1]:
            return rest[1]
    return value


def assign_sides(n: Node) -> tuple[Node | None, Node | None]:
    left = n.child_by_field_name("left") or n.child_by_field_name("name")
    right = n.child_by_field_name("right") or n.child_by_field_name("value")
    return left, right


_PATHISH = frozenset(
    {"string", "template_string", "concatenated_string", "binary_operator", "binary_expression", "identifier"}
)


def is_path_like(value: Node, lang: Lang) -> bool:
    """A string, a concatenation / `/` join of strings, or a path-building call: not a dict or list."""
    if value.type in _PATHISH:
        return True
    return value.type in lang.call and callee(value).rsplit(".", 1)[-1] in PATH_BUILDERS


def bound_keys(left: Node, lang: Lang, scope: str, depth: int = 0) -> list[str]:
    """Scoped keys of the names an assignment target binds (`a, b = …`, `x[k] = …`, `self.y = …`)."""
    if left.type == "identifier":
        return [f"{scope}:{node_text(left)}"]
    if left.type == lang.member:
        attr = left.child_by_field_name(lang.member_field)
        return [f"attr:{node_text(attr)}"] if attr is not None else []
    if depth > 20:
        return []
    if left.type in {"subscript", "subscript_expression"}:
        base = left.child_by_field_name("value") or left.child_by_field_name("object")
        return bound_keys(base, lang, scope, depth + 1) if base is not None else []
    keys: list[str] = []
    for c in left.named_children[:50]:
        keys += bound_keys(c, lang, scope, depth + 1)
    return keys


NAMING_PARENTS = frozenset({"variable_declarator", "pair", "assignment_expression"})


def function_name(fn: Node, namer: Node | None) -> str | None:
    """A function's own name, else the name it is bound to by `namer`, the innermost declarator /
    pair / assignment around it (found by the caller's scope sweep: `fn.parent` costs O(depth) in
    tree-sitter, and 10k nested arrow functions took minutes)."""
    name = fn.child_by_field_name("name")
    if name is None and namer is not None and any(c.id == fn.id for c in namer.named_children):
        name = (
            namer.child_by_field_name("name")
            or namer.child_by_field_name("key")
            or namer.child_by_field_name("left")
        )
    return node_text(name).rsplit(".", 1)[-1] if name is not None else None


def param_names(fn: Node, lang: Lang) -> list[str]:
    params = fn.child_by_field_name("parameters")
    out: list[str] = []
    for p in params.named_children if params is not None else []:
        ident = (
            p
            if p.type == "identifier"
            else next((c for c in p.named_children if c.type == "identifier"), None)
        )
        if ident is not None:
            out.append(node_text(ident))
    if lang is PY and out and out[0] in {"self", "cls"}:
        out = out[1:]
    return out


def path_value(node: Node | None, constants: dict[str, str]) -> str | None:
    """A file path an expression names: a literal, a named constant or `Path("…")` / `open("…")`."""
    if node is None:
        return None
    value = resolve(node) or constants.get(node_text(node))
    if value is None and node.type in {"call", "call_expression"}:
        args = positional(node)
        value = resolve(args[0]) if args else None
    return value


def receiver_of(call: Node) -> Node | None:
    func = call.child_by_field_name("function")
    return func.child_by_field_name("object") if func is not None else None


def line_of(node: Node) -> int:
    return node.start_point[0] + 1
