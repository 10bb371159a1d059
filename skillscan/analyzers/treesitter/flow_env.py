"""The environment as a secret source of the flow checks: `os.environ` / `process.env` as a whole or
one variable of it, however a script names them.

A reference is read as what it stands for (`canonical`): through the names a module or function is
imported or assigned under (`import os as o`, `from os import environ as E`, `from os import getenv
as g`, `import {env as e} from "process"`, `const p = require("process")`), constant attribute
lookups (`getattr(os, "environ")`, `process["env"]`) and optional chaining (`process?.env`).
Those names are file-wide (`aliases`). A name *assigned* the environment itself holds data and is
tainted by scope instead (`flow_engine`); a destructuring binds each of its names to what its key
reads (`pattern_sources`: `const {KEY: k, ...rest} = process.env`, `const {env} = process`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tree_sitter import Node

from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.flow_model import FIELD_STORES, PY, Lang, Source, positional
from skillscan.analyzers.treesitter.flow_syntax import bound_keys
from skillscan.analyzers.treesitter.parsing import node_text

WHOLE_ENV = Source("env", "the whole environment")
# What stands for the whole environment, per language (a bare `environ`: `from os import *`).
WHOLE = {"python": frozenset({"os.environ", "environ"}), "javascript": frozenset({"process.env"})}
GETENV = frozenset({"os.getenv", "getenv", "os.environ.get"})  # calls that read one variable
# Methods of the environment that hand out all of it, and those that read one variable.
ALL_OF = frozenset({"items", "keys", "values", "copy", "entries"})
_ONE_OF = frozenset({"get", "setdefault", "pop"})
ENV_METHODS = ALL_OF | _ONE_OF
# What a plain name may be assigned to stand for file-wide: a module, or a function that reads
# one variable (a name assigned the environment itself is tainted by scope instead).
_MODULE_OR_READER = frozenset({"os", "process", *GETENV})
# What an import may bind a name to: a module, a reader, or the environment itself.
_IMPORTABLE = _MODULE_OR_READER | {"os.environ", "process.env"}
_MODULES = {"os": "os", "process": "process", "node:process": "process"}  # import source -> module
_GLOBALS = frozenset({"globalThis", "global", "window"})  # `globalThis.process` is `process`
_LOADERS = frozenset({"require", "__import__", "importlib.import_module", "import_module"})
MAX_REFERENCE_BYTES = 160  # a longer expression is no plain reference: never copied to compare
_MAX_DEPTH = 8
_MAX_SEEN = 10_000
_REFERENCES = frozenset(
    {"identifier", "attribute", "member_expression", "subscript", "subscript_expression", "call",
     "call_expression", "parenthesized_expression"}
)  # fmt: skip
NO_ALIASES: Mapping[str, str] = {}
# Names an assigned value standing for a module or reader starts with (besides the file's aliases).
ALIAS_HEADS = frozenset({"os", "process", "getattr", *_GLOBALS, *(n.split(".")[0] for n in _LOADERS)})


def canonical(node: Node | None, aliases: Mapping[str, str] = NO_ALIASES, depth: int = 0) -> str | None:
    """The dotted name a small reference stands for (`o.environ` -> "os.environ" after `import os
    as o`, `getattr(os, "environ")` -> "os.environ", `require("process")` -> "process"), or None."""
    if node is None or depth > _MAX_DEPTH or node.end_byte - node.start_byte > MAX_REFERENCE_BYTES:
        return None
    t = node.type
    if t == "identifier":
        text = node_text(node)
        return aliases.get(text, text)
    if t in {"attribute", "member_expression", "subscript", "subscript_expression"}:
        base = canonical(
            node.child_by_field_name("object") or node.child_by_field_name("value"), aliases, depth + 1
        )
        key = key_of(node)
        if base is None or key is None:
            return None
        return "process" if base in _GLOBALS and key == "process" else f"{base}.{key}"
    if t in {"call", "call_expression"}:
        func = canonical(node.child_by_field_name("function"), aliases, depth + 1)
        if func == "getattr" or func in _LOADERS:
            args = positional(node)
            if func == "getattr" and len(args) >= 2:
                base, key = canonical(args[0], aliases, depth + 1), resolve(args[1])
                return f"{base}.{key}" if base is not None and key else None
            module = resolve(args[0]) if args and func != "getattr" else None
            return _MODULES.get(module) if module is not None else None
        return None
    if t == "parenthesized_expression" and node.named_child_count == 1:
        return canonical(node.named_children[0], aliases, depth + 1)
    return None


def key_of(member: Node) -> str | None:
    """The name a member access or subscript reads (`.environ`, `["env"]`, `["AWS_" + "KEY"]`); an
    index that is no constant reads as written (`[k]`: "k")."""
    name = member.child_by_field_name("attribute") or member.child_by_field_name("property")
    if name is not None:
        return node_text(name)
    index = member.child_by_field_name("subscript") or member.child_by_field_name("index")
    if index is None:
        return None
    key = resolve(index)
    return key if key is not None else node_text(index)


def env_source(node: Node, lang: Lang, aliases: Mapping[str, str] = NO_ALIASES) -> Source | None:
    """`os.environ` / `process.env` as a whole (harvest) or one variable of it (`os.environ["K"]`,
    `os.getenv("K")`), through the file's `aliases`."""
    if node.type not in _REFERENCES:
        return None
    if canonical(node, aliases) in WHOLE[lang.name]:
        parent = node.parent
        if parent is not None and parent.type in {
            "subscript",
            "member_expression",
            "subscript_expression",
            "attribute",
        }:
            if parent.child_by_field_name("object") != node and parent.child_by_field_name("value") != node:
                return None  # the name of a member (`self.environ`), not the environment
            key = key_of(parent)
            if key is None:
                return None
            if key in ALL_OF:
                return WHOLE_ENV
            if key in _ONE_OF:
                call = parent.parent
                args = positional(call) if call is not None and call.type in lang.call else []
                name = resolve(args[0]) if args else None
                return Source("envvar", f"${name}", name) if name else None
            return Source("envvar", f"${key}", key)
        return WHOLE_ENV
    if node.type in lang.call and canonical(node.child_by_field_name("function"), aliases) in GETENV:
        args = positional(node)
        var = resolve(args[0]) if args else None
        return Source("envvar", f"${var}", var) if var else None
    return None


