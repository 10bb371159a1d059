"""Credential flows in Python and JavaScript/TypeScript: a secret read reaching a network send,
within a file and across the files of a skill.

A small taint analysis over all scripts of one language at once (so `collector.py` reading
`~/.aws/credentials`, `encoder.py` wrapping it and `reporter.py` posting it are one flow):
sources are secret-file reads (`open`, `read_text`, `readFileSync` of SSH keys, cloud credentials,
OpenClaw config, wallets, …), the whole environment (`os.environ.items()`, `{...process.env}`),
single credential variables and keychain reads, the environment however a script names it
(aliases, `getattr`, destructuring: `flow_env.py`); taint follows assignments, destructurings,
loops, `with … as`, function returns and arguments (by function name, across files) and files
written by one script and read by another. Sinks are HTTP clients, sockets, mail and DNS lookups,
optional-chained calls read as plain ones (findings in `flow_findings.py`, the engine in
`flow_engine.py`).

Kept linear and cheap: each file is walked once (`flow_index`), its text screened for where a
send, a shell call, a secret read or a constant can be (`flow_screen`) so that only the nodes
there are looked at, each call's name, send and secret read are computed once, path variables
settle before taint, the environment reads no send of the language can report stay cold
(`flow_demand`, given the hosts the text says the sends go to: `flow_hosts`), a language with no
send or no source skips the taint rounds, and a value with no tainted leaf beneath it is dismissed
by bisection.

A large file that may be a flood of sends (many places a send can be, and secrets to send) is
first analysed from its first statements alone: once those hold as many findings of a critical
rule as a report lists (`registry.saturating_rules`), the rest of the file cannot make its
verdict worse, and it is reported as a shortfall (`FileContext.saturate`) instead of analysed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from skillscan.analyzers.treesitter.flow_engine import MAX_HITS_PER_RULE_FILE, Engine
from skillscan.analyzers.treesitter.flow_facts import constants_of
from skillscan.analyzers.treesitter.flow_findings import Findings
from skillscan.analyzers.treesitter.flow_model import JS, PY
from skillscan.analyzers.treesitter.flow_unit import Unit
from skillscan.analyzers.treesitter.registry import FindingCap, Hit, SkillContext, saturating_rules
from skillscan.analyzers.treesitter.sensitive import ThreatContext
from skillscan.analyzers.treesitter.syntax_walk import no_cycle_collection

CHECK = "CredentialFlows"
# Prefixes a possible flood is first analysed from (bytes, cut after a whole top-level statement).
PREFIXES = (4096, 32768)


def _engine(units: list[Unit], constants: dict[str, str]) -> Engine:
    engine = Engine(units, constants)
    engine.settle_paths()
    if engine.needs_taint():
        engine.run()
    return engine


def _cut(u: Unit, limit: int) -> int | None:
    """The start of the first top-level statement at or after byte `limit` (None: there is none),
    found by bisection over the root's children."""
    tree = u.fctx.tree
    if tree is None:
        return None
    root = tree.root_node
    lo, hi = 0, root.child_count
    while lo < hi:
        mid = (lo + hi) // 2
        child = root.child(mid)
        if child is not None and child.start_byte >= limit:
            hi = mid
        else:
            lo = mid + 1
    found = root.child(lo) if lo < root.child_count else None
    return found.start_byte if found is not None else None


def _saturated(u: Unit, constants: dict[str, str], threat: ThreatContext) -> tuple[int, str] | None:
    """(cut, rule) when the unit, analysed from its first statements alone, lists a report's worth
    of findings of a critical rule before the cut."""
    size = len(u.screen.data)
    if size <= PREFIXES[0] or not u.ix.indices("call"):
        return None
    critical = saturating_rules()
    for limit in PREFIXES:
        cut = _cut(u, limit) if limit < size else None
        if cut is None:
            return None
        head = u.prefix(cut)
        if len(head.sink_leaves()) + len(head.shell_leaves()) < MAX_HITS_PER_RULE_FILE:
            continue  # too few places a send or a shell call can be
        cap = FindingCap(MAX_HITS_PER_RULE_FILE)
        listed: dict[str, int] = {}
        for hit in Findings(_engine([head], constants), threat).hits(cap.admit):
            if hit.rule_id in critical:
                listed[hit.rule_id] = listed.get(hit.rule_id, 0) + 1
                if listed[hit.rule_id] >= MAX_HITS_PER_RULE_FILE:
                    return cut, hit.rule_id
        if not listed:
            return None  # its first statements send nothing critical: no flood of it
    return None


def _analyse(units: list[Unit], threat: ThreatContext, cap: FindingCap) -> Iterator[Hit]:
    constants = constants_of(units)
    stopped: list[tuple[Unit, str]] = []
    for k, u in enumerate(units):
        found = _saturated(u, constants, threat)
        if found is not None:
            units[k] = u.prefix(found[0])
            stopped.append((u, found[1]))
    yield from Findings(_engine(units, constants), threat).hits(cap.admit)
    for u, rule in stopped:
        u.fctx.saturate(CHECK, rule)


class CredentialFlows:
    """Skill check: secret reads reaching network sends, per language, across files."""

    def check_skill(self, ctx: SkillContext) -> Iterable[Hit]:
        cap = FindingCap(MAX_HITS_PER_RULE_FILE)
        hits: list[Hit] = []
        # many short-lived objects (matches, node handles), no cycles: a collection they would
        # set off walks the whole heap, a million walked nodes of a large script included
        with no_cycle_collection():
            for lang in (PY, JS):
                units = [u for f in ctx.files if (u := Unit.of(f, lang)) is not None]
                if units:
                    hits += _analyse(units, ctx.threat, cap)
        return hits


CHECKS = [CredentialFlows()]
