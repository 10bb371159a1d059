"""Resolve expressions to constant strings where the source makes that possible.

Covers the string building that hides a literal from plain matching: concatenation
(`'o' + 's'`), `chr(111)`, `''.join([...])`, reversed slices (`'so'[::-1]`), `bytes.fromhex`,
JS `String.fromCharCode(...)` and template literals without substitutions. Returns None when any
part is not constant. Bounded in depth so hostile nesting cannot recurse without end.

`strings_added` reads the plainest of these, strings added together, in a text.
"""

from __future__ import annotations

import ast
import re
from typing import AnyStr

from tree_sitter import Node

from skillscan.analyzers.treesitter.parsing import node_text

MAX_DEPTH = 40
MAX_LEN = 100_000
_QUOTES = frozenset({"'''", '"""', "'", '"'})
_BUILDERS = frozenset({"chr", "String.fromCharCode", "bytes.fromhex"})  # and `sep.join`
# A plain string: no prefix, escape or line break (its value is the text inside its quotes) ...
_PLAIN = r"""(?:'[^'\\\n]*'|"[^"\\\n]*")"""
# ... and plain strings added together on one line, with no word or quote right around them
_ADDED = rf"(?<![\w'\"]){_PLAIN}(?:[ \t]*\+[ \t]*{_PLAIN})+(?![\w'\"])"
_ADDED_TEXT, _PLAIN_TEXT = re.compile(_ADDED, re.ASCII), re.compile(_PLAIN)
_ADDED_BYTES, _PLAIN_BYTES = re.compile(_ADDED.encode()), re.compile(_PLAIN.encode())


def resolve(node: Node | None, depth: int = 0) -> str | None:
    if node is None or depth > MAX_DEPTH:
        return None
    t = node.type
    if t == "string":
        return _string_literal(node)
    if t == "template_string":
        if any(c.type == "template_substitution" for c in node.named_children):
            return None
        return node_text(node)[1:-1]
    if t == "concatenated_string":  # python implicit 'a' 'b'
        parts = _all_resolved(node.named_children, depth + 1)
        return None if parts is None else _cap("".join(parts))
    if t in ("parenthesized_expression",) and node.named_child_count == 1:
        return resolve(node.named_children[0], depth + 1)
    if t in ("binary_expression", "binary_operator"):
        op = node.child_by_field_name("operator")
        if op is not None and node_text(op) == "+":
            left = resolve(node.child_by_field_name("left"), depth + 1)
            right = resolve(node.child_by_field_name("right"), depth + 1) if left is not None else None
            if left is not None and right is not None:
                return _cap(left + right)
        return None
    if t == "subscript":  # 'abc'[::-1]
        value = resolve(node.child_by_field_name("value"), depth + 1)
        sub = node.child_by_field_name("subscript")
        if value is not None and sub is not None and node_text(sub).replace(" ", "") == "::-1":
            return value[::-1]
        return None
    if t in ("call", "call_expression"):
        return _resolve_call(node, depth)
    return None


def strings_added(text: AnyStr) -> AnyStr:
    """`text` with plain strings added together (`'https://api.' + 'example.com'`) written as the
    one string they make, in a quote its contents leave free. Where a URL is read from an
    expression's text (`flow_model.dest_of`), and where the hosts of a whole script are
    (`flow_hosts.written_hosts`), the text is read so: both see the same URLs. A sum is left as
    written when no quote is free, or when a string after the first holds a scheme (`://`): a URL
    that starts there as written may not start in the one string (`'x' + 'https://…'`)."""
    if isinstance(text, str):
        if "+" not in text:
            return text
        return _ADDED_TEXT.sub(lambda m: _one_string(m.group(), _PLAIN_TEXT, ("'", '"'), "://"), text)
    if b"+" not in text:
        return text
    return _ADDED_BYTES.sub(lambda m: _one_string(m.group(), _PLAIN_BYTES, (b"'", b'"'), b"://"), text)


def _one_string(
    added: AnyStr, plain: re.Pattern[AnyStr], quotes: tuple[AnyStr, AnyStr], scheme: AnyStr
) -> AnyStr:
    strings = plain.findall(added)
    if any(scheme in s for s in strings[1:]):
        return added
    value = added[:0].join(s[1:-1] for s in strings)
    for quote in quotes:
        if quote not in value:
            return quote + value + quote
    return added


def builds_constant(callee: str) -> bool:
    """Whether a call of `callee` (its text without spaces) can resolve to a constant: any other
    call is known at run time only, whatever its arguments (not read: a flood of calls)."""
    return callee in _BUILDERS or callee.endswith(".join")


def _resolve_call(node: Node, depth: int) -> str | None:
    func = node.child_by_field_name("function")
    if func is None:
        return None
    name = node_text(func).replace(" ", "")
    if not builds_constant(name):
        return None
    args = node.child_by_field_name("arguments")
    if args is None:
        return None
    values = [a for a in args.named_children if a.type != "comment"]
    if name == "chr" and len(values) == 1:
        code = _int(values[0])
        return chr(code) if code is not None and 0 <= code < 0x110000 else None
    if name == "String.fromCharCode":
        codes = [_int(v) for v in values]
        if any(c is None or not 0 <= c < 0x110000 for c in codes):
            return None
        return "".join(chr(c) for c in codes if c is not None)
    if name.endswith(".join") and len(values) == 1 and func.type == "attribute":
        sep = resolve(func.child_by_field_name("object"), depth + 1)
        items = values[0]
        if sep is None or items.type not in ("list", "tuple"):
            return None
        parts = _all_resolved(items.named_children, depth + 1)
        return None if parts is None else _cap(sep.join(parts))
    if name == "bytes.fromhex" and len(values) == 1:
        hexed = resolve(values[0], depth + 1)
        try:
            return bytes.fromhex(hexed).decode("utf-8", "replace") if hexed is not None else None
        except ValueError:
            return None
    return None


def _all_resolved(nodes: list[Node], depth: int) -> list[str] | None:
    """Every node's constant value, or None at the first that has none (no use resolving the rest)."""
    out: list[str] = []
    for n in nodes:
        value = resolve(n, depth)
        if value is None:
            return None
        out.append(value)
    return out


def _string_literal(node: Node) -> str | None:
    raw = node_text(node)
    if any(c.type == "interpolation" for c in node.named_children):
        return None  # f-string with holes
    if raw[:1] in ("'", '"') and "\\" not in raw:  # no prefix, no escape: the text inside the quotes
        for quote in (raw[:3], raw[:1]):  # (spares ast.literal_eval, a compile per string)
            if quote in _QUOTES and len(raw) >= 2 * len(quote) and raw.endswith(quote):
                return raw[len(quote) : -len(quote)]
    try:
        value = ast.literal_eval(raw.lstrip("fF") if raw[:1] in "fF" else raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        # JS strings: strip the quotes; escapes are rare in what we resolve.
        return raw[1:-1] if len(raw) >= 2 and raw[0] in "'\"" and raw[-1] == raw[0] else None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _int(node: Node) -> int | None:
    if node.type not in ("integer", "number"):
        return None
    try:
        return int(node_text(node), 0)
    except ValueError:
        return None


def _cap(value: str) -> str | None:
    return value if len(value) <= MAX_LEN else None
