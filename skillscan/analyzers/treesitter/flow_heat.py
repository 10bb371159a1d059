"""Where secrets can come from in the scripts of one language, and where they can go: the places
the taint engine heats (`Heat`) before its rounds, and those it heats as names get tainted.

A script up to EXACT_BYTES is heated exactly where the full analysis would: at its environment
and secret reads, and at the identifiers of a tainted name. A larger one is heated wherever its
text screens (`flow_screen`) leave a place for them, names included wherever they occur as words:
a superset, so no walk the rounds must make is spared, and no node is looked up for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from skillscan.analyzers.treesitter.flow_demand import (
    DNS_LEAVES,
    MAX_PAIRS,
    Demand,
    blind_sends,
    credential_names,
    dns_sends,
    host_constants,
    reported,
)
from skillscan.analyzers.treesitter.flow_env import destructures_env
from skillscan.analyzers.treesitter.flow_facts import Facts
from skillscan.analyzers.treesitter.flow_hosts import line_reads, plain_hosts, send_hosts, written_hosts
from skillscan.analyzers.treesitter.flow_index import BINDINGS
from skillscan.analyzers.treesitter.flow_sweep import Sweep
from skillscan.analyzers.treesitter.flow_syntax import assign_sides
from skillscan.analyzers.treesitter.flow_unit import MAX_WORDS, Unit

EXACT_BYTES = 256 * 1024  # scripts up to this size are heated exactly (`Heating._exact`)
# File writes: what they write, a script of the skill may read (the engine stages it).
WRITES = frozenset(
    {"write_text", "write_bytes", "writeFileSync", "writeFile", "appendFileSync", "appendFile"}
)


def _read_whole(u: Unit) -> bool:
    """Whether the unit's tree was walked to its end and holds no strings side by side (`"ev"
    "il.com"`): what `flow_hosts` reads from its text is then all it can send to."""
    return u.ix.horizon is None and not u.ix.indices("joined")


class Heating(Facts):
    """The places of the units of one language a secret can come from (`needs_taint` heats them)
    and where a tainted name or function is mentioned (`_find_mentions`)."""

    def __init__(self, units: list[Unit], constants: dict[str, str]) -> None:
        super().__init__(units, constants)
        self._by_leaf: dict[int, dict[str, list[int]]] = {}  # per unit (id): call starts by callee leaf
        self._searched: dict[int, int] = {}  # per large unit (id): tainted names searched for

    def source_marks(self, u: Unit) -> list[int]:
        """Where a secret can enter the unit (every environment read and secret read lies around
        one of these places); all call starts when a read can be anywhere."""
        reads = self.read_marks(u)
        if reads is None:
            reads = [n.start_byte for n in u.ix.bucket("call")]
        return sorted(reads + u.env_marks(self.demand, self.report_hosts(u))) if u.env_words else reads

    @cached_property
    def demand(self) -> Demand:
        """Which environment reads the sends of the language can report (`flow_demand`): those
        they cannot are never followed."""
        named = self._host_constants
        if all(blind_sends(u.screen.data, u.sink_leaves(), named) for u in self.units):
            return Demand.WHOLE
        if any(
            u.screen.present(DNS_LEAVES) and dns_sends(u.screen.data, u.sink_leaves()) for u in self.units
        ):
            return Demand.ALL
        return Demand.CREDENTIALS

    def report_hosts(self, u: Unit) -> frozenset[str] | None:
        """The hosts a send may report a credential `u` reads to, when the text tells them
        (`flow_hosts`; None: any host): none when no value moves (`stays_put`) and each is read on
        a line that only names hosts its name names (`line_reads`), else every host a send of the
        language can be given (`send_hosts`)."""
        if self.demand is not Demand.CREDENTIALS or not all(map(_read_whole, self.units)):
            return None
        if self.stays_put and self._lines_name_their_hosts(u):
            return frozenset()
        return self.send_hosts

    @cached_property
    def send_hosts(self) -> frozenset[str] | None:
        """Every host a send of the language can be given (`flow_hosts.send_hosts`)."""
        written = [self._written_hosts(u) for u in self.units]
        return send_hosts(written, self._host_constants.values(), self._plain)

    @staticmethod
    def _written_hosts(u: Unit) -> frozenset[str] | None:
        return u.screen.fact("written-hosts", lambda _: written_hosts(u.screen.data, u.screen.lines))

    @cached_property
    def stays_put(self) -> bool:
        """Whether no value is handed on: no assignment, loop, `with … as`, return or arrow
        function (`BINDINGS`), no call of the skill's own functions and no file write (the calls
        the engine passes taint through). A send then reports only what is read inside it."""
        return not self.functions and not any(
            any(u.ix.indices(b) for b in BINDINGS) or u.screen.present(WRITES) for u in self.units
        )

    def _lines_name_their_hosts(self, u: Unit) -> bool:
        """Whether each credential `u` reads (`line_reads`) names every host written on its line
        and every host a named constant holds."""
        lines = u.screen.fact(f"line-reads:{u.lang.name}", lambda _: line_reads(u.screen.data, u.lang))
        constant = frozenset(self._host_constants.values())
        if lines is None or any(c.isdigit() for h in constant for c in h):
            return False  # (the names of `lines` are read with their digits as zeros)
        budget = MAX_PAIRS  # names matched against hosts, for the whole script
        for hosts, names in lines:
            every, credentials = hosts | constant, credential_names(names)
            budget -= len(credentials) * len(every)
            if budget < 0 or not plain_hosts(every, self._plain) or reported(credentials, every):
                return False
        return True

    @cached_property
    def _plain(self) -> Callable[[str], bool]:
        return self.units[0].fctx.skill.catalog.plain_host

    @cached_property
    def _host_constants(self) -> dict[str, str]:
        return host_constants(self.constants)

    def needs_taint(self) -> bool:
        """Taint can only matter when some file sends and some value is a secret; then the places
        secrets come from are heated (`Heat`) and the rounds run. A large file is heated at every
        place a secret can come from (a superset: it spares no walk the rounds must make)."""
        if not any(u.ix.indices("call") for u in self.units):
            return False  # no send at all
        if not any(u.env_words or self.read_marks(u) != [] for u in self.units):
            return False  # no secret at all
        if not any(self._sends(u) for u in self.units):
            return False
        marks_of = [self.source_marks(u) for u in self.units]
        found = False
        for u, marks in zip(self.units, marks_of, strict=True):
            starts = self._secret_reads(u, marks, first=not self._exact(u))
            if starts:  # a unit with no secret read at all stays cold
                u.heat.add(starts if self._exact(u) else marks)
                found = True
        return found

    @staticmethod
    def _exact(u: Unit) -> bool:
        """Whether the unit is heated exactly where its secrets come from (and its tainted names
        where they are identifiers), or, past EXACT_BYTES, wherever they can."""
        return len(u.screen.data) <= EXACT_BYTES

    def _sends(self, u: Unit) -> bool:
        if not u.ix.indices("call"):
            return False
        sweep = u.ix.sweep("call")
        for p in u.sink_leaves():
            i = sweep.innermost(p)
            if i is not None and self.sink(u.ix.nodes[i], u) is not None:
                return True
        return False

    def _secret_reads(self, u: Unit, marks: list[int], first: bool) -> list[int]:
        """Start bytes of the calls, attributes and subscripts of the unit that read the
        environment or a secret, of the names that stand for the whole environment, and of the
        destructurings that take it out of its module (`const {env} = process`): every one lies
        around a mark, or at one. With `first`, only the first found."""
        if not marks:
            return []
        nodes, ix = u.ix.nodes, u.ix
        kinds = (
            ("call", "member", "subscript", "assign") if u.destructures else ("call", "member", "subscript")
        )
        buckets = [ix.indices(b) for b in kinds]
        # every read wanted: one sweep over the buckets; any one: a sweep of each (no merge)
        sweeps = (
            [Sweep(nodes, b, ix.root) for b in buckets if b]
            if first
            else [Sweep(nodes, sorted(i for b in buckets for i in b), ix.root)]
        )
        whole = u.env_names(whole=True)
        named = set(u.occurrences(whole)) if whole else set()
        calls, seen, found = u.lang.call, set(), []
        for p in marks:
            if p in named:
                found.append(p)
                if first:
                    return found
            for sweep in sweeps:
                for i in list(sweep.around(p)):
                    if i in seen:
                        continue
                    seen.add(i)
                    n = nodes[i]
                    t = n.type
                    reads: object
                    if t in calls:
                        reads = self.env(n, u) or self.read(n, u)
                    elif t == u.lang.member:
                        reads = self.env(n, u)
                    elif t in u.lang.assign:
                        reads = destructures_env(*assign_sides(n), u.lang, u.aliases_at(n))
                    else:
                        value = n.child_by_field_name("value") or n.child_by_field_name("object") or n
                        reads = self.env(value, u) or self.env(n, u)  # `os.environ["K"]`, `process["env"]`
                    if reads:
                        found.append(n.start_byte)
                        if first:
                            return found
        found.sort()
        return found

    def _find_mentions(self, table: str, bare: str) -> dict[int, list[int]]:
        """Where a tainted name is mentioned (its identifiers), or a tainted function (its calls);
        in a large file, wherever the name occurs as a whole word (also in strings and comments:
        a superset), or, once more than MAX_WORDS names were searched for there, its identifiers."""
        found: dict[int, list[int]] = {}
        if table in {"names", "functions"}:
            for u in self.units:
                if not self._exact(u) and (table == "functions" or self._searches(u) <= MAX_WORDS):
                    found[id(u)] = u.words((bare,))
                elif table == "names":
                    found[id(u)] = [u.ix.nodes[i].start_byte for i in u.ix.names_by_text().get(bare, [])]
                else:
                    found[id(u)] = self._calls_by_leaf(u).get(bare, [])
        if table == "staged":
            for u, c in self._staging_reads().get(bare, []):
                found.setdefault(id(u), []).append(c.start_byte)
        return found

    def _searches(self, u: Unit) -> int:
        """How many tainted names the large unit `u` has been searched for, this one included: past
        MAX_WORDS, its identifiers are read once instead (a search costs a pass over the text)."""
        self._searched[id(u)] = count = self._searched.get(id(u), 0) + 1
        return count

    def _calls_by_leaf(self, u: Unit) -> dict[str, list[int]]:
        """Start bytes of a unit's calls by the last name of their callee (made once: every newly
        tainted function would otherwise scan every call)."""
        found = self._by_leaf.get(id(u))
        if found is None:
            found = self._by_leaf[id(u)] = {}
            for c in u.ix.bucket("call"):
                found.setdefault(self.leaf(c), []).append(c.start_byte)
        return found
