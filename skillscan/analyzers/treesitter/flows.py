"""Credential flows in Python and JavaScript/TypeScript: a secret read reaching a network send,
within a file and across the files of a skill.

A small taint analysis over all scripts of one language at once (so `collector.py` reading
`~/.aws/credentials`, `encoder.py` wrapping it and `reporter.py` posting it are one flow):
sources are secret-file reads (`open`, `read_text`, `readFileSync` of SSH keys, cloud credentials,
OpenClaw config, wallets, …), the whole environment (`os.environ.items()`, `{...process.env}`),
single credential variables and keychain reads; taint follows assignments, loops, `with … as`,
function returns and arguments (by function name, across files) and files written by one script
and read by another. Sinks are HTTP clients, sockets, mail and DNS lookups (findings in
`flow_findings.py`).

Kept linear and cheap: each file is walked once (`flow_index`), each call's name, send and secret
read are computed once, path variables settle before taint, a language with no send or no source
skips the taint rounds, and a value with no tainted leaf beneath it is dismissed by bisection.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tree_sitter import Node

from skillscan.analyzers.treesitter.flow_facts import Facts
from skillscan.analyzers.treesitter.flow_findings import Findings
from skillscan.analyzers.treesitter.flow_index import FileIndex, Scopes, Spans, Unit
from skillscan.analyzers.treesitter.flow_model import (
    FIELD_STORES,
    JS,
    PY,
    Lang,
    Source,
    mentions_keychain,
    source_features,
)
from skillscan.analyzers.treesitter.flow_syntax import (
    assign_sides,
    bound_keys,
    param_names,
    path_value,
    receiver_of,
)
from skillscan.analyzers.treesitter.flow_taint import RANK, SINGLE, Taint
from skillscan.analyzers.treesitter.parsing import node_text
from skillscan.analyzers.treesitter.registry import FileContext, FindingCap, Hit, SkillContext

# Calls whose result still is (an encoding of) their argument.
_TRANSFORMS = frozenset(
    {"str", "String", "format", "encode", "decode", "b64encode", "urlsafe_b64encode", "b32encode", "hexlify",
     "dumps", "stringify", "join", "concat", "replace", "strip", "trim", "upper", "lower", "toUpperCase",
     "toLowerCase", "bytes", "from", "toString", "encodeURIComponent", "encodeURI", "quote", "quote_plus",
     "urlencode", "btoa", "escape", "hex", "compress", "dict", "list", "tuple", "Object.assign", "assign",
     "update", "copy", "slice", "substring", "substr", "split"}
)  # fmt: skip
_WRITES = frozenset(
    {"write_text", "write_bytes", "writeFileSync", "writeFile", "appendFileSync", "appendFile"}
)
MAX_ROUNDS = 6
MAX_HITS_PER_RULE_FILE = 20  # a file with thousands of identical sends is reported, not listed
MAX_EXPR_NODES = 3000
MAX_VALUE_DEPTH = 80  # levels of one value followed (recursion)
MAX_BACKWARD_CHECKS = 200_000  # per round; past it every change counts as reaching back
# (kind: bind | return | call, value, start byte, end byte, scope, bound target | function name)
_Step = tuple[str, Node, int, int, str, Any]


class _Engine(Facts):
    """Taint over the scripts of one language: rounds over their statements until nothing new is
    tainted, each value judged by walking only what may carry a secret (`Heat`)."""

    def __init__(self, units: list[Unit]) -> None:
        super().__init__(units)
        self.t = Taint()
        # per-round memo of source() by node id: every node is judged once per round (linear)
        self._memo: dict[int, Source | None] = {}
        self._steps: dict[int, list[_Step]] = {}  # per unit (id): its statements, worked out once
        # start bytes of the nodes that mention a tainted (table, name), per unit
        self._mentions: dict[tuple[str, str], dict[int, list[int]]] = {}
        self._by_leaf: dict[int, dict[str, list[int]]] = {}  # per unit (id): call starts by callee leaf
        # this round: the values looked at so far, per unit (id), and whether a later change
        # reached back into one of them (only then can another round change anything)
        self._looked: dict[int, Spans] = {}
        self._again = False
        self._work = 0

    # --- taint propagation -------------------------------------------------------------
    def needs_taint(self) -> bool:
        """Taint can only matter when some file sends and some value is a secret; then the static
        secrets are heated (`Heat`) and the rounds run."""
        if not any(self.sink(c, u) is not None for u in self.units for c in u.ix.bucket("call")):
            return False
        found = False
        for u in self.units:
            starts = [n.start_byte for n in u.ix.bucket("call") if self.env(n, u) or self.read(n, u)]
            starts += [n.start_byte for n in u.ix.bucket("member") if self.env(n, u)]
            for n in u.ix.bucket("subscript"):
                value = n.child_by_field_name("value") or n.child_by_field_name("object") or n
                if self.env(value, u):
                    starts.append(n.start_byte)
            u.heat.add(starts)
            found = found or bool(starts)
        return found

    def run(self) -> None:
        """Rounds until nothing changes. A round ends the fixed point early when every change it
        made was to names no value already looked at in that round mentions: the rest of the round
        saw them, so another round would only confirm."""
        self.t.on_add = self._changed
        for _ in range(MAX_ROUNDS):
            self.t.changed = self._again = False
            self._looked = {}
            self._work = 0
            for u in self.units:
                self._memo.clear()
                self._looked[id(u)] = Spans()
                self._round(u)
            if not self.t.changed or not self._again:
                break
        self._looked = {}
        self._memo.clear()

    def _changed(self, table: str, key: str) -> None:
        """A new or worse tainted name, function or staging file: heat the nodes that mention it,
        and note whether a value this round already looked at mentions it."""
        bare = key.rsplit(":", 1)[-1] if table == "names" else key
        mentions = self._mentions.get((table, bare))
        if mentions is None:
            mentions = self._mentions[(table, bare)] = self._find_mentions(table, bare)
            for u in self.units:
                u.heat.add(mentions.get(id(u), []))
        if self._again:
            return
        for uid, looked in self._looked.items():
            positions = mentions.get(uid, [])
            self._work += len(positions)
            if self._work > MAX_BACKWARD_CHECKS or looked.hits(positions):
                self._again = True  # (past the budget: assume it did)
                return

    def _find_mentions(self, table: str, bare: str) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for u in self.units:
            if table == "names":
                found[id(u)] = [u.ix.nodes[i].start_byte for i in u.ix.names_by_text().get(bare, [])]
            elif table == "functions":
                found[id(u)] = self._calls_by_leaf(u).get(bare, [])
        if table == "staged":
            for u, c in self._staging_reads().get(bare, []):
                found.setdefault(id(u), []).append(c.start_byte)
        return found

    def _calls_by_leaf(self, u: Unit) -> dict[str, list[int]]:
        """Start bytes of a unit's calls by the last name of their callee (made once: every newly
        tainted function would otherwise scan every call)."""
        found = self._by_leaf.get(id(u))
        if found is None:
            found = self._by_leaf[id(u)] = {}
            for c in u.ix.bucket("call"):
                found.setdefault(self.leaf(c), []).append(c.start_byte)
        return found

    def _round(self, u: Unit) -> None:
        steps = self._steps.get(id(u))
        if steps is None:
            steps = self._steps[id(u)] = list(self._steps_of(u))
        heat, looked = u.heat, self._looked[id(u)]
        for kind, value, start, end, scope, target in steps:
            if kind == "call":
                if heat.hot(start, end):
                    self._call(value, u, scope)
                else:
                    looked.add(start, end)
                continue
            looked.add(start, end)
            if not heat.hot(start, end):
                continue
            src = self._walk_source(value, u, scope, [MAX_EXPR_NODES], 0)
            if not src:
                continue
            if kind == "return":
                self.t.add("functions", target, src)
            else:
                for key in bound_keys(target, u.lang, scope):
                    self.t.add("names", key, src)

    def _steps_of(self, u: Unit) -> Iterator[_Step]:
        """What each statement of a unit contributes to a round, worked out once: (kind, the value
        looked at, its byte range, the scope it is read in, where its secret goes: the bound
        target, or the name of the function it returns from)."""
        for i, kind in u.ix.statements:
            n = u.ix.nodes[i]
            scope = u.scopes.of[i]
            target: Node | str | None = None
            value: Node | None = None
            if kind == "assign":
                target, value = assign_sides(n)
            elif kind == "loop":
                target, value = n.child_by_field_name("left"), n.child_by_field_name("right")
            elif kind == "as":
                target = n.child_by_field_name("alias")
                value = n.named_children[0] if n.named_children else None
            elif kind == "return":
                value = n.named_children[0] if n.named_children else None
                owner = u.scopes.owner.get(i)
                target = u.scopes.names.get(owner) if owner is not None else None
            elif kind == "arrow":
                body = n.child_by_field_name("body")
                value = body if body is not None and body.type != "statement_block" else None
                target = u.scopes.names.get(i)
                scope = target or u.path  # the body is inside the arrow function
                kind = "return"
            else:  # a call: it only passes taint on into the skill's own functions and file writes
                leaf = self.leaf(n)
                if leaf in self.functions or leaf in _WRITES:
                    yield kind, n, n.start_byte, n.end_byte, scope, None
                continue
            if value is not None and target is not None:  # else nothing can come of it
                yield kind, value, value.start_byte, value.end_byte, scope, target

    def _call(self, call: Node, u: Unit, scope: str) -> None:
        """Arguments into parameters of known functions; writes of secrets into staging files."""
        name = self.leaf(call)
        args = self.positional(call)
        tainted = [(i, s) for i, a in enumerate(args) if (s := self.source(a, u, scope))]
        if not tainted:
            return
        for fu, fn in self.functions.get(name, []):
            params = param_names(fn, fu.lang)
            for i, src in tainted:
                if i < len(params):
                    self.t.add("names", f"{name}:{params[i]}", src)
        if name in _WRITES:
            target = args[0] if name.startswith(("writeFile", "appendFile")) else receiver_of(call)
            dest = path_value(target, self.constants)
            if dest:
                self.t.add("staged", dest, tainted[-1][1])

    def source(self, node: Node | None, u: Unit, scope: str) -> Source | None:
        """The worst secret a value expression carries, if any."""
        if node is None:
            return None
        self._look(node, u)
        if not u.heat.under(node):
            return None
        return self._walk_source(node, u, scope, [MAX_EXPR_NODES], 0)

    def _look(self, node: Node, u: Unit) -> None:
        looked = self._looked.get(id(u))
        if looked is not None:
            looked.add(node.start_byte, node.end_byte)

    def _walk_source(self, n: Node, u: Unit, scope: str, budget: list[int], depth: int) -> Source | None:
        if n.id in self._memo:
            return self._memo[n.id]
        if not u.heat.under(n):
            return None  # nothing tainted beneath: no walk, no budget spent
        budget[0] -= 1
        if depth > MAX_VALUE_DEPTH:  # something tainted lies deeper: say so, never pass it as clean
            u.fctx.fall_short(
                "flow-depth",
                f"a value nested over {MAX_VALUE_DEPTH} levels deep was not followed for secrets",
            )
            return None
        if budget[0] < 0:
            return None
        result = self._walk_source_uncached(n, u, scope, budget, depth)
        self._memo[n.id] = result
        return result

    def _walk_source_uncached(
        self, n: Node, u: Unit, scope: str, budget: list[int], depth: int
    ) -> Source | None:
        found, descend = self._source_here(n, u, scope)
        if (found is not None and RANK[found.kind] >= 5) or not descend:
            return found
        best = found
        for c in n.named_children:  # a token carries nothing
            sub = self._walk_source(c, u, scope, budget, depth + 1)
            if sub is None:
                continue
            # one key handed to a client or API call does not come back out of it: only string
            # transforms and the skill's own functions carry a single key through a call
            if n.type in u.lang.call and sub.kind in SINGLE and not self._carries(n):
                continue
            if best is None or RANK[sub.kind] > RANK[best.kind]:
                best = sub
                if RANK[best.kind] >= 5:
                    break
        return best

    def _carries(self, call: Node) -> bool:
        leaf = self.leaf(call)
        return leaf in _TRANSFORMS or leaf in self.functions

    def _source_here(self, n: Node, u: Unit, scope: str) -> tuple[Source | None, bool]:
        """(secret carried by this node, whether its children still need a look)."""
        t = n.type
        if t == "identifier":
            name = node_text(n)
            return self.t.names.get(f"{scope}:{name}") or self.t.names.get(f"{u.path}:{name}"), False
        field = self._field_of_store(n, u, scope)
        if field is not None:
            return field, False
        if t == u.lang.member:
            attr = n.child_by_field_name(u.lang.member_field)
            found = self.t.names.get(f"attr:{node_text(attr)}") if attr is not None else None
            return found or self.env(n, u), True
        if t in u.lang.call:
            if self.sink(n, u) is not None:
                return None, False  # a response is not the secret that went into the request
            leaf = self.leaf(n)
            found = self.t.functions.get(leaf) or self.env(n, u) or self.read(n, u)
            if found is None and self.t.staged and leaf not in {"write_text", "writeFileSync", "writeFile"}:
                for value in self._arg_values(n):
                    if value in self.t.staged:
                        return self.t.staged[value], True
            return found, True
        if t in {"subscript", "subscript_expression"}:
            return self.env(n.child_by_field_name("value") or n.child_by_field_name("object") or n, u), True
        return None, True

    def _field_of_store(self, n: Node, u: Unit, scope: str) -> Source | None:
        """`cfg["skills"]["x"]["apiKey"]`, `cfg.get("token")`, `env.OPENAI_KEY`: one named value out of a
        config store (OpenClaw config, .env) is a single key the skill uses, not the store itself."""
        base: Node | None = None
        if n.type in {"subscript", "subscript_expression", u.lang.member}:
            base = n.child_by_field_name("value") or n.child_by_field_name("object")
        elif n.type in u.lang.call:
            func = n.child_by_field_name("function")
            if func is not None and func.type == u.lang.member and self.leaf(n) in {"get", "getenv"}:
                base = func.child_by_field_name("object")
        if base is None or base.type in {"subscript", "subscript_expression", u.lang.member, *u.lang.call}:
            inner = self._field_of_store(base, u, scope) if base is not None else None
            return inner
        if base.type != "identifier":
            return None
        name = node_text(base)
        src = self.t.names.get(f"{scope}:{name}") or self.t.names.get(f"{u.path}:{name}")
        if src is not None and src.label in FIELD_STORES:
            return Source("field", f"a value from {src.label}")
        return None


def _unit(fctx: FileContext, lang: Lang) -> Unit | None:
    ix = FileIndex.of(fctx, lang) if fctx.file.kind in lang.kinds else None
    if ix is None:
        return None
    text = fctx.source
    return Unit(
        fctx=fctx,
        lang=lang,
        ix=ix,
        text=text,
        features=source_features(text),
        keychain=mentions_keychain(text),
        env_words="env" in text,  # os.environ, getenv, process.env
        scopes=Scopes.sweep(ix, fctx.file.path),
    )


class CredentialFlows:
    """Skill check: secret reads reaching network sends, per language, across files."""

    def check_skill(self, ctx: SkillContext) -> Iterable[Hit]:
        cap = FindingCap(MAX_HITS_PER_RULE_FILE)
        for lang in (PY, JS):
            units = [u for f in ctx.files if (u := _unit(f, lang)) is not None]
            if units:
                engine = _Engine(units)
                engine.settle_paths()
                if engine.needs_taint():
                    engine.run()
                yield from Findings(engine, ctx.threat).hits(cap.admit)


CHECKS = [CredentialFlows()]
