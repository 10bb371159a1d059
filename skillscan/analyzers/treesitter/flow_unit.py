"""One script as the flow engine sees it (`Unit`): its index, its text screens and the scopes of its
statements, each worked out on first use, for the whole file or for a prefix of it (`Unit.prefix`:
a file flooded with sends of secrets is reported from its first statements)."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from tree_sitter import Node

from skillscan.analyzers.treesitter.flow_demand import Demand, cold_reads, single_reads
from skillscan.analyzers.treesitter.flow_env import ALIAS_HEADS, GETENV, WHOLE, aliases
from skillscan.analyzers.treesitter.flow_index import FileIndex, Heat
from skillscan.analyzers.treesitter.flow_model import JS, Lang, mentions_keychain, source_features
from skillscan.analyzers.treesitter.flow_receivers import sink_receivers
from skillscan.analyzers.treesitter.flow_screen import Screen, assigned
from skillscan.analyzers.treesitter.flow_syntax import function_name, param_names
from skillscan.analyzers.treesitter.parsing import node_text
from skillscan.analyzers.treesitter.registry import FileContext

MAX_WORDS = 200  # names searched for in a text; with more, every place may hold one
_ALIAS_ROUNDS = 4  # links of a chain of aliases followed (`p = require("process"); q = p; r = q`)
# an object pattern's end, a type annotation maybe, then its value
_DESTRUCTURES = re.compile(r"\}\s*(?::[^=;{}]{0,200})?=(?![=>])")


class Scopes:
    """Per statement: the name of the innermost function around it (else the file path) and that
    function; per function: its name. Sweeps with a stack over the bucketed nodes, asked in
    document order (no parent walks: `node.parent` costs O(depth) in tree-sitter)."""

    def __init__(self, ix: FileIndex, path: str) -> None:
        self._ix = ix
        self._path = path
        self._found: dict[int, tuple[str, int | None]] = {}
        self._functions = ix.indices("function")
        self._next = 0
        self._stack: list[tuple[int, int]] = []  # (end byte, function index)
        self._last = -1

    @cached_property
    def names(self) -> dict[int, str | None]:
        """Function index -> its own name, or the name it is bound to (`const f = () => …`)."""
        ix = self._ix
        functions = set(self._functions)
        out: dict[int, str | None] = {}
        namer_stack: list[tuple[int, Node]] = []  # (end byte, declarator / pair / assignment)
        for i in sorted(functions.union(ix.indices("namer"))):
            n = ix.nodes[i]
            start = n.start_byte
            while namer_stack and start >= namer_stack[-1][0]:
                namer_stack.pop()
            if i in functions:
                out[i] = function_name(n, namer_stack[-1][1] if namer_stack else None)
            else:
                namer_stack.append((n.end_byte, n))
        return out

    def _at(self, i: int) -> tuple[str, int | None]:
        found = self._found.get(i)
        if found is not None:
            return found
        if i < self._last:
            self._next, self._stack = 0, []
        self._last = i
        nodes, functions, stack = self._ix.nodes, self._functions, self._stack
        while self._next < len(functions) and functions[self._next] < i:
            fn = nodes[functions[self._next]]
            while stack and fn.start_byte >= stack[-1][0]:
                stack.pop()
            stack.append((fn.end_byte, functions[self._next]))
            self._next += 1
        start = nodes[i].start_byte
        while stack and start >= stack[-1][0]:
            stack.pop()
        if stack:
            owner = stack[-1][1]
            found = (self.names.get(owner) or self._path, owner)
        else:
            found = (self._path, None)
        self._found[i] = found
        return found

    def of(self, i: int) -> str:
        """The scope statement `i` is read in."""
        return self._at(i)[0]

    def owner(self, i: int) -> int | None:
        """The innermost function around statement `i`."""
        return self._at(i)[1]


@dataclass
class Unit:
    """One script as the flow engine sees it; with `cut`, only its statements before that byte."""

    fctx: FileContext
    lang: Lang
    ix: FileIndex
    screen: Screen
    cut: int | None = None
    heat: Heat = field(init=False)
    _secret: list[int] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.heat = Heat(self.ix.horizon)

    @classmethod
    def of(cls, fctx: FileContext, lang: Lang) -> Unit | None:
        ix = FileIndex.of(fctx, lang) if fctx.file.kind in lang.kinds else None
        if ix is None:
            return None
        return cls(fctx=fctx, lang=lang, ix=ix, screen=Screen(fctx.source))

    def prefix(self, cut: int) -> Unit:
        return Unit(fctx=self.fctx, lang=self.lang, ix=self.ix.prefix(cut), screen=self.screen, cut=cut)

    @property
    def path(self) -> str:
        return self.fctx.file.path

    @property
    def text(self) -> str:
        return self.fctx.source

    @property
    def features(self) -> frozenset[str]:
        """What decides whether `.send` / `.post` talk to the network (of the whole file)."""
        lang = self.lang
        return self.screen.fact(f"features:{lang.name}", lambda text: source_features(text, lang), lines=True)

    @property
    def keychain(self) -> bool:
        """The file mentions a keychain command at all."""
        return self.screen.fact("keychain", mentions_keychain)

    @property
    def env_words(self) -> bool:
        """The file can name the environment at all (os.environ, getenv, process.env, or by a
        constant attribute name: `getattr(os, "envi" + "ron")`)."""
        return self.screen.fact("env", lambda text: "env" in text or "getattr" in text, lines=True)

    @cached_property
    def aliases(self) -> dict[str, str]:
        """Names the script gives the environment's module, its readers or the environment itself
        (`flow_env.aliases`): its imports, and the assignments whose value starts right after the
        `=` with a name a module or a reader can be reached by, an alias found so far included."""
        if not self.env_words:
            return {}
        imports = self.ix.bucket("import")
        found = aliases(imports, [], self.lang)
        heads: frozenset[str] = frozenset()
        # `q = p` after `p = require("process")`: a round per link (none without an assignment)
        for _ in range(_ALIAS_ROUNDS if self.ix.indices("assign") else 0):
            more = ALIAS_HEADS.union(found) if len(found) <= MAX_WORDS else ALIAS_HEADS
            if more == heads:
                break
            heads = more
            sites = assigned(self.screen.data, self.words(heads))
            if not sites:
                break
            sweep = self.ix.sweep("assign")
            nodes = sorted({i for p in sites if (i := sweep.innermost(p)) is not None})
            found = aliases(imports, [self.ix.nodes[i] for i in nodes], self.lang)
        return found

    def aliases_at(self, n: Node) -> dict[str, str]:
        """`aliases` as they stand at `n`: less the names a function around it takes as parameters
        (in `def f(g): g(…)`, g is f's argument, whatever the file imports as g)."""
        hidden = [names for start, end, names in self._alias_parameters if start <= n.start_byte < end]
        if not hidden:
            return self.aliases
        gone = frozenset().union(*hidden)
        return {name: target for name, target in self.aliases.items() if name not in gone}

    @cached_property
    def _alias_parameters(self) -> list[tuple[int, int, frozenset[str]]]:
        """(start, end, names) of each function that takes a name of `aliases` as a parameter."""
        if not self.aliases:
            return []
        out: list[tuple[int, int, frozenset[str]]] = []
        for fn in self.ix.bucket("function"):
            single = fn.child_by_field_name("parameter")  # `p => …`
            params = [node_text(single)] if single is not None else param_names(fn, self.lang)
            shadowed = self.aliases.keys() & set(params)
            if shadowed:
                out.append((fn.start_byte, fn.end_byte, frozenset(shadowed)))
        return out

    @property
    def destructures(self) -> bool:
        """The script may destructure an object (`const {env} = process`, `({a} = o)`)."""
        return self.lang is JS and self.screen.fact("destructures", _DESTRUCTURES.search) is not None

    def env_names(self, whole: bool = False) -> list[str]:
        """Names standing for the environment (with `whole`, only for all of it) or a reader of it.
        Only a statement naming the environment other than by reading one known variable gives
        such a name (`from os import environ as E`, `g = os.getenv`, `getattr(os, "getenv")`), and
        for all of it only an import, which reads no single variable: a file with no such mark has
        none."""
        if not (self._whole_env_marks if whole else self._open_env_marks):
            return []
        wanted = WHOLE[self.lang.name] if whole else WHOLE[self.lang.name] | GETENV
        return [name for name, target in self.aliases.items() if target in wanted]

    @cached_property
    def _single_reads(self) -> dict[int, bytes | None]:
        """Where the environment can only be read one variable at a time (`flow_demand`)."""
        lang = self.lang
        return self.screen.fact(f"single-env:{lang.name}", lambda _: single_reads(self.screen.data, lang))

    @cached_property
    def _whole_env_marks(self) -> list[int]:
        """The offsets of "env" (whole file) where all of the environment may be read."""
        single = self._single_reads
        return [p for p in self.screen.env() if p not in single]

    @cached_property
    def _open_env_marks(self) -> list[int]:
        """The marks (whole file) that may read or name something other than a known variable."""
        single = self._single_reads
        return [p for p in self.screen.env() + self.screen.words(["getattr"]) if single.get(p) is None]

    @cached_property
    def scopes(self) -> Scopes:
        return Scopes(self.ix, self.path)

    def within(self, positions: list[int]) -> list[int]:
        """`positions` (sorted) that lie before the cut."""
        return positions if self.cut is None else positions[: bisect_left(positions, self.cut)]

    # --- the text screens, before the cut ---------------------------------------------
    def sink_leaves(self) -> list[int]:
        """Where a network send can be: callee leaves of calls `flow_model.sink` may accept."""
        key = (self.lang.name, self.features)
        return self.screen.leaves(sink_receivers(*key), key, self.cut)

    def shell_leaves(self) -> list[int]:
        return self.screen.shell_leaves(self.cut)

    def secret(self) -> list[int]:
        """Where a secret path can be named: its words and escapes inside string literals (a read's
        path is made of literal strings, constants and path variables: `path_label`; the names of
        those are marked apart, `Facts.name_marks`)."""
        if self._secret is None:
            marks = self.screen.secret(self.cut)
            self._secret = self.ix.inside("string", marks) if marks else marks
        return self._secret

    def env_marks(self, demand: Demand, hosts: frozenset[str] | None = None) -> list[int]:
        """Where the environment can be read: "env", `getattr`, and the names standing for it or a
        reader of it; not where a read the sends (to `hosts`) cannot report is the only one
        (`flow_demand`)."""
        found, getattrs = self.screen.env(self.cut), self.words(["getattr"])
        if demand is not Demand.ALL:
            # of the whole file, worked out once (a flood's prefix is analysed first, then all of it)
            to = ",".join(sorted(hosts)) if hosts is not None else "anywhere"
            left = self.screen.fact(
                f"cold-env:{self.lang.name}:{demand.value}:{to}",
                lambda _: cold_reads(self._single_reads, demand, hosts),
            )
            found = [p for p in found if p not in left]
            getattrs = [p for p in getattrs if p not in left]
        names = self.env_names(whole=demand is Demand.WHOLE)
        named = getattrs + self.occurrences(names)
        return sorted(found + named) if named else found

    def occurrences(self, names: list[str]) -> list[int]:
        """Where `names` occur as words (sorted), or with more than MAX_WORDS of them, as
        identifiers (each identifier's text read once, rather than the text searched per name)."""
        if len(names) <= MAX_WORDS:
            return self.words(names)
        by_text, nodes = self.ix.names_by_text(), self.ix.nodes
        return sorted(nodes[i].start_byte for name in names for i in by_text.get(name, ()))

    def keychain_marks(self) -> list[int]:
        return self.screen.keychain(self.cut)

    def words(self, names: Iterable[str]) -> list[int]:
        return self.screen.words(names, self.cut)
