"""Findings of the flow checks once taint has settled: secret-store reads, sends of secrets graded
by where they go, and shell command strings handed to `os.system` / `subprocess` / `child_process`."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from tree_sitter import Node

from skillscan.analyzers.treesitter.flow_model import Send, Source
from skillscan.analyzers.treesitter.flow_screen import PLAIN_CALL
from skillscan.analyzers.treesitter.flow_syntax import built_hostname, command_string, line_of
from skillscan.analyzers.treesitter.flow_taint import RANK, WHOLE
from skillscan.analyzers.treesitter.flow_unit import Unit
from skillscan.analyzers.treesitter.parsing import node_text
from skillscan.analyzers.treesitter.registry import Hit
from skillscan.analyzers.treesitter.sensitive import Sink, ThreatContext, is_credential_env, var_matches_host
from skillscan.analyzers.treesitter.shell import Detection
from skillscan.analyzers.treesitter.shell_threats import scan_shell_threats
from skillscan.analyzers.urls import UrlRef

if TYPE_CHECKING:
    from skillscan.analyzers.treesitter.flow_engine import Engine

_ENDPOINT = re.compile(
    r"(?i)\bwss?://[^\s'\"`]{1,200}|\b(?:https?://)?(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?"
)
_ENV_NAME = re.compile(r"\b[A-Z][A-Z0-9]{1,30}_(?:API_KEY|KEY|TOKEN|SECRET|API_TOKEN|ACCESS_TOKEN)\b")
_SHELL_CALLS = frozenset({"os.system", "os.popen", "subprocess.run", "subprocess.call", "subprocess.Popen",
                          "subprocess.check_output", "subprocess.check_call", "subprocess.getoutput",
                          "exec", "execSync", "child_process.exec", "child_process.execSync", "cp.exec",
                          "cp.execSync", "spawn", "spawnSync", "child_process.spawn", "child_process.spawnSync"})  # fmt: skip
_MAX_CACHED_COMMANDS = 1000
_MAX_CACHED_CALLS = 50_000
_MAX_CALL_BYTES = 4096
_SPARSE_HEAT = 16  # leaves per place of heat under which the sends are found from the heat


class Findings:
    def __init__(self, engine: Engine, threat: ThreatContext) -> None:
        self.engine = engine
        self.threat = threat
        self._dests: dict[str, tuple[Sink, UrlRef] | None] = {}  # destination URL -> its class
        self._implied: dict[str, tuple[Sink, UrlRef] | None] = {}  # file path -> socket endpoint class
        self._locals: dict[str, bool] = {}  # URL -> whether it is on this machine
        self._env_names: dict[str, set[str]] = {}  # file path -> credential variable names it mentions
        self._shell: dict[str, list[Detection]] = {}  # command -> its shell findings
        self._calls: dict[bytes | None, list[Detection]] = {}  # shell call text -> its shell findings
        self._data = b""  # the source of the unit being read

    def hits(self, admit: Callable[[str, str, int], bool]) -> Iterator[Hit]:
        """Findings in document order; `admit(rule, path, line)` says whether one is still listed
        (a capped rule's matches cost no evidence text)."""
        for u in self.engine.units:
            yield from self._unit_hits(u, admit)

    def _unit_hits(self, u: Unit, admit: Callable[[str, str, int], bool]) -> Iterator[Hit]:
        """The calls that can make a finding, in document order: the first secret-store read, the
        sends that may carry something tainted, the shell calls with a constant command."""
        e, nodes = self.engine, u.ix.nodes
        self._data = u.screen.data
        read, src = self._first_read(u)
        sends: set[int] = set()
        shells: dict[int, list[Detection]] = {}
        # places in order, as ints (2 × offset, + 1 for a send): no tuple per place. A send sends
        # its arguments: one whose argument list ends before any heat carries nothing (no lookup)
        events: list[int] = []
        if not u.ix.indices("call"):
            return
        sweep = u.ix.sweep("call")
        if u.heat:
            heat, horizon, data, call = u.heat.merged(), u.heat.horizon, u.screen.data, PLAIN_CALL.match
            hot = len(heat)
            for p in self._leaves_near(u, heat):
                m = call(data, p)
                if (
                    m is None
                    or (end := m.end()) > horizon
                    or ((k := bisect_left(heat, p)) < hot and heat[k] < end)
                ):
                    events.append(2 * p + 1)
        events += [2 * p for p in u.shell_leaves()]
        events.sort()
        around, starts, ends_ = sweep.innermost_of([ev >> 1 for ev in events])
        for ev, i, start, end in zip(events, around, starts, ends_, strict=True):
            if i < 0:
                continue
            if ev & 1:
                if u.heat.hot(start, end):  # else nothing it sends can carry a secret
                    sends.add(i)
            elif detections := self._shell_call(nodes[i], start, end):
                shells[i] = detections
        calls = sends | set(shells)
        if read is not None:
            calls.add(read)
        for i in sorted(calls):
            n = nodes[i]
            if i == read and src is not None and admit("credential-store-read", u.path, line := line_of(n)):
                yield Hit("credential-store-read", line, node_text(n), f"Reads {src.label}", path=u.path)
            if i in sends:
                send = e.sink(n, u)
                if send is not None:
                    found = self._judge(n, u, u.scopes.of(i), send)
                    if found is not None and admit(found[0], u.path, line := line_of(n)):
                        yield Hit(found[0], line, node_text(n), found[1], path=u.path)
            if i in shells:
                for d in shells[i]:
                    if admit(d.rule_id, u.path, line := line_of(n)):
                        yield Hit(d.rule_id, line, node_text(n), d.message, path=u.path)

    @staticmethod
    def _leaves_near(u: Unit, heat: list[int]) -> list[int]:
        """The places a send can be that lie in a call around some heat: a send carries something
        only then. With little heat, found from the heat (the calls around each place of it);
        else all of them (a file past its horizon has calls no sweep sees)."""
        leaves = u.sink_leaves()
        if len(heat) * _SPARSE_HEAT > len(leaves) or u.ix.horizon is not None:
            return leaves
        sweep, nodes, near = u.ix.sweep("call"), u.ix.nodes, set()
        for h in heat:
            for i in sweep.around(h):
                n = nodes[i]
                near.update(leaves[bisect_left(leaves, n.start_byte) : bisect_left(leaves, n.end_byte)])
        return sorted(near)

    def _first_read(self, u: Unit) -> tuple[int | None, Source | None]:
        """The first call of the unit that reads a secret file or the keychain, and what it reads.
        Every read lies around a mark (`Facts.read_marks`), and a read around an earlier mark
        comes first in document order: the marks are taken in order, each one's calls outermost
        first, until one reads."""
        e, nodes = self.engine, u.ix.nodes
        if not u.ix.indices("call"):
            return None, None
        marks = e.read_marks(u)
        if marks is None:
            chains: Iterable[Iterable[int]] = [u.ix.indices("call")]
        else:
            sweep = u.ix.sweep("call")
            chains = (list(sweep.around(p)) for p in u.within(marks))
        seen: set[int] = set()
        for chain in chains:
            for i in chain:
                if i in seen:
                    continue
                seen.add(i)
                src = e.read(nodes[i], u)
                if src and src.kind in {"file", "keychain"}:
                    return i, src
        return None, None

    def _judge(self, call: Node, u: Unit, scope: str, send: Send) -> tuple[str, str] | None:
        """(rule, message) of a send, if what it sends is a secret that must not go there."""
        found = [(p, s) for p in send.payload if (s := self.engine.source(p, u, scope))]
        if not found:
            return None
        # a key in the URL (`?key=…`) or a header is how APIs authenticate: only bodies count for
        # single variables and config fields; whole secret files count wherever they go.
        body = [
            (p, s)
            for p, s in found
            if send.kind != "http" or p.type not in {"string", "template_string"} or s.kind in WHOLE
        ]
        if not body:
            return None
        node, src = max(body, key=lambda ps: RANK[ps[1].kind])
        where = self._sink(send.dest) if send.dest else self._implied_dest(u, send)
        if where is not None and self._local(where[1]):
            return None  # the data stays on this machine (a local gateway, a dev server)
        kind, host = (where[0], where[1].host) if where else (None, None)
        to = host or f"a {send.kind} destination"
        if send.kind == "dns":
            if src.kind in WHOLE | {"envvar"} and built_hostname(node):
                return "exfil-dns-lookup", f"Resolves a hostname built from {src.label}"
            return None
        if src.kind in WHOLE:
            if kind is Sink.OWN:
                return "exfil-credential-flow-own-host", f"Sends {src.label} to {to}"
            return "exfil-credential-flow", f"Sends {src.label} to {to}"
        if src.kind == "envvar" and src.var and is_credential_env(src.var):
            if kind is Sink.EXFIL or (
                kind is Sink.ORDINARY and self.threat.undeclared_credential(src.var, host)
            ):
                return "exfil-credential-env", f"Sends {src.label} to {to}, not its API"
            return None
        if kind is Sink.EXFIL and src.kind in {"memory", "envfile", "field"}:
            return "exfil-credential-flow", f"Sends {src.label} to {to}"
        if src.kind == "envfile" and kind is Sink.ORDINARY and host and not self._names_host(u, host):
            return "exfil-credential-flow", f"Sends {src.label} to {to}"
        if src.kind == "memory" and kind is Sink.ORDINARY:
            return "agent-memory-upload", f"Sends {src.label} to {to}"
        return None

    def _sink(self, dest: str) -> tuple[Sink, UrlRef] | None:
        if dest not in self._dests:
            self._dests[dest] = self.threat.sink(dest)
        return self._dests[dest]

    def _local(self, url: UrlRef) -> bool:
        """Whether the URL is on this machine (a local gateway, a dev server): once per URL."""
        found = self._locals.get(url.raw)
        if found is None:
            found = self._locals[url.raw] = "local" in self.threat.policy.catalog.classify(url)
        return found

    def _implied_dest(self, u: Unit, send: Send) -> tuple[Sink, UrlRef] | None:
        """Sockets and WebSockets: when every endpoint the file opens is local, so is the send."""
        if send.kind != "socket":
            return None
        if u.path not in self._implied:
            urls = [m.group(0) for m in _ENDPOINT.finditer(u.text[:500_000])]
            judged = [self.threat.sink(re.sub(r"^ws(s?)://", r"http\1://", x)) for x in urls[:50]]
            own = bool(judged) and all(j is not None and j[0] is Sink.OWN for j in judged)
            self._implied[u.path] = judged[0] if own else None
        return self._implied[u.path]

    def _names_host(self, u: Unit, host: str) -> bool:
        """The file names a credential variable that belongs to `host` (TAVILY_API_KEY, api.tavily.com)."""
        if u.path not in self._env_names:
            self._env_names[u.path] = set(_ENV_NAME.findall(u.text[:500_000]))
        return any(var_matches_host(v, host) for v in self._env_names[u.path])

    def _shell_call(self, call: Node, start: int, end: int) -> list[Detection]:
        """The shell findings of a call (spanning bytes [start, end)), if it is a shell call
        (`_SHELL_CALLS`). Worked out once per distinct call text, as the shell scanners replay a
        repeated statement (`scan_hits.StatementMemo`): a file of one call repeated 20,000 times
        costs one analysis."""
        text = self._data[start:end] if end - start <= _MAX_CALL_BYTES else None
        found = self._calls.get(text) if text is not None else None
        if found is None:
            found = self._embedded_shell(call) if self.engine.name(call) in _SHELL_CALLS else []
            if text is not None and len(self._calls) < _MAX_CACHED_CALLS:
                self._calls[text] = found
        return found

    def _embedded_shell(self, call: Node) -> list[Detection]:
        """`os.system("…")`, `subprocess.run(["bash", "-c", "…"])`, `execSync("…")`: check the shell."""
        command = command_string(call)
        if not command:
            return []
        found = self._shell.get(command)
        if found is None:
            found = list(scan_shell_threats(command, self.threat, depth=1))
            if len(self._shell) < _MAX_CACHED_COMMANDS and len(command) <= 4096:
                self._shell[command] = found
        return found
