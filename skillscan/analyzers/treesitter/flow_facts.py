"""What the scripts of one language say before any taint: the constants they assign, the functions
they define, each call's callee, network send, secret read and environment read, and the variables
that hold secret paths. Each fact is computed once per node and cached (the taint rounds and the
findings ask again and again), and only for the nodes the text screens (`flow_screen`) leave."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from functools import cached_property

from tree_sitter import Node

from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.flow_env import env_source
from skillscan.analyzers.treesitter.flow_model import (
    Send,
    Source,
    call_args,
    path_label,
    plain_callee,
    positional,
    read_source,
    sink,
)
from skillscan.analyzers.treesitter.flow_syntax import assign_sides, bound_keys, is_path_like
from skillscan.analyzers.treesitter.flow_unit import MAX_WORDS, Unit
from skillscan.analyzers.treesitter.parsing import node_text
from skillscan.analyzers.treesitter.sensitive import may_name_secret

_SEQUENCES = frozenset({"list", "tuple", "array", "set"})
MAX_PATH_ROUNDS = 6
_MAX_LABEL_KEY = 200  # bytes of an argument's text worth keeping as a key
_MAX_LABELS = 10_000

# An `=` that can assign a constant: a value only resolves (`constants.resolve`) if it starts with
# a string (or its prefix), a template, a parenthesis, `chr`, `String` or `bytes`. A comment, a
# backslash or a non-ASCII character after the `=` keeps the place too.
_CONSTANT_SITE = re.compile(
    rb"=(?<![=!]=)(?![=>])(?=[ \t\r\n\f\v\\]*"
    rb"(?:[\"'`(/#\x80-\xff]|[rRbBuUfF]{1,2}[\"']|(?:chr|String|bytes)(?![A-Za-z0-9_$])))"
)


def constants_of(units: list[Unit]) -> dict[str, str]:
    """Names assigned a constant string in the scripts of one language (the first one in document
    order, then in file order, wins): from the assignments around an `=` that can assign one."""
    constants: dict[str, str] = {}
    for u in units:
        sites = u.within([m.start() for m in _CONSTANT_SITE.finditer(u.screen.data)])
        if not sites:
            continue
        sweep = u.ix.sweep("assign")
        for i in sorted({i for p in sites if (i := sweep.innermost(p)) is not None}):
            left, right = assign_sides(u.ix.nodes[i])
            if left is not None and right is not None and left.type in {"identifier", u.lang.member}:
                value = resolve(right)
                if value is not None:
                    constants.setdefault(node_text(left).rsplit(".", 1)[-1], value)
    return constants


def around(u: Unit, bucket: str, marks: list[int]) -> set[int]:
    """Indices of the bucket's nodes that contain one of the (sorted) `marks`."""
    found: set[int] = set()
    if not u.ix.indices(bucket):
        return found
    sweep = u.ix.sweep(bucket)
    for p in u.within(marks):
        found.update(sweep.around(p))
    return found


