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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.flow_index import FileIndex, Heat
from skillscan.analyzers.treesitter.flow_model import JS, PY, Lang, callee, positional
from skillscan.analyzers.treesitter.parsing import byte_spans, node_text, walk
from skillscan.analyzers.treesitter.registry import FileContext, FindingCap, Hit
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
MAX_HITS_PER_RULE = 20  # per file: thousands of identical hits add nothing


@dataclass
class _Vars:
    """What a variable holds, as far as obfuscation is concerned."""

    decoded: set[str] = field(default_factory=set)
    datafile: set[str] = field(default_factory=set)
    params: set[str] = field(default_factory=set)


_HIDDEN_CALLS = {"python": frozenset({"__import__", "importlib.import_module", "import_module", "getattr",
                                      "builtins.getattr"}), "javascript": frozenset({"require"})}  # fmt: skip
_READS = frozenset({"open", "read_text", "read_bytes", "readFileSync", "readFile", "get_data"})
# The last name of every callee a finding can start from (decoders, data-file reads, exec and
# shell calls, name-building calls): any other call is passed over before its name is read.
_LEAVES = frozenset(
    _DECODERS | _PY_EXEC | _JS_EXEC | _READS | {"decode", "from"}
    | {name.rsplit(".", 1)[-1] for names in (_SHELL_EXEC, *_HIDDEN_CALLS.values()) for name in names}
)  # fmt: skip
_LEAF = re.compile(r"(?<![\w$])(?:" + "|".join(sorted(_LEAVES, key=len, reverse=True)) + r")(?![\w$])")
# A file can only hold a finding when one of these occurs in it: the names every rule needs (the
# exec and shell callees, the name-building calls) and the escapes of escaped-code-string.
_NEEDLES = {
    "python": ("exec", "eval", "compile", "run_path", "run_module", "FunctionType", "system", "popen",
               "subprocess", "spawn", "__import__", "import_module", "getattr", "\\x", "\\u"),
    "javascript": ("eval", "Function", "runIn", "Script", "setTimeout", "setInterval", "child_process",
                   "require", "\\x", "\\u"),
}  # fmt: skip


def _leaf_ends(text: str) -> set[int]:
    """Byte offsets where one of the `_LEAVES` names ends: a callee ending there may matter."""
    if text.isascii():
        return {m.end() for m in _LEAF.finditer(text)}
    return {end for _, end in byte_spans(text, _LEAF.finditer(text))}


def _callee_end(call: Node) -> int:
    func = call.child_by_field_name("function") or call.child_by_field_name("constructor")
    return func.end_byte if func is not None else -1


def _is_decoder(call: Node, name: str, lang: Lang) -> bool:
    leaf = name.rsplit(".", 1)[-1]
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


def _reads_data_ext(call: Node, name: str) -> bool:
    """`open("logo.png")`, `Path("x.json").read_text()`: a read of a data file."""
    if name.rsplit(".", 1)[-1] not in _READS:
        return False
    target = positional(call)[:1] or [call.child_by_field_name("function") or call]
    text = resolve(target[0]) or node_text(target[0])
    return bool(_DATA_EXT.search(text.strip("\"'` )")))


def _reversal(sub: Node) -> bool:
    return node_text(sub.child_by_field_name("subscript") or sub).replace(" ", "") == "::-1"


