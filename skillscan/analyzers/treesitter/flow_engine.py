"""The taint engine of the flow checks: rounds over the statements of the scripts of one language
until nothing new is tainted, each value judged by walking only what may carry a secret (`Heat`).

Statements are looked at only where heat lies (a secret read, an environment read, a tainted
name, a tainted function's call may be there), and worked out on first use. A round after the
first works out again only the values that read an entry changed since they were last worked out
(a name where its scope can read it: its function's, or its file's top level).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from tree_sitter import Node

from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.flow_env import (
    ENV_METHODS,
    canonical,
    key_of,
    member_source,
    pattern_sources,
)
from skillscan.analyzers.treesitter.flow_heat import WRITES, Heating
from skillscan.analyzers.treesitter.flow_index import BINDINGS, Heat, Spans
from skillscan.analyzers.treesitter.flow_model import FIELD_STORES, Source
from skillscan.analyzers.treesitter.flow_syntax import (
    assign_sides,
    bound_keys,
    param_names,
    path_value,
    receiver_of,
)
from skillscan.analyzers.treesitter.flow_taint import RANK, SINGLE, Taint
from skillscan.analyzers.treesitter.flow_unit import MAX_WORDS, Unit
from skillscan.analyzers.treesitter.parsing import node_text

# Calls whose result still is (an encoding of) their argument.
_TRANSFORMS = frozenset(
    {"str", "String", "format", "encode", "decode", "b64encode", "urlsafe_b64encode", "b32encode", "hexlify",
     "dumps", "stringify", "join", "concat", "replace", "strip", "trim", "upper", "lower", "toUpperCase",
     "toLowerCase", "bytes", "from", "toString", "encodeURIComponent", "encodeURI", "quote", "quote_plus",
     "urlencode", "btoa", "escape", "hex", "compress", "dict", "list", "tuple", "Object.assign", "assign",
     "update", "copy", "slice", "substring", "substr", "split"}
)  # fmt: skip
# Reads of a file object (`open(p).read()`, `Path(p).read_text()`): what was staged in the file
# (`WRITES`) comes back out of them.
_READS_BACK = frozenset({"read", "read_text", "read_bytes", "readline", "readlines"})
_NAMES = frozenset({"identifier", "shorthand_property_identifier"})  # a name read (`{key}` reads key)
MAX_ROUNDS = 6
MAX_HITS_PER_RULE_FILE = 20  # a file with thousands of identical sends is reported, not listed
MAX_EXPR_NODES = 3000
MAX_VALUE_DEPTH = 80  # levels of one value followed (recursion)
MAX_BACKWARD_CHECKS = 200_000  # per round; past it every change counts as reaching back
# A statement of a round: [kind, node index, start byte, end byte, worked out?, (value, scope,
# bound target | function name) once worked out]. Until it is, its whole byte range stands in for
# its value's (heat and the ranges looked at are then a superset).
_Step = list[Any]


class Engine(Heating):
    """Taint over the scripts of one language: rounds over their statements until nothing new is
    tainted, each value judged by walking only what may carry a secret (`Heat`)."""

    def __init__(self, units: list[Unit], constants: dict[str, str]) -> None:
        super().__init__(units, constants)
        self.t = Taint()
        # per-round memo of source() by node id: every node is judged once per round (linear)
        self._memo: dict[int, Source | None] = {}
        self._steps: dict[int, list[_Step]] = {}  # per unit (id): its statements
        # where a tainted (table, name) is mentioned, per unit
        self._mentions: dict[tuple[str, str], dict[int, list[int]]] = {}
        # this round: the values looked at so far, per unit (id), and whether a later change
        # reached back into one of them (only then can another round change anything)
        self._looked: dict[int, Spans] = {}
        self._again = False
        self._work = 0
        # per unit (id), where the entries that changed are read (`_reading`): this round, this
        # round behind a value already looked at, and the round before behind one (None in the
        # first round: there, every value is new). A later round works out again only the values
        # that read one (`_stale`): the others would hand on what they handed on before.
        self._moved: dict[int, Heat] = {}
        self._behind: dict[int, Heat] = {}
        self._behind_before: dict[int, Heat] | None = None
        self._moved_keys: set[tuple[str, str]] = set()
        self._unit_at = {u.path: id(u) for u in units}  # path -> unit (id): a top-level name's scope

    # --- taint propagation -------------------------------------------------------------
    def run(self) -> None:
        """Rounds until nothing changes. A round ends the fixed point early when every change it
        made was to entries no value already looked at in that round reads: the rest of the round
        saw them, so another round would only confirm."""
        self.t.on_add = self._changed
        for first in [True] + [False] * (MAX_ROUNDS - 1):
            self.t.changed = self._again = False
            self._looked = {}
            self._work = 0
            self._behind_before = None if first else self._behind
            self._moved = {id(u): Heat(u.ix.horizon) for u in self.units}
            self._behind = {id(u): Heat(u.ix.horizon) for u in self.units}
            self._moved_keys = set()
            for u in self.units:
                self._memo.clear()
                self._looked[id(u)] = Spans()
                self._round(u)
            if not self.t.changed or not self._again:
                break
        self._looked = {}
        self._memo.clear()
        self._moved, self._behind, self._behind_before = {}, {}, None

    def _changed(self, table: str, key: str) -> None:
        """A new or worse tainted name, function or staging file: heat the nodes that mention it,
        and note where a value this round already looked at reads it (only then can another
        round change anything)."""
        bare = key.rsplit(":", 1)[-1] if table == "names" else key
        mentions = self._mentions.get((table, bare))
        if mentions is None:
            mentions = self._mentions[(table, bare)] = self._find_mentions(table, bare)
            for u in self.units:
                u.heat.add(mentions.get(id(u), []))
        fresh = (table, key) not in self._moved_keys
        self._moved_keys.add((table, key))
        for uid, positions in self._reading(table, key, mentions).items():
            looked = self._looked.get(uid)
            if fresh:
                self._moved[uid].add(positions)
            if looked is None or not positions:
                continue
            self._work += len(positions)
            # (past the budget: every place counts as behind)
            behind = positions if self._work > MAX_BACKWARD_CHECKS else looked.within(positions)
            if behind:
                self._behind[uid].add(behind)
                self._again = True

    def _reading(self, table: str, key: str, mentions: dict[int, list[int]]) -> dict[int, list[int]]:
        """Where, per unit (id), a value can read a changed entry: a name's mentions in the
        functions of its scope (a file's top-level name: in that file); a function, attribute or
        staging file: all its mentions."""
        scope = key.rsplit(":", 1)[0]
        if table != "names" or scope == "attr":
            return mentions
        own = self._unit_at.get(scope)
        found: dict[int, list[int]] = {} if own is None else {own: mentions.get(own, [])}
        for fu, fn in self.functions.get(scope, []):
            positions = mentions.get(id(fu), [])  # in document order
            inside = positions[bisect_left(positions, fn.start_byte) : bisect_left(positions, fn.end_byte)]
            found.setdefault(id(fu), []).extend(inside)
        return found or mentions

    def _round(self, u: Unit) -> None:
        steps = self._steps.get(id(u))
        if steps is None:
            steps = self._steps[id(u)] = self._steps_of(u)
        heat, looked = u.heat, self._looked[id(u)]
        for step in steps:
            kind, i, start, end = step[0], step[1], step[2], step[3]
            if start < 0:  # worked out: nothing can come of it
                continue
            if not heat.hot(start, end) or self._stale(u, start, end):
                looked.add(start, end)
                continue
            if kind == "call":
                self._call(u.ix.nodes[i], u, u.scopes.of(i))
                continue
            if not step[4] and not self._work_out(step, u):
                continue
            # what is read: its value (a destructuring's keys too), not the names it binds, whose
            # taint changes nothing here (a first `k = os.environ[…]` asked for a second round)
            looked.add(step[2], step[3])
            value: Node = step[5][0]
            scope: str = step[5][1]
            target: Any = step[5][2]
            src = self._walk_source(value, u, scope, [MAX_EXPR_NODES], 0)
            if step[0] != "return" and target.type == "object_pattern":
                for key, found in pattern_sources(
                    target, src, canonical(value, u.aliases_at(value)), u.lang, scope
                ):
                    self.t.add("names", key, found)
            elif not src:
                continue
            elif step[0] == "return":
                self.t.add("functions", target, src)
            else:
                for key in bound_keys(target, u.lang, scope):
                    self.t.add("names", key, src)

    def _stale(self, u: Unit, start: int, end: int) -> bool:
        """Whether the value in [start, end), looked at in the round before, reads no entry that
        changed after it was (then) or before it is (this round): it would hand on what it
        handed on then."""
        before = self._behind_before
        return (
            before is not None
            and not before[id(u)].hot(start, end)
            and not self._moved[id(u)].hot(start, end)
        )

    def _steps_of(self, u: Unit) -> list[_Step]:
        """A unit's statements in document order: its assignments, loops, `with … as`, returns
        and arrow functions, and the calls that pass taint on (into the skill's own functions
        and file writes)."""
        ix = u.ix
        found = [(i, k) for k in BINDINGS for i in ix.indices(k)]
        found += [(i, "call") for i in self._passing_calls(u)]
        found.sort()
        steps: list[_Step] = []
        for i, kind in found:
            n = ix.nodes[i]
            steps.append([kind, i, n.start_byte, n.end_byte, False, None])
        return steps

    def _passing_calls(self, u: Unit) -> list[int]:
        """The calls of the skill's own functions and of file writes: in a large file, found
        around the places their names occur (the last name of a callee is inside its call, and no
        other call around it is closer)."""
        names = set(self.functions) | WRITES
        if self._exact(u) or len(names) > MAX_WORDS:
            return [i for i in u.ix.indices("call") if self.leaf(u.ix.nodes[i]) in names]
        sweep, found = u.ix.sweep("call"), set()
        for p in u.words(names):
            i = sweep.innermost(p)
            if i is not None and self.leaf(u.ix.nodes[i]) in names:
                found.add(i)
        return sorted(found)

    def _work_out(self, step: _Step, u: Unit) -> bool:
        """The value a statement hands on, where its secret goes (the bound target, or the name of
        the function it returns from) and the scope it is read in; False when nothing can come of
        it. The step's range narrows to its value."""
        kind, i = step[0], step[1]
        n = u.ix.nodes[i]
        scope = u.scopes.of(i)
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
            owner = u.scopes.owner(i)
            target = u.scopes.names.get(owner) if owner is not None else None
        else:  # an arrow function: its expression body is what it returns
            body = n.child_by_field_name("body")
            value = body if body is not None and body.type != "statement_block" else None
            target = u.scopes.names.get(i)
            scope = target or u.path  # the body is inside the arrow function
            step[0] = "return"
        step[4] = True
        if value is None or target is None:  # nothing can come of it
            step[2] = step[3] = -1
            return False
        # a destructuring also reads its keys (`{env} = process`): its range stays the statement's
        if not isinstance(target, Node) or target.type != "object_pattern":
            step[2], step[3] = value.start_byte, value.end_byte
        step[5] = (value, scope, target)
        return True

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
        if name in WRITES:
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
        return leaf in _TRANSFORMS or leaf in _READS_BACK or leaf in self.functions

    def _source_here(self, n: Node, u: Unit, scope: str) -> tuple[Source | None, bool]:
        """(secret carried by this node, whether its children still need a look)."""
        t = n.type
        if t in _NAMES:
            name = node_text(n)
            found = self.t.names.get(f"{scope}:{name}") or self.t.names.get(f"{u.path}:{name}")
            return found or (self.env(n, u) if name in u.aliases_at(n) else None), False
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
            base = n.child_by_field_name("value") or n.child_by_field_name("object") or n
            return self.env(base, u) or self.env(n, u), True  # `os.environ["K"]`, `process["env"]`
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
        if src is not None and src.kind == "env":  # `env = process.env; env.KEY`: one variable
            key = self._key_read(n, u)
            return member_source(src, key) if key is not None else None
        return None

    def _key_read(self, n: Node, u: Unit) -> str | None:
        """The constant key a member access, subscript or `.get(…)` call reads (not a method name:
        `env.get` is no variable)."""
        if n.type in u.lang.call:
            args = self.positional(n)
            return resolve(args[0]) if args else None
        key = key_of(n)
        return None if key in ENV_METHODS else key
