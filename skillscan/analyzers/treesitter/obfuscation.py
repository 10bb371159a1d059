"""Obfuscated execution in Python and JavaScript/TypeScript, resolved before it is matched.

- decoded data executed: `exec(base64.b64decode(P))`, `exec(zlib.decompress(…))`, `marshal.loads`,
  `eval(atob(…))`, `Function(Buffer.from(x, 'base64').toString())()`, `os.system(codecs.decode(…))`,
  also through variables (`d = b64decode(P)` … `exec(d)`);
- code read from a data file of the skill (`.png`, `.json`, `.txt`, …) and executed;
- names built so that no literal shows them: `__import__('o'+'s')`, `getattr(os, 'sys'+'tem')`,
  `require(String.fromCharCode(…))` resolving to a dangerous module or function;
- `eval` / `exec` of a function's own parameters (code injection);
- long escaped string literals (`\\x69\\x6d…`) that spell code.

Constant strings are resolved with `constants.resolve` (concatenation, `chr`, reversal, joins,
`bytes.fromhex`, `String.fromCharCode`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.flow_model import JS, PY, Lang, callee, positional
from skillscan.analyzers.treesitter.parsing import node_text, walk
from skillscan.analyzers.treesitter.registry import FileContext, Hit
from skillscan.models import FileKind

_DECODERS = frozenset(
    {"b64decode", "urlsafe_b64decode", "b32decode", "b16decode", "a85decode", "b85decode", "decodebytes",
     "decodestring", "unhexlify", "fromhex", "decompress", "loads", "atob", "inflateSync", "gunzipSync",
     "inflateRawSync", "brotliDecompressSync", "unzipSync", "fromCharCode", "reversed", "rot13"}
)  # fmt: skip
_PY_EXEC = frozenset(
    {"exec", "eval", "compile", "execfile", "run_path", "run_module", "exec_module", "FunctionType"}
)
_JS_EXEC = frozenset(
    {
        "eval",
        "Function",
        "runInThisContext",
        "runInNewContext",
        "runInContext",
        "Script",
        "setTimeout",
        "setInterval",
        "compileFunction",
    }
)
_SHELL_EXEC = frozenset(
    {"os.system", "os.popen", "subprocess.run", "subprocess.call", "subprocess.Popen", "subprocess.check_output",
     "subprocess.check_call", "subprocess.getoutput", "execSync", "exec", "child_process.exec",
     "child_process.execSync", "cp.exec", "cp.execSync", "spawn", "spawnSync"}
)  # fmt: skip
_DATA_EXT = re.compile(
    r"(?i)\.(?:png|jpe?g|gif|bmp|ico|webp|svg|json|txt|dat|bin|csv|log|md|yaml|yml|xml|ttf|woff2?|mp3|wav|pdf|db|cache|lock)$"
)
_DANGEROUS_NAMES = frozenset(
    {"os", "subprocess", "system", "popen", "exec", "eval", "compile", "socket", "pty", "ctypes", "child_process",
     "execSync", "spawn", "net", "dgram", "__import__", "getattr", "builtins", "__builtins__", "marshal",
     "pickle", "importlib", "Function", "spawnSync", "execFile", "run", "check_output", "urllib", "requests"}
)  # fmt: skip
_ESCAPES = re.compile(r"(?:\\{1,2}x[0-9a-fA-F]{2}){12,}|(?:\\{1,2}u[0-9a-fA-F]{4}){12,}")
_CODE_WORDS = re.compile(
    r"\b(?:import|exec|eval|system|subprocess|require|child_process|socket|curl|wget|http|bash|sh -c|powershell|base64)\b"
)
_MAX_NODES = 300_000
MAX_HITS_PER_RULE = 20  # per file: thousands of identical hits add nothing


@dataclass
class _Vars:
    """What a variable holds, as far as obfuscation is concerned."""

    decoded: set[str] = field(default_factory=set)
    datafile: set[str] = field(default_factory=set)
    params: set[str] = field(default_factory=set)


def _leaf(call: Node) -> str:
    return callee(call).rsplit(".", 1)[-1]


def _is_decoder(call: Node, lang: Lang) -> bool:
    leaf = _leaf(call)
    name = callee(call)
    if leaf == "loads" and not name.startswith(("marshal", "pickle", "dill", "cloudpickle")):
        return False  # json.loads is parsing, not unpacking code
    if leaf == "decompress" or leaf in _DECODERS - {"loads", "decode"}:
        return True
    if leaf == "decode" and name.startswith("codecs"):
        return True
    if leaf == "from" and lang is JS and name.endswith("Buffer.from"):
        args = positional(call)
        return len(args) > 1 and (resolve(args[1]) or "") in {"base64", "hex", "base64url"}
    return False


class _FileScan:
    def __init__(self, ctx: FileContext, lang: Lang, nodes: list[Node]) -> None:
        self.ctx = ctx
        self.lang = lang
        self.nodes = nodes
        self.v = _Vars()
        self.memo: dict[tuple[str, int], bool] = {}  # cleared whenever the variable sets change

    def taint_vars(self) -> None:
        for fn in (n for n in self.nodes if n.type in self.lang.functions):
            params = fn.child_by_field_name("parameters")
            for p in params.named_children if params is not None else []:
                ident = (
                    p
                    if p.type == "identifier"
                    else next((c for c in p.named_children if c.type == "identifier"), None)
                )
                if ident is not None and node_text(ident) not in {"self", "cls"}:
                    self.v.params.add(node_text(ident))
        for _ in range(2):  # twice: a use may come before its definition in file order
            self.memo.clear()
            for n in self.nodes:
                if n.type not in self.lang.assign and n.type != "as_pattern":
                    continue
                left = (
                    n.child_by_field_name("left")
                    or n.child_by_field_name("name")
                    or n.child_by_field_name("alias")
                )
                right = n.child_by_field_name("right") or n.child_by_field_name("value")
                if n.type == "as_pattern":
                    right = n.named_children[0] if n.named_children else None
                if left is None or right is None or left.type != "identifier":
                    continue
                name = node_text(left)
                if self.decoded(right):
                    self.v.decoded.add(name)
                if self.reads_data_file(right):
                    self.v.datafile.add(name)
        self.memo.clear()

    def _mentions(self, node: Node, names: set[str]) -> bool:
        return bool(names) and any(n.type == "identifier" and node_text(n) in names for n in walk(node, 2000))

    def decoded(self, node: Node) -> bool:
        """The value is produced by a decoder (directly, through a decoded variable, or a reversal)."""
        key = ("decoded", node.id)
        if key not in self.memo:
            self.memo[key] = self._decoded(node)
        return self.memo[key]

    def _decoded(self, node: Node) -> bool:
        for n in walk(node, 2000):
            if n.type in self.lang.call and _is_decoder(n, self.lang):
                return True
            if (
                n.type == "subscript"
                and node_text(n.child_by_field_name("subscript") or n).replace(" ", "") == "::-1"
            ):
                return True
        return self._mentions(node, self.v.decoded)

    def reads_data_file(self, node: Node) -> bool:
        key = ("datafile", node.id)
        if key not in self.memo:
            self.memo[key] = self._reads_data_file(node)
        return self.memo[key]

    def _reads_data_file(self, node: Node) -> bool:
        for n in walk(node, 2000):
            if n.type not in self.lang.call:
                continue
            if _leaf(n) in {"open", "read_text", "read_bytes", "readFileSync", "readFile", "get_data"}:
                target = positional(n)[:1] or [n.child_by_field_name("function") or n]
                text = resolve(target[0]) or node_text(target[0])
                if _DATA_EXT.search(text.strip("\"'` )")):
                    return True
        return self._mentions(node, self.v.datafile)

    def hits(self) -> Iterator[Hit]:
        for n in self.nodes:
            if n.type in self.lang.call:
                yield from self._call(n)
            elif n.type in {"string", "template_string"} and n.end_byte - n.start_byte > 40:
                raw = node_text(n)
                if _ESCAPES.search(raw):
                    decoded = _unescape(raw)
                    if decoded and _CODE_WORDS.search(decoded):
                        yield Hit(
                            "escaped-code-string",
                            _line(n),
                            raw[:120],
                            f"Escaped string spells code: {decoded[:80]}",
                        )

    def _call(self, call: Node) -> Iterator[Hit]:
        name = callee(call)
        leaf = name.rsplit(".", 1)[-1]
        args = positional(call)
        execs = _PY_EXEC if self.lang is PY else _JS_EXEC
        is_exec = leaf in execs and (
            self.lang is JS or "." not in name or name.startswith(("runpy.", "types.", "builtins."))
        )
        is_shell = name in _SHELL_EXEC and (self.lang is PY or "child_process" in self.ctx.source)
        if (is_exec or is_shell) and args:
            first = args[0]
            if self.reads_data_file(first):
                yield Hit(
                    "exec-data-file",
                    _line(call),
                    node_text(call),
                    f"{name}() runs code read from a data file",
                )
                return
            if self.decoded(first):
                yield Hit("obfuscated-exec", _line(call), node_text(call), f"{name}() runs decoded data")
                return
            if is_exec and self.lang is PY and leaf in {"exec", "eval"} and self._from_params(first):
                yield Hit(
                    "eval-of-input",
                    _line(call),
                    node_text(call),
                    f"{name}() runs a function argument as code",
                )
                return
        hidden = self._hidden_name(call, name, leaf, args)
        if hidden:
            yield Hit(
                "hidden-dangerous-name",
                _line(call),
                node_text(call),
                f"Builds the name {hidden!r} so no literal shows it",
            )

    def _from_params(self, node: Node) -> bool:
        if node.type == "identifier":
            return node_text(node) in self.v.params
        if node.type == "string" and any(c.type == "interpolation" for c in node.named_children):
            return self._mentions(node, self.v.params)
        return False

    def _hidden_name(self, call: Node, name: str, leaf: str, args: list[Node]) -> str | None:
        """`__import__('o'+'s')`, `getattr(os, 'sy'+'stem')`, `require(String.fromCharCode(…))`."""
        target: Node | None = None
        if self.lang is PY and (name in {"__import__", "importlib.import_module", "import_module"}) and args:
            target = args[0]
        elif self.lang is PY and name in {"getattr", "builtins.getattr"} and len(args) > 1:
            target = args[1]
        elif self.lang is JS and name == "require" and args:
            target = args[0]
        if target is None or (target.type in {"string"} and not _escaped(target)):
            return None
        value = resolve(target)
        if value is None and self.decoded(target):
            return "<decoded>"
        if value is not None and value.strip() in _DANGEROUS_NAMES:
            return value.strip()
        return None


def _escaped(node: Node) -> bool:
    return "\\x" in node_text(node) or "\\u" in node_text(node)


def _unescape(raw: str) -> str | None:
    body = raw.strip("\"'`bBrRfFuU")
    for _ in range(2):  # "\\x69" in source is an escaped escape: unwrap twice
        try:
            body = codecs.decode(body, "unicode_escape")
        except (UnicodeDecodeError, ValueError):
            return None
        if not _ESCAPES.search(body):
            break
    return body


def _line(node: Node) -> int:
    return node.start_point[0] + 1


class Obfuscation:
    """File check: obfuscated execution and hidden names in Python and JavaScript/TypeScript."""

    languages = frozenset({FileKind.PYTHON, FileKind.JAVASCRIPT, FileKind.TYPESCRIPT})

    def check(self, ctx: FileContext) -> Iterator[Hit]:
        tree = ctx.tree
        if tree is None:
            return
        lang = PY if ctx.file.kind is FileKind.PYTHON else JS
        scan = _FileScan(ctx, lang, walk(tree.root_node, _MAX_NODES))
        scan.taint_vars()
        seen: set[tuple[str, int | None]] = set()
        per_rule: dict[str, int] = {}
        for h in scan.hits():
            if (h.rule_id, h.line) not in seen and per_rule.get(h.rule_id, 0) < MAX_HITS_PER_RULE:
                seen.add((h.rule_id, h.line))
                per_rule[h.rule_id] = per_rule.get(h.rule_id, 0) + 1
                yield h


CHECKS = [Obfuscation()]
