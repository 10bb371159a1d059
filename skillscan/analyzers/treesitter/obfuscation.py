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

Cost: the text says where the names of decoders, data-file reads and sinks can end a callee
(`call_sites`); only those calls are read, in document order, and a value is asked whether it is
decoded only when a sink needs to know. A sink is skipped when nothing it could be fed from
exists in the file, and a flood of real critical hits stops once a report's worth is listed
(`FileContext.saturate`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator

from tree_sitter import Node

from skillscan.analyzers.treesitter.call_sites import (
    CONSTANT_FIRST,
    CONSTANT_SECOND,
    NAMED_FIRST,
    NAMED_SECOND,
    NOT_CALLED,
    CallSites,
    Words,
    present,
    word_spans,
)
from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.escaped_strings import escape_runs, escaped_code_strings
from skillscan.analyzers.treesitter.flow_index import Heat
from skillscan.analyzers.treesitter.flow_model import JS, PY, Lang, plain_callee, positional
from skillscan.analyzers.treesitter.obfuscation_words import (
    DANGEROUS_NAMES,
    DECODING,
    HIDDEN_CALLS,
    HIDING,
    HIDING_SECOND,
    JS_EXEC,
    PY_EXEC,
    READS,
    REVERSAL_TEXT,
    RUNNING,
    SHELL_EXEC,
    SHELL_LEAVES,
    is_decoder,
    is_reversal,
    reads_data_ext,
)
from skillscan.analyzers.treesitter.parsing import byte_spans, node_text, walk
from skillscan.analyzers.treesitter.registry import (
    MAX_FINDINGS_PER_RULE_FILE,
    FileContext,
    FindingCap,
    Hit,
    saturating_rules,
)
from skillscan.analyzers.treesitter.syntax_walk import Walk, shared_walk
from skillscan.models import FileKind

MAX_HITS_PER_RULE = MAX_FINDINGS_PER_RULE_FILE  # per file: thousands of identical hits add nothing
_FEEDING = 1  # the role bit of the decoders and reads among the words looked for (`call_sites.Words`)
_WORD_SEARCHES = 8  # decoded variables found by a search of the text each; beyond, by an index
# A file can only hold a finding when one of these occurs in it: the names every rule needs (the
# exec and shell callees, the name-building calls) and the escapes of escaped-code-string.
_NEEDLES = {
    "python": ("exec", "eval", "compile", "run_path", "run_module", "FunctionType", "system", "popen",
               "subprocess", "spawn", "__import__", "import_module", "getattr", "\\x", "\\u"),
    "javascript": ("eval", "Function", "runIn", "Script", "setTimeout", "setInterval", "child_process",
                   "require", "\\x", "\\u"),
}  # fmt: skip


class _FileScan:
    """One file's calls that matter, read in document order (`CallSites`): decoder calls,
    `[::-1]` reversals and the variables assigned from them mark where decoded values lie, data-file
    reads likewise (`Heat`, by position: asking about a value is a bisection, not a walk of it).
    Those marks are made as the sweep reaches them; a question about a value first lets the
    sweep pass its end."""

    def __init__(self, ctx: FileContext, lang: Lang, walk: Walk) -> None:
        self.ctx = ctx
        self.lang = lang
        self.walk = walk
        self.decoded_vars: set[str] = set()
        self.datafile_vars: set[str] = set()
        source = ctx.source
        self.child_process = "child_process" in source
        self.decoders = Heat(None)  # decoder calls, `[::-1]` reversals, variables holding them
        self.datafile = Heat(None)  # data-file reads and variables holding them
        feeding = present(source, DECODING[lang.name] | READS)
        self.reversals = self._reversals() if lang is PY else []
        self.decoders.add(self.reversals)
        # Where a decoded or data-file value can come from: without any, no sink can be fed one.
        self.feeding = Words(source, [(feeding, NOT_CALLED)])
        self.feeds = bool(self.reversals) or self.feeding.first_from(0) is not None
        self.functions = walk.select(lang.functions) if lang is PY else []
        groups = [
            (feeding, NOT_CALLED),
            # a name hidden by a call: built from literals, or decoded (a bare name is neither,
            # unless it can hold a decoded value)
            (HIDING[lang.name] - HIDING_SECOND, NOT_CALLED + (CONSTANT_FIRST if self.feeds else NAMED_FIRST)),
            (
                HIDING[lang.name] & HIDING_SECOND,
                NOT_CALLED + (CONSTANT_SECOND if self.feeds else NAMED_SECOND),
            ),
        ]
        if self.feeds or self.functions:  # else no exec(…) can run anything decoded or any parameter
            running = RUNNING[lang.name] | (SHELL_LEAVES if self.child_process else frozenset())
            groups.append((running, NOT_CALLED + CONSTANT_FIRST))
        self.words = Words(source, groups)
        self.sites = CallSites(walk.nodes, walk.select(lang.call), self.words)
        self._read = 0  # sites taken from `self.sites.found` so far
        self.sinks: list[tuple[Node, int]] = []  # calls that can run or hide something, in order
        self._params: set[str] | None = None
        self._identifier_ends: dict[int, int] | None = None
        self._identifiers_by_text: dict[str, list[int]] | None = None
        self.escapes = escape_runs(source)

    def _reversals(self) -> list[int]:
        """Start bytes of the `x[::-1]` subscripts (only those around a `::-1` of the text are read)."""
        found = [m.start() for m in REVERSAL_TEXT.finditer(self.ctx.source)]
        if not found:
            return []
        if not self.ctx.source.isascii():
            found = [s for s, _ in byte_spans(self.ctx.source, REVERSAL_TEXT.finditer(self.ctx.source))]
        out = []
        for i in self.walk.select(frozenset({"subscript"})):
            n = self.walk.nodes[i]
            k = bisect_left(found, n.start_byte)
            if k < len(found) and found[k] < n.end_byte and is_reversal(n):
                out.append(n.start_byte)
        return out

    def _discover(self, until: int | None = None, one: bool = False) -> None:
        """Let the sweep pass byte `until` (or find one more call); mark what it found."""
        self.sites.advance(until, one)
        found, words, lang = self.sites.found, self.words, self.lang
        decoders, reads = [], []
        while self._read < len(found):
            call, k = found[self._read]
            self._read += 1
            if words.roles[k] & _FEEDING:
                word, name = words.names[k], plain_callee(call)
                if word in DECODING[lang.name] and is_decoder(call, name, lang):
                    decoders.append(call.start_byte)
                if word in READS and reads_data_ext(call, name):
                    reads.append(call.start_byte)
            if words.roles[k] & ~_FEEDING:
                self.sinks.append((call, k))
        if decoders:
            self.decoders.add(decoders)
        if reads:
            self.datafile.add(reads)

    @property
    def params(self) -> set[str]:
        """Parameter names of the file's functions (for eval-of-input), read on first use."""
        if self._params is None:
            self._params = set()
            for i in self.functions:
                params = self.walk.nodes[i].child_by_field_name("parameters")
                for p in params.named_children if params is not None else []:
                    ident = (
                        p
                        if p.type == "identifier"
                        else next((c for c in p.named_children if c.type == "identifier"), None)
                    )
                    if ident is not None and node_text(ident) not in {"self", "cls"}:
                        self._params.add(node_text(ident))
        return self._params

    def taint_vars(self) -> None:
        """Variables assigned a decoded value or a data-file read (only assignments with such a
        source, or such a variable, inside them are read)."""
        if not self.feeds:
            return
        nodes, feeding = self.walk.nodes, self.feeding
        spans = [
            (i, n.start_byte, n.end_byte)
            for i in self.walk.select(self.lang.assign | {"as_pattern"})
            for n in (nodes[i],)
        ]
        bindings: dict[int, tuple[str, Node] | None] = {}
        for _ in range(2):  # twice: a use may come before its definition in file order
            for i, start, end in spans:
                k = feeding.first_from(start)
                if not (k is not None and feeding.starts[k] < end) and not (
                    self.decoders.hot(start, end) or self.datafile.hot(start, end)
                ):
                    continue
                if i not in bindings:
                    bindings[i] = _binding(nodes[i])
                found = bindings[i]
                if found is None:
                    continue
                name, right = found
                if name not in self.decoded_vars and self.decoded(right):
                    self.decoded_vars.add(name)
                    self.decoders.add(self._identifiers(name))
                if name not in self.datafile_vars and self.reads_data_file(right):
                    self.datafile_vars.add(name)
                    self.datafile.add(self._identifiers(name))

    def _identifiers(self, name: str) -> list[int]:
        """Start bytes of the walked identifiers spelled `name`: the name's words in the text that
        an identifier starts and ends at, or, past a few names, from an index of every identifier."""
        nodes, found = self.walk.nodes, self.walk.by_type.get("identifier", [])
        if (
            self._identifiers_by_text is not None
            or len(self.decoded_vars | self.datafile_vars) > _WORD_SEARCHES
        ):
            if self._identifiers_by_text is None:
                self._identifiers_by_text = {}
                for i in found:
                    self._identifiers_by_text.setdefault(node_text(nodes[i]), []).append(nodes[i].start_byte)
            return self._identifiers_by_text.get(name, [])
        if self._identifier_ends is None:
            self._identifier_ends = {n.start_byte: n.end_byte for i in found for n in (nodes[i],)}
        ends = self._identifier_ends
        return [s for s, e, _ in word_spans(self.ctx.source, [name]) or [] if ends.get(s) == e]

    def decoded(self, node: Node) -> bool:
        """The value is produced by a decoder (directly, through a decoded variable, or a reversal)."""
        return self._hot(self.decoders, node)

    def reads_data_file(self, node: Node) -> bool:
        return self._hot(self.datafile, node)

    def _hot(self, heat: Heat, node: Node) -> bool:
        if heat.under(node):
            return True
        if not self.feeds or self.sites.done:  # no source of either kind, or all marked
            return False
        self._discover(node.end_byte)
        return heat.under(node)

    def _mentions(self, node: Node, names: set[str]) -> bool:
        return bool(names) and any(n.type == "identifier" and node_text(n) in names for n in walk(node, 2000))

    def hits(self, admit: Callable[[str, int], bool], saturate: Callable[[str], None]) -> Iterator[Hit]:
        """Findings in document order per rule; `admit(rule, line)` says whether one is still
        listed (a capped rule's matches cost no evidence text). Once a critical rule is listed
        in full (`saturating_rules`), the rest of the file is left (`saturate`)."""
        listed: dict[str, int] = {}
        critical = saturating_rules()
        i = 0
        while True:
            if i == len(self.sinks):
                if self.sites.done:
                    break
                self._discover(one=True)
                continue
            call, k = self.sinks[i]
            i += 1
            found = self._finding(call, plain_callee(call))  # `cp?.exec(…)` is `cp.exec(…)`
            if found is None or not admit(found[0], line := _line(call)):
                continue
            yield Hit(found[0], line, node_text(call), found[1])
            listed[found[0]] = n = listed.get(found[0], 0) + 1
            if found[0] in critical and n >= MAX_HITS_PER_RULE and self._more_after(i, call, k):
                saturate(found[0])
                return
        if self.escapes is not None:
            yield from escaped_code_strings(self.walk, self.escapes, admit)

    def _more_after(self, i: int, call: Node, k: int) -> bool:
        """Whether anything after the `i`-th sink (`call`, named at `k`) could still be found."""
        if i < len(self.sinks) or self.escapes is not None:
            return True
        words = self.words
        j = words.first_from(call.start_byte + 1)
        while j is not None:
            if j != k and words.roles[j] & ~_FEEDING:
                return True
            j = words.first_from(words.starts[j] + 1)
        return False

    def _finding(self, call: Node, name: str) -> tuple[str, str] | None:
        """(rule, message) of a call, if any."""
        leaf = name.rsplit(".", 1)[-1]
        execs = PY_EXEC if self.lang is PY else JS_EXEC
        is_exec = leaf in execs and (
            self.lang is JS or "." not in name or name.startswith(("runpy.", "types.", "builtins."))
        )
        is_shell = name in SHELL_EXEC and (self.lang is PY or self.child_process)
        if not (is_exec or is_shell or name in HIDDEN_CALLS[self.lang.name]):
            return None
        if (is_exec or is_shell) and not (
            # nothing decoded or read from a data file anywhere in the call, no parameter to run
            self.decoded(call)
            or self.reads_data_file(call)
            or (is_exec and self.lang is PY and leaf in {"exec", "eval"} and self.params)
        ):
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
            return node_text(node) in self.params
        if node.type == "string" and any(c.type == "interpolation" for c in node.named_children):
            return self._mentions(node, self.params)
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
        if value is not None and value.strip() in DANGEROUS_NAMES:
            return value.strip()
        return None


def _binding(n: Node) -> tuple[str, Node] | None:
    """(name, value) of an assignment to a plain name, or of `with … as name`."""
    left = n.child_by_field_name("left") or n.child_by_field_name("name") or n.child_by_field_name("alias")
    right = n.child_by_field_name("right") or n.child_by_field_name("value")
    if n.type == "as_pattern":
        right = n.named_children[0] if n.named_children else None
    if left is not None and right is not None and left.type == "identifier":
        return node_text(left), right
    return None


def _escaped(node: Node) -> bool:
    return "\\x" in node_text(node) or "\\u" in node_text(node)


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
        walk = shared_walk(ctx)
        if walk is None:
            return
        scan = _FileScan(ctx, lang, walk)
        scan.taint_vars()
        cap = FindingCap(MAX_HITS_PER_RULE)
        yield from scan.hits(
            lambda rule, line: cap.admit(rule, ctx.file.path, line),
            lambda rule: ctx.saturate(type(self).__name__, rule),
        )


CHECKS = [Obfuscation()]