def member_source(src: Source | None, key: str | None) -> Source | None:
    """What one named member of a value holding `src` holds: one variable of the whole environment,
    one field of a config store, else the value's own secret (an unknown key: all of it)."""
    if src is None or key is None:
        return src
    if src.kind == "env":
        return WHOLE_ENV if key in ALL_OF else Source("envvar", f"${key}", key)
    if src.label in FIELD_STORES:
        return Source("field", f"a value from {src.label}")
    return src


def destructures_env(left: Node | None, right: Node | None, lang: Lang, aliases: Mapping[str, str]) -> bool:
    """`const {env} = process`: an object pattern taking the environment out of its module."""
    if left is None or right is None or left.type != "object_pattern":
        return False
    base = canonical(right, aliases)
    return base is not None and any(f"{base}.{k}" in WHOLE[lang.name] for k in ("env", "environ"))


def pattern_sources(
    target: Node, src: Source | None, path: str | None, lang: Lang, scope: str, depth: int = 0
) -> list[tuple[str, Source]]:
    """(scoped key, secret) of each name a destructuring binds from a value holding `src` that
    stands for `path`: `{KEY: k}` of the environment binds k to $KEY, `{env}` of `process` the whole
    environment, `...rest` all the value holds."""
    t = target.type
    if depth > 20:
        return []
    if t == "object_pattern":
        out: list[tuple[str, Source]] = []
        for c in target.named_children[:200]:
            if c.type == "rest_pattern":
                out += [(k, src) for k in bound_keys(c, lang, scope)] if src is not None else []
                continue
            if c.type == "pair_pattern":
                key_node, value = c.child_by_field_name("key"), c.child_by_field_name("value")
            else:  # `{KEY}`, `{KEY = d}`: the name is the key
                value = c.child_by_field_name("left") if c.type == "object_assignment_pattern" else c
                key_node = value
            if key_node is None or value is None:
                continue
            key = resolve(key_node) if key_node.type == "string" else _plain_key(key_node)
            sub = f"{path}.{key}" if path is not None and key is not None else None
            found = WHOLE_ENV if sub in WHOLE[lang.name] else member_source(src, key)
            out += pattern_sources(value, found, sub, lang, scope, depth + 1)
        return out
    if t in {"assignment_pattern", "object_assignment_pattern"}:
        left = target.child_by_field_name("left")
        return pattern_sources(left, src, path, lang, scope, depth + 1) if left is not None else []
    if t == "shorthand_property_identifier_pattern":
        return [(f"{scope}:{node_text(target)}", src)] if src is not None else []
    return [(k, src) for k in bound_keys(target, lang, scope, depth)] if src is not None else []


