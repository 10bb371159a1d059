"""Credential flows in Python and JavaScript/TypeScript: a secret read reaching a network send,
within a file and across the files of a skill.

A small taint analysis over all scripts of one language at once (so `collector.py` reading
`~/.aws/credentials`, `encoder.py` wrapping it and `reporter.py` posting it are one flow):
sources are secret-file reads (`open`, `read_text`, `readFileSync` of SSH keys, cloud credentials,
OpenClaw config, wallets, …), the whole environment (`os.environ.items()`, `{...process.env}`),
single credential variables and keychain reads; taint follows assignments, loops, `with … as`,
function returns and arguments (by function name, across files) and files written by one script
and read by another. Sinks are HTTP clients, sockets, mail and DNS lookups.

Graded by the destination: the skill's declared host, an ordinary undeclared host, or a capture /
tunnel / raw-IP host. A declared key sent to its own API stays clean. Command strings given to
`os.system` / `subprocess` / `child_process` are also checked as shell (reverse shells, persistence).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

from skillscan.analyzers.delivery import UrlRef
from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.flow_model import (
    FIELD_STORES,
    JS,
    PY,
    Lang,
    Send,
    Source,
    call_args,
    callee,
    env_source,
    path_label,
    positional,
    read_source,
    sink,
    source_features,
)
from skillscan.analyzers.treesitter.flow_syntax import (
    assign_sides,
    bound_keys,
    built_hostname,
    command_string,
    function_name,
    is_path_like,
    line_of,
    param_names,
    path_value,
    receiver_of,
    scopes,
)
from skillscan.analyzers.treesitter.parsing import node_text, walk
from skillscan.analyzers.treesitter.registry import FileContext, Hit, SkillContext
from skillscan.analyzers.treesitter.sensitive import Sink, ThreatContext, is_credential_env, var_matches_host
from skillscan.analyzers.treesitter.shell_threats import scan_shell_threats

_WHOLE = frozenset({"file", "keychain", "env"})  # the secret store itself, not one key of it
_SINGLE = frozenset({"envvar", "field", "envfile"})
_SEQUENCES = frozenset({"list", "tuple", "array", "set"})
# Calls whose result still is (an encoding of) their argument.
_TRANSFORMS = frozenset(
    {"str", "String", "format", "encode", "decode", "b64encode", "urlsafe_b64encode", "b32encode", "hexlify",
     "dumps", "stringify", "join", "concat", "replace", "strip", "trim", "upper", "lower", "toUpperCase",
     "toLowerCase", "bytes", "from", "toString", "encodeURIComponent", "encodeURI", "quote", "quote_plus",
     "urlencode", "btoa", "escape", "hex", "compress", "dict", "list", "tuple", "Object.assign", "assign",
     "update", "copy", "slice", "substring", "substr", "split"}
)  # fmt: skip
_ENDPOINT = re.compile(
    r"(?i)\bwss?://[^\s'\"`]{1,200}|\b(?:https?://)?(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?"
)
_ENV_NAME = re.compile(r"\b[A-Z][A-Z0-9]{1,30}_(?:API_KEY|KEY|TOKEN|SECRET|API_TOKEN|ACCESS_TOKEN)\b")
MAX_ROUNDS = 6
MAX_HITS_PER_RULE_FILE = 20  # a file with thousands of identical sends is reported, not listed
MAX_NODES_PER_UNIT = 300_000
MAX_EXPR_NODES = 3000
_RANK = {"file": 5, "keychain": 5, "env": 4, "envvar": 3, "memory": 2, "envfile": 1, "field": 0}
_SHELL_CALLS = frozenset({"os.system", "os.popen", "subprocess.run", "subprocess.call", "subprocess.Popen",
                          "subprocess.check_output", "subprocess.check_call", "subprocess.getoutput",
                          "exec", "execSync", "child_process.exec", "child_process.execSync", "cp.exec",
                          "cp.execSync", "spawn", "spawnSync", "child_process.spawn", "child_process.spawnSync"})  # fmt: skip


@dataclass
class _Unit:
    fctx: FileContext
    lang: Lang
    nodes: list[Node]
    text: str
    features: frozenset[str] = frozenset()
    scopes: dict[int, str] = field(default_factory=dict)  # node id -> enclosing function name
    owners: dict[int, Node] = field(default_factory=dict)  # node id -> enclosing function node
    namers: dict[int, Node] = field(default_factory=dict)  # function node id -> naming parent

    @property
    def path(self) -> str:
        return self.fctx.file.path


@dataclass
class _Taint:
    """Everything known to carry secret data, keyed by scoped name."""

    names: dict[str, Source] = field(default_factory=dict)
    functions: dict[str, Source] = field(default_factory=dict)
    path_vars: dict[str, str] = field(default_factory=dict)
    staged: dict[str, Source] = field(default_factory=dict)
    changed: bool = False

    def add(self, table: dict[str, Source], key: str, src: Source) -> None:
        old = table.get(key)
        if old is None or _RANK[src.kind] > _RANK[old.kind]:
            table[key] = src
            self.changed = True


class _Engine:
    def __init__(self, units: list[_Unit], threat: ThreatContext) -> None:
        self.units = units
        self.threat = threat
        self.t = _Taint()
        self.constants: dict[str, str] = {}
        self.functions: dict[str, list[tuple[_Unit, Node]]] = {}
        # per-round memo of source() by node id: every node is judged once per round (linear)
        self._memo: dict[int, Source | None] = {}
        for u in units:
            self._index(u)

    def _index(self, u: _Unit) -> None:
        for n in u.nodes:
            if n.type in u.lang.assign:
                left, right = assign_sides(n)
                value = resolve(right) if right is not None else None
                if left is not None and value is not None and left.type in {"identifier", u.lang.member}:
                    self.constants.setdefault(node_text(left).rsplit(".", 1)[-1], value)
            elif n.type in u.lang.functions:
                name = function_name(n, u.namers)
                if name:
                    self.functions.setdefault(name, []).append((u, n))

    # --- taint propagation -------------------------------------------------------------
    def run(self) -> None:
        for _ in range(MAX_ROUNDS):
            self.t.changed = False
            for u in self.units:
                self._memo.clear()
                self._round(u)
            if not self.t.changed:
                break
        self._memo.clear()

    def _round(self, u: _Unit) -> None:
        for n in u.nodes:
            t = n.type
            if t in u.lang.assign:
                left, right = assign_sides(n)
                if left is None or right is None:
                    continue
                label = path_label(right, self.constants) if is_path_like(right, u.lang) else None
                if label is None and right.type in _SEQUENCES:
                    label = self._paths_in(right)
                if label:
                    for key in bound_keys(left, u.lang, self._scope(left, u)):
                        self.t.path_vars.setdefault(key.split(":", 1)[-1], label)
                src = self.source(right, u)
                if src:
                    for key in bound_keys(left, u.lang, self._scope(left, u)):
                        self.t.add(self.t.names, key, src)
            elif t in u.lang.loop:
                left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
                label = self._paths_in(right) if right is not None else None
                if label and left is not None:
                    for key in bound_keys(left, u.lang, self._scope(left, u)):
                        self.t.path_vars.setdefault(key.split(":", 1)[-1], label)
                src = self.source(right, u) if right is not None else None
                if src and left is not None:
                    for key in bound_keys(left, u.lang, self._scope(left, u)):
                        self.t.add(self.t.names, key, src)
            elif t == "as_pattern" and u.lang is PY:
                value = n.named_children[0] if n.named_children else None
                alias = n.child_by_field_name("alias")
                src = self.source(value, u) if value is not None else None
                if src and alias is not None:
                    for key in bound_keys(alias, u.lang, self._scope(alias, u)):
                        self.t.add(self.t.names, key, src)
            elif t == "return_statement" or (
                t == "arrow_function" and n.child_by_field_name("body") is not None
            ):
                value = n.named_children[0] if t == "return_statement" and n.named_children else None
                if t == "arrow_function":
                    body = n.child_by_field_name("body")
                    value = body if body is not None and body.type != "statement_block" else None
                src = self.source(value, u) if value is not None else None
                fn = u.owners.get(n.id) if t == "return_statement" else n
                name = function_name(fn, u.namers) if fn is not None else None
                if src and name:
                    self.t.add(self.t.functions, name, src)
            elif t in u.lang.call:
                self._call(n, u)

    def _paths_in(self, node: Node) -> str | None:
        """A list of paths (or a variable holding one) with a secret among its elements."""
        if node.type == "identifier":
            return self.t.path_vars.get(node_text(node))
        if node.type not in _SEQUENCES:
            return None
        for el in node.named_children[:200]:
            label = path_label(el, self.constants) if el.type not in _SEQUENCES else None
            if label:
                return label
        return None

    def _call(self, call: Node, u: _Unit) -> None:
        """Arguments into parameters of known functions; writes of secrets into staging files."""
        name = callee(call).rsplit(".", 1)[-1]
        args = positional(call)
        tainted = [(i, s) for i, a in enumerate(args) if (s := self.source(a, u))]
        if not tainted:
            return
        for fu, fn in self.functions.get(name, []):
            params = param_names(fn, fu.lang)
            for i, src in tainted:
                if i < len(params):
                    self.t.add(self.t.names, f"{name}:{params[i]}", src)
        if name in {
            "write_text",
            "write_bytes",
            "writeFileSync",
            "writeFile",
            "appendFileSync",
            "appendFile",
        }:
            target = args[0] if name.startswith(("writeFile", "appendFile")) else receiver_of(call)
            dest = path_value(target, self.constants)
            src = tainted[-1][1]
            if dest:
                self.t.add(self.t.staged, dest, src)

    def _scope(self, node: Node, u: _Unit) -> str:
        return u.scopes.get(node.id, u.path)

    def source(self, node: Node | None, u: _Unit) -> Source | None:
        """The worst secret a value expression carries, if any."""
        if node is None:
            return None
        scope = self._scope(node, u)
        budget = [MAX_EXPR_NODES]
        return self._walk_source(node, u, scope, budget, 0)

    def _walk_source(self, n: Node, u: _Unit, scope: str, budget: list[int], depth: int) -> Source | None:
        if n.id in self._memo:
            return self._memo[n.id]
        budget[0] -= 1
        if budget[0] < 0 or depth > 80:
            return None
        result = self._walk_source_uncached(n, u, scope, budget, depth)
        self._memo[n.id] = result
        return result

    def _walk_source_uncached(
        self, n: Node, u: _Unit, scope: str, budget: list[int], depth: int
    ) -> Source | None:
        found, descend = self._source_here(n, u, scope)
        if (found is not None and _RANK[found.kind] >= 5) or not descend:
            return found
        best = found
        for c in n.children:
            sub = self._walk_source(c, u, scope, budget, depth + 1)
            if sub is None:
                continue
            # one key handed to a client or API call does not come back out of it: only string
            # transforms and the skill's own functions carry a single key through a call
            if n.type in u.lang.call and sub.kind in _SINGLE and not self._carries(n):
                continue
            if best is None or _RANK[sub.kind] > _RANK[best.kind]:
                best = sub
                if _RANK[best.kind] >= 5:
                    break
        return best

    def _carries(self, call: Node) -> bool:
        leaf = callee(call).rsplit(".", 1)[-1]
        return leaf in _TRANSFORMS or leaf in self.functions

    def _source_here(self, n: Node, u: _Unit, scope: str) -> tuple[Source | None, bool]:
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
            return found or env_source(n, u.lang), True
        if t in u.lang.call:
            if sink(n, u.lang, self.constants, u.features) is not None:
                return None, False  # a response is not the secret that went into the request
            leaf = callee(n).rsplit(".", 1)[-1]
            found = self.t.functions.get(leaf) or env_source(n, u.lang)
            if found is None:
                found = read_source(n, u.lang, self.constants, self.t.path_vars)
            if found is None and self.t.staged:
                for a in call_args(n):
                    value = resolve(a) or self.constants.get(node_text(a))
                    if value in self.t.staged and leaf not in {"write_text", "writeFileSync", "writeFile"}:
                        return self.t.staged[value], True
            return found, True
        if t in {"subscript", "subscript_expression"}:
            return env_source(
                n.child_by_field_name("value") or n.child_by_field_name("object") or n, u.lang
            ), True
        return None, True

    def _field_of_store(self, n: Node, u: _Unit, scope: str) -> Source | None:
        """`cfg["skills"]["x"]["apiKey"]`, `cfg.get("token")`, `env.OPENAI_KEY`: one named value out of a
        config store (OpenClaw config, .env) is a single key the skill uses, not the store itself."""
        base: Node | None = None
        if n.type in {"subscript", "subscript_expression", u.lang.member}:
            base = n.child_by_field_name("value") or n.child_by_field_name("object")
        elif n.type in u.lang.call:
            func = n.child_by_field_name("function")
            if (
                func is not None
                and func.type == u.lang.member
                and callee(n).rsplit(".", 1)[-1] in {"get", "getenv"}
            ):
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

    # --- findings ---------------------------------------------------------------------
    def hits(self) -> Iterator[Hit]:
        reads: set[str] = set()
        for u in self.units:
            for n in u.nodes:
                if n.type not in u.lang.call:
                    continue
                src = read_source(n, u.lang, self.constants, self.t.path_vars)
                if src and src.kind in {"file", "keychain"} and u.path not in reads:
                    reads.add(u.path)
                    yield Hit(
                        "credential-store-read", line_of(n), node_text(n), f"Reads {src.label}", path=u.path
                    )
                send = sink(n, u.lang, self.constants, u.features)
                if send is not None:
                    hit = self._judge(n, u, send)
                    if hit is not None:
                        yield hit
                if callee(n) in _SHELL_CALLS:
                    yield from self._embedded_shell(n, u)

    def _judge(self, call: Node, u: _Unit, send: Send) -> Hit | None:
        found = [(p, s) for p in send.payload if (s := self.source(p, u))]
        if not found:
            return None
        # a key in the URL (`?key=…`) or a header is how APIs authenticate: only bodies count for
        # single variables and config fields; whole secret files count wherever they go.
        body = [
            (p, s)
            for p, s in found
            if send.kind != "http" or p.type not in {"string", "template_string"} or s.kind in _WHOLE
        ]
        if not body:
            return None
        node, src = max(body, key=lambda ps: _RANK[ps[1].kind])
        where = self.threat.sink(send.dest) if send.dest else self._implied_dest(u, send)
        if where is not None and "local" in self.threat.policy.catalog.classify(where[1]):
            return None  # the data stays on this machine (a local gateway, a dev server)
        kind, host = (where[0], where[1].host) if where else (None, None)
        to = host or f"a {send.kind} destination"
        ev = node_text(call)
        line = line_of(call)
        if send.kind == "dns":
            if src.kind in _WHOLE | {"envvar"} and built_hostname(node):
                return Hit(
                    "exfil-dns-lookup", line, ev, f"Resolves a hostname built from {src.label}", path=u.path
                )
            return None
        if src.kind in _WHOLE:
            if kind is Sink.OWN:
                return Hit(
                    "exfil-credential-flow-own-host", line, ev, f"Sends {src.label} to {to}", path=u.path
                )
            return Hit("exfil-credential-flow", line, ev, f"Sends {src.label} to {to}", path=u.path)
        if src.kind == "envvar" and src.var and is_credential_env(src.var):
            if kind is Sink.EXFIL or (
                kind is Sink.ORDINARY and self.threat.undeclared_credential(src.var, host)
            ):
                return Hit(
                    "exfil-credential-env", line, ev, f"Sends {src.label} to {to}, not its API", path=u.path
                )
            return None
        if kind is Sink.EXFIL and src.kind in {"memory", "envfile", "field"}:
            return Hit("exfil-credential-flow", line, ev, f"Sends {src.label} to {to}", path=u.path)
        if src.kind == "envfile" and kind is Sink.ORDINARY and host and not self._names_host(u, host):
            return Hit("exfil-credential-flow", line, ev, f"Sends {src.label} to {to}", path=u.path)
        if src.kind == "memory" and kind is Sink.ORDINARY:
            return Hit("agent-memory-upload", line, ev, f"Sends {src.label} to {to}", path=u.path)
        return None

    def _implied_dest(self, u: _Unit, send: Send) -> tuple[Sink, UrlRef] | None:
        """Sockets and WebSockets: when every endpoint the file opens is local, so is the send."""
        if send.kind != "socket":
            return None
        urls = [m.group(0) for m in _ENDPOINT.finditer(u.text[:500_000])]
        judged = [self.threat.sink(re.sub(r"^ws(s?)://", r"http\1://", x)) for x in urls[:50]]
        if judged and all(j is not None and j[0] is Sink.OWN for j in judged):
            return judged[0]
        return None

    def _names_host(self, u: _Unit, host: str) -> bool:
        """The file names a credential variable that belongs to `host` (TAVILY_API_KEY, api.tavily.com)."""
        return any(var_matches_host(v, host) for v in set(_ENV_NAME.findall(u.text[:500_000])))

    def _embedded_shell(self, call: Node, u: _Unit) -> Iterator[Hit]:
        """`os.system("…")`, `subprocess.run(["bash", "-c", "…"])`, `execSync("…")`: check the shell."""
        command = command_string(call)
        if not command:
            return
        for d in scan_shell_threats(command, self.threat, depth=1):
            yield Hit(d.rule_id, line_of(call), node_text(call), d.message, path=u.path)


class CredentialFlows:
    """Skill check: secret reads reaching network sends, per language, across files."""

    def check_skill(self, ctx: SkillContext) -> Iterable[Hit]:
        threat = ThreatContext.from_skill(ctx.skill, policy=ctx.host_policy)
        out: list[Hit] = []
        for lang in (PY, JS):
            units = []
            for f in ctx.files:
                if f.file.kind in lang.kinds and f.tree is not None:
                    nodes = walk(f.tree.root_node, MAX_NODES_PER_UNIT)
                    names, owners, namers = scopes(nodes, lang, f.file.path)
                    units.append(
                        _Unit(
                            fctx=f,
                            lang=lang,
                            nodes=nodes,
                            text=f.source,
                            features=source_features(f.source),
                            scopes=names,
                            owners=owners,
                            namers=namers,
                        )
                    )
            if units:
                engine = _Engine(units, threat)
                engine.run()
                out.extend(engine.hits())
        seen: set[tuple[str, str | None, int | None]] = set()
        per_file: dict[tuple[str, str | None], int] = {}
        for h in out:
            key = (h.rule_id, h.path, h.line)
            count = per_file.get((h.rule_id, h.path), 0)
            if key not in seen and count < MAX_HITS_PER_RULE_FILE:
                seen.add(key)
                per_file[(h.rule_id, h.path)] = count + 1
                yield h


CHECKS = [CredentialFlows()]