class _FileScan:
    """Which values are decoded or read from a data file: the decoder calls, reversals, data-file
    reads and the variables assigned from them are marked by position once (`Heat`), so asking
    about a value is a bisection, not a walk of it."""

    def __init__(self, ctx: FileContext, lang: Lang, ix: FileIndex) -> None:
        self.ctx = ctx
        self.lang = lang
        self.ix = ix
        self.v = _Vars()
        self.child_process = "child_process" in ctx.source
        ends = _leaf_ends(ctx.source)
        self.calls = [(c, callee(c)) for c in ix.bucket("call") if _callee_end(c) in ends]
        self.decoders = Heat(None)  # decoder calls, `[::-1]` reversals, variables holding them
        self.decoders.add(c.start_byte for c, name in self.calls if _is_decoder(c, name, lang))
        self.decoders.add(
            n.start_byte for n in ix.bucket("subscript") if n.type == "subscript" and _reversal(n)
        )
        self.datafile = Heat(None)  # data-file reads and variables holding them
        self.datafile.add(c.start_byte for c, name in self.calls if _reads_data_ext(c, name))

    def taint_vars(self) -> None:
        for fn in self.ix.bucket("function"):
            params = fn.child_by_field_name("parameters")
            for p in params.named_children if params is not None else []:
                ident = (
                    p
                    if p.type == "identifier"
                    else next((c for c in p.named_children if c.type == "identifier"), None)
                )
                if ident is not None and node_text(ident) not in {"self", "cls"}:
                    self.v.params.add(node_text(ident))
        bindings: list[tuple[str, Node]] = []
        for i in sorted(self.ix.indices("assign") + self.ix.indices("as")):
            n = self.ix.nodes[i]
            left = (
                n.child_by_field_name("left")
                or n.child_by_field_name("name")
                or n.child_by_field_name("alias")
            )
            right = n.child_by_field_name("right") or n.child_by_field_name("value")
            if n.type == "as_pattern":
                right = n.named_children[0] if n.named_children else None
            if left is not None and right is not None and left.type == "identifier":
                bindings.append((node_text(left), right))
        for _ in range(2):  # twice: a use may come before its definition in file order
            for name, right in bindings:
                if name not in self.v.decoded and self.decoded(right):
                    self.v.decoded.add(name)
                    self.decoders.add(self._identifiers(name))
                if name not in self.v.datafile and self.reads_data_file(right):
                    self.v.datafile.add(name)
                    self.datafile.add(self._identifiers(name))

    def _identifiers(self, name: str) -> list[int]:
        nodes = self.ix.nodes
        found = self.ix.names_by_text().get(name, [])
        return [nodes[i].start_byte for i in found if nodes[i].type == "identifier"]

    def _mentions(self, node: Node, names: set[str]) -> bool:
        return bool(names) and any(n.type == "identifier" and node_text(n) in names for n in walk(node, 2000))

    def decoded(self, node: Node) -> bool:
        """The value is produced by a decoder (directly, through a decoded variable, or a reversal)."""
        return self.decoders.under(node)

    def reads_data_file(self, node: Node) -> bool:
        return self.datafile.under(node)

    def hits(self, admit: Callable[[str, int], bool]) -> Iterator[Hit]:
        """Findings in document order per rule; `admit(rule, line)` says whether one is still
        listed (a capped rule's matches cost no evidence text)."""
        for call, name in self.calls:
            found = self._finding(call, name)
            if found is not None and admit(found[0], line := _line(call)):
                yield Hit(found[0], line, node_text(call), found[1])
        for n in self.ix.bucket("string"):
            if n.end_byte - n.start_byte > 40:
                raw = node_text(n)
                if _ESCAPES.search(raw):
                    decoded = _unescape(raw)
                    if decoded and _CODE_WORDS.search(decoded) and admit("escaped-code-string", _line(n)):
                        yield Hit(
                            "escaped-code-string",
                            _line(n),
                            raw[:120],
                            f"Escaped string spells code: {decoded[:80]}",
                        )

    def _finding(self, call: Node, name: str) -> tuple[str, str] | None:
        """(rule, message) of a call, if any."""
        leaf = name.rsplit(".", 1)[-1]
        execs = _PY_EXEC if self.lang is PY else _JS_EXEC
        is_exec = leaf in execs and (
            self.lang is JS or "." not in name or name.startswith(("runpy.", "types.", "builtins."))
        )
        is_shell = name in _SHELL_EXEC and (self.lang is PY or self.child_process)
        if not (is_exec or is_shell or name in _HIDDEN_CALLS[self.lang.name]):
            return None
        args = positional(call)
        if (is_exec or is_shell) and args:
            first = args[0]
            if self.reads_data_file(first):
                return "exec-data-file", f"{name}() runs code read from a data file"
            if self.decoded(first):
                return "obfuscated-exec", f"{name}() runs decoded data"
            if is_exec and self.lang is PY and leaf in {"exec", "eval"} and self._from_params(first):
                return "eval-of-input", f"{name}() runs a function argument as code"
        hidden = self._hidden_name(call, name, leaf, args)
        if hidden:
            return "hidden-dangerous-name", f"Builds the name {hidden!r} so no literal shows it"
        return None

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
        lang = PY if ctx.file.kind is FileKind.PYTHON else JS
        if tree is None or not any(n in ctx.source for n in _NEEDLES[lang.name]):
            return
        ix = FileIndex.of(ctx, lang)  # the flow checks reuse this walk
        if ix is None:
            return
        scan = _FileScan(ctx, lang, ix)
        scan.taint_vars()
        cap = FindingCap(MAX_HITS_PER_RULE)
        yield from scan.hits(lambda rule, line: cap.admit(rule, ctx.file.path, line))


CHECKS = [Obfuscation()]