class Facts:
    """The static facts of the units of one language (the taint engine builds on them)."""

    def __init__(self, units: list[Unit], constants: dict[str, str]) -> None:
        self.units = units
        self.constants = constants
        self.path_vars: dict[str, str] = {}  # variable -> the secret its path names
        # static facts of a node, by node id: computed once, not once per round
        self._names: dict[int, str] = {}
        self._leaves: dict[int, str] = {}
        self._sinks: dict[int, Send | None] = {}
        self._reads: dict[int, Source | None] = {}
        self._envs: dict[int, Source | None] = {}
        self._args: dict[int, list[Node]] = {}
        self._staged_args: dict[str, list[tuple[Unit, Node]]] | None = None
        self._labels: dict[str, str | None] = {}  # read argument text -> its label
        # names whose value may take part in a secret path: the constants that pass the screen,
        # then (once settled) the path variables too; where they occur, per unit and set of names
        self._path_names = frozenset(k for k, v in self.constants.items() if may_name_secret(v))
        self._name_marks: dict[tuple[int, int | None, frozenset[str]], list[int] | None] = {}

    @cached_property
    def functions(self) -> dict[str, list[tuple[Unit, Node]]]:
        """The skill's own functions by name (read when taint runs)."""
        found: dict[str, list[tuple[Unit, Node]]] = {}
        for u in self.units:
            for i, name in u.scopes.names.items():
                if name:
                    found.setdefault(name, []).append((u, u.ix.nodes[i]))
        return found

    # --- static facts --------------------------------------------------------------------
    def name(self, call: Node) -> str:
        found = self._names.get(call.id)
        if found is None:
            found = self._names[call.id] = plain_callee(call)
        return found

    def leaf(self, call: Node) -> str:
        found = self._leaves.get(call.id)
        if found is None:
            found = self._leaves[call.id] = self.name(call).rsplit(".", 1)[-1]
        return found

    def positional(self, call: Node) -> list[Node]:
        found = self._args.get(call.id)
        if found is None:
            found = self._args[call.id] = positional(call)
        return found

    def sink(self, call: Node, u: Unit) -> Send | None:
        if call.id not in self._sinks:
            self._sinks[call.id] = sink(call, u.lang, self.constants, u.features, self.name(call))
        return self._sinks[call.id]

    def read(self, call: Node, u: Unit) -> Source | None:
        """Valid once path variables are settled (`settle_paths`)."""
        if call.id not in self._reads:
            may = u.keychain or self.may_name_secret(u, call.start_byte, call.end_byte)
            self._reads[call.id] = (
                read_source(call, u.lang, lambda arg: self._label(arg, u), u.keychain, self.name(call))
                if may
                else None
            )
        return self._reads[call.id]

    def read_marks(self, u: Unit) -> list[int] | None:
        """Where a secret read of the unit can be (a call reads one only around such a place):
        path words, escapes, names of secret paths, keychain commands. None: anywhere."""
        names = self.name_marks(u)
        if names is None or u.keychain:
            return None
        return sorted(u.secret() + names + u.keychain_marks())

    def name_marks(self, u: Unit) -> list[int] | None:
        """Where the names of secret paths occur (None: too many names to search for)."""
        key = (id(u.screen), u.cut, self._path_names)
        if key not in self._name_marks:
            self._name_marks[key] = u.words(self._path_names) if len(self._path_names) <= MAX_WORDS else None
        return self._name_marks[key]

    def may_name_secret(self, u: Unit, start: int, end: int) -> bool:
        """Whether a path in [start, end) can name a secret: a path word or an escape occurs there
        (`sensitive.may_name_secret`), or one of the constants and path variables that can."""
        for marks in (u.secret(), self.name_marks(u)):
            if marks is None:
                return True
            k = bisect_left(marks, start)
            if k < len(marks) and marks[k] < end:
                return True
        return False

    def _label(self, arg: Node, u: Unit) -> str | None:
        """The secret a read's argument names: by its path, or as a path variable. A short
        argument's label is remembered by its text (the same `open(KEY_FILE)` recurs)."""
        text = node_text(arg) if arg.end_byte - arg.start_byte <= _MAX_LABEL_KEY else None
        if text is not None and text in self._labels:
            return self._labels[text]
        label = path_label(arg, u.ix, self.constants) or (
            next((self.path_vars[n] for n in u.ix.names_under(arg)[:40] if n in self.path_vars), None)
            if self.path_vars
            else None
        )
        if text is not None and len(self._labels) < _MAX_LABELS:
            self._labels[text] = label
        return label

    def env(self, n: Node, u: Unit) -> Source | None:
        if not u.env_words:
            return None
        if n.id not in self._envs:
            self._envs[n.id] = env_source(n, u.lang, u.aliases_at(n))
        return self._envs[n.id]

    # --- path variables ----------------------------------------------------------------
    def settle_paths(self) -> None:
        """Variables holding a secret path (`p = "~/.ssh/id_rsa"`, `for p in paths`), to a fixed
        point before any taint: they only depend on each other."""
        steps = [step for u in self.units for step in self._path_steps(u)]
        for _ in range(MAX_PATH_ROUNDS):
            before = len(self.path_vars)
            for keys, label, right in steps:
                label = label or (self._paths_in(right) if right is not None else None)
                if label:
                    for key in keys:
                        self.path_vars.setdefault(key.split(":", 1)[-1], label)
            if len(self.path_vars) == before:
                break
        self._path_names |= frozenset(self.path_vars)

    def _path_steps(self, u: Unit) -> Iterable[tuple[list[str], str | None, Node | None]]:
        """(bound keys, fixed label, node whose label depends on other path variables), for the
        assignments around a place a secret path can be named and for every loop."""
        if not u.ix.indices("assign") and not u.ix.indices("loop"):
            return
        names = self.name_marks(u)
        assigns = (
            set(u.ix.indices("assign")) if names is None else around(u, "assign", sorted(u.secret() + names))
        )
        for i in sorted(assigns.union(u.ix.indices("loop"))):
            n = u.ix.nodes[i]
            if i in assigns:
                left, right = assign_sides(n)
                if left is None or right is None:
                    continue
                if not self.may_name_secret(u, right.start_byte, right.end_byte):
                    continue
                label = path_label(right, u.ix, self.constants) if is_path_like(right, u.lang) else None
                if label is None and right.type in _SEQUENCES:
                    label = self._paths_in(right, u)
                if label:
                    yield bound_keys(left, u.lang, u.scopes.of(i)), label, None
            else:
                left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
                if left is not None and right is not None:
                    may = self.may_name_secret(u, right.start_byte, right.end_byte)
                    label = self._paths_in(right, u) if may and right.type in _SEQUENCES else None
                    dynamic = right if right.type == "identifier" else None
                    if label or dynamic is not None:
                        yield bound_keys(left, u.lang, u.scopes.of(i)), label, dynamic

    def _paths_in(self, node: Node, u: Unit | None = None) -> str | None:
        """A list of paths (or a variable holding one) with a secret among its elements."""
        if node.type == "identifier":
            return self.path_vars.get(node_text(node))
        if node.type not in _SEQUENCES or u is None:
            return None
        for el in node.named_children[:200]:
            label = path_label(el, u.ix, self.constants) if el.type not in _SEQUENCES else None
            if label:
                return label
        return None

    # --- staging files ---------------------------------------------------------------
    def _staging_reads(self) -> dict[str, list[tuple[Unit, Node]]]:
        """Calls by the constant paths they are given (reads of a staging file)."""
        if self._staged_args is None:
            self._staged_args = {}
            for u in self.units:
                for c in u.ix.bucket("call"):
                    for value in self._arg_values(c):
                        self._staged_args.setdefault(value, []).append((u, c))
        return self._staged_args

    def _arg_values(self, call: Node) -> Iterable[str]:
        for a in call_args(call):
            value = resolve(a) or (self.constants.get(node_text(a)) if a.type == "identifier" else None)
            if value is not None:
                yield value