def _plain_key(node: Node) -> str | None:
    return (
        node_text(node)
        if node.type in {"property_identifier", "shorthand_property_identifier_pattern"}
        else None
    )


def aliases(imports: Iterable[Node], assigns: Iterable[Node], lang: Lang) -> dict[str, str]:
    """Names a script gives the environment's module, its readers or (by import) the environment
    itself: from its import statements and the assignments `assigns` (`g = os.getenv`,
    `const p = require("process")`), each read through the names found before it."""
    found: dict[str, str] = {}
    seen: set[str] = set()  # a statement repeated is read once
    for n in imports:
        text = node_text(n) if n.end_byte - n.start_byte <= MAX_REFERENCE_BYTES else None
        if text is not None:
            if text in seen:
                continue
            if len(seen) < _MAX_SEEN:
                seen.add(text)
        for name, target in _imported(n, lang):
            if target in _IMPORTABLE and name != target:
                found[name] = target
    for n in assigns:
        left = n.child_by_field_name("left") or n.child_by_field_name("name")
        right = n.child_by_field_name("right") or n.child_by_field_name("value")
        if left is not None and left.type == "identifier":
            stands_for = canonical(right, found)
            name = node_text(left)
            if stands_for in _MODULE_OR_READER and name != stands_for:
                found[name] = stands_for
    return found


def _imported(n: Node, lang: Lang) -> Iterable[tuple[str, str]]:
    """(local name, what it stands for) of one import statement."""
    if lang is PY:
        module = n.child_by_field_name("module_name")
        prefix = f"{_MODULES.get(node_text(module), node_text(module))}." if module is not None else ""
        for c in n.children_by_field_name("name"):
            if c.type == "aliased_import":
                name, alias = c.child_by_field_name("name"), c.child_by_field_name("alias")
                if name is not None and alias is not None:
                    yield node_text(alias), prefix + node_text(name)
            elif module is not None:  # `from os import getenv`: the bare name is known already
                yield node_text(c), prefix + node_text(c)
        return
    source = n.child_by_field_name("source")
    of = _MODULES.get(resolve(source) or "") if source is not None else None
    clause = next((c for c in n.named_children if c.type == "import_clause"), None)
    if of is None or clause is None:
        return
    for c in clause.named_children:
        if c.type == "identifier":  # `import p from "process"`
            yield node_text(c), of
        elif c.type == "namespace_import" and c.named_children:  # `import * as p from "process"`
            yield node_text(c.named_children[0]), of
        elif c.type == "named_imports":  # `import {env as e} from "process"`
            for spec in c.named_children:
                name = spec.child_by_field_name("name")
                alias = spec.child_by_field_name("alias") or name
                if name is not None and alias is not None:
                    yield node_text(alias), f"{of}.{node_text(name)}"
