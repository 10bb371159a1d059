"""A script's statements, strings and names from the file's shared walk (`syntax_walk`), and the
lookups that spare further walks (flow and obfuscation checks).

`FileIndex`, built once per file and shared by the obfuscation and flow checks, keeps literal strings and names in source order with their start bytes, so "the strings and
names under this expression" is a bisection instead of a walk of the expression; `Heat` answers
"could anything tainted lie under this node" the same way: a value with no tainted name, secret
read or tainted call beneath it carries no secret and is dismissed without walking it. Every
lookup is bounded, so the work stays linear in the file.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from itertools import islice
from math import isqrt

from tree_sitter import Node

from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.flow_model import Lang
from skillscan.analyzers.treesitter.flow_syntax import NAMING_PARENTS, function_name
from skillscan.analyzers.treesitter.parsing import byte_spans, node_text
from skillscan.analyzers.treesitter.registry import FileContext
from skillscan.analyzers.treesitter.sensitive import fold_case, may_name_secret
from skillscan.analyzers.treesitter.syntax_walk import Walk, shared_walk

WINDOW_BYTES = 2000  # a path expression is small: look at the first strings and names of a value
WINDOW_PARTS = 50
STRINGS = frozenset({"string", "template_string"})
NAMES = frozenset({"identifier", "property_identifier"})


Buckets = tuple[tuple[str, frozenset[str]], ...]  # (bucket, node types): hashable, for the cache


@cache
def flow_buckets(lang: Lang) -> Buckets:
    return (
        ("assign", lang.assign),
        ("loop", lang.loop),
        ("as", frozenset({"as_pattern"})),
        ("return", frozenset({"return_statement"})),
        ("arrow", frozenset({"arrow_function"})),
        ("call", lang.call),
        ("function", lang.functions),
        ("namer", NAMING_PARENTS),
        ("member", frozenset({lang.member})),
        ("subscript", frozenset({"subscript", "subscript_expression"})),
        ("name", NAMES),
        ("string", STRINGS),
    )


STATEMENTS = ("assign", "loop", "as", "return", "arrow", "call")


class FileIndex:
    """A script as the flow and obfuscation checks read it (from the file's shared walk): its
    statements in document order, and the strings and names under any node by bisection."""

    def __init__(self, walk: Walk, lang: Lang, text: str = "") -> None:
        self.nodes = walk.nodes
        self._walk = walk
        self._types = dict(flow_buckets(lang))
        self._indices: dict[str, list[int]] = {}  # bucket -> its node indices, on first use
        # past the horizon nothing is indexed: a node reaching there is never dismissed
        self.horizon = walk.horizon
        self.text = text  # the source, for finding names by text
        self._starts: dict[str, list[int]] = {}  # bucket -> start bytes of its nodes, on first use
        self._nodes_of: dict[str, list[Node]] = {}  # bucket -> its nodes, on first use
        self._string_values: dict[int, str] = {}
        self._name_texts: dict[int, str] = {}
        self._names_by_text: dict[str, list[int]] | None = None
        self._secret: list[int] | None = None
        self._word_starts: dict[frozenset[str], list[int] | None] = {}

    @classmethod
    def of(cls, fctx: FileContext, lang: Lang) -> FileIndex | None:
        """The file's index, built once per skill scan and shared by the checks that read Python
        and JavaScript (obfuscation, then the flows)."""
        built: dict[str, FileIndex] = fctx.shared.setdefault(__name__, {})
        if lang.name not in built:
            walk = shared_walk(fctx)
            if walk is None:
                return None
            built[lang.name] = cls(walk, lang, fctx.source)
        return built[lang.name]

    @cached_property
    def statements(self) -> list[tuple[int, str]]:
        """(node index, bucket) of assignments, loops, returns, calls … in document order."""
        return sorted((i, b) for b in STATEMENTS for i in self.indices(b))

    def indices(self, name: str) -> list[int]:
        """The bucket's node indices in document order (made on first use: do not change it)."""
        found = self._indices.get(name)
        if found is None:
            found = self._indices[name] = self._walk.select(self._types.get(name, frozenset()))
        return found

    def bucket(self, name: str) -> list[Node]:
        """The bucket's nodes in document order (one list, made on first use: do not change it)."""
        found = self._nodes_of.get(name)
        if found is None:
            found = self._nodes_of[name] = [self.nodes[i] for i in self.indices(name)]
        return found

    # --- strings and names under a node --------------------------------------------------
    def strings_under(self, node: Node) -> list[str]:
        """Literal string contents under `node` (not inside another string), in order."""
        out: list[str] = []
        covered = -1  # end byte of the last string taken: strings inside it are its own parts
        for i in self._window("string", node):
            if len(out) >= WINDOW_PARTS:
                break
            if self.nodes[i].start_byte >= covered:
                covered = self.nodes[i].end_byte
                out.append(self._string_value(i))
        return out

    def _window(self, bucket: str, node: Node) -> Iterator[int]:
        """Indexes of the bucket's nodes that start within `node` (its first WINDOW_BYTES), in order."""
        positions = self.indices(bucket)
        starts = self._starts.get(bucket)
        if starts is None:
            starts = self._starts[bucket] = [self.nodes[i].start_byte for i in positions]
        end = min(node.end_byte, node.start_byte + WINDOW_BYTES)
        k = bisect_left(starts, node.start_byte)
        while k < len(positions) and starts[k] < end:
            yield positions[k]
            k += 1

    def _string_value(self, i: int) -> str:
        value = self._string_values.get(i)
        if value is None:
            n = self.nodes[i]
            resolved = resolve(n)
            value = resolved if resolved is not None else _fragments(n)
            self._string_values[i] = value
        return value

    def names_under(self, node: Node) -> list[str]:
        """Identifiers and property names under `node`, in order."""
        return [self.name_text(i) for i in islice(self._window("name", node), WINDOW_PARTS)]

    def name_text(self, i: int) -> str:
        text = self._name_texts.get(i)
        if text is None:
            text = self._name_texts[i] = node_text(self.nodes[i])
        return text

    def may_name_secret(self, start: int, end: int, names: frozenset[str]) -> bool:
        """Whether a path in [start, end) can name a secret: a string there holds a path word or an
        escape (`sensitive.may_name_secret`), or one of `names` (constants and path variables that
        can) occurs there."""
        secret = self._secret_strings()
        k = bisect_left(secret, start)
        if k < len(secret) and secret[k] < end:
            return True
        if not names:
            return False
        found = self._word_starts.get(names)
        if found is None and names not in self._word_starts:
            found = self._word_starts[names] = word_starts(self.text, names)
        if found is None:
            return True
        k = bisect_left(found, start)
        return k < len(found) and found[k] < end

    def _secret_strings(self) -> list[int]:
        """Start bytes of the string literals that hold a path word or an escape (their raw text
        is searched: an escape can spell a word, and a word never spans an interpolation)."""
        if self._secret is None:
            nodes, strings = self.nodes, self.indices("string")
            if self.text.isascii():  # offsets are characters: search the folded file in place
                folded = fold_case(self.text)
                self._secret = [
                    n.start_byte
                    for i in strings
                    if may_name_secret(folded, (n := nodes[i]).start_byte, n.end_byte)
                ]
            else:
                self._secret = [nodes[i].start_byte for i in strings if may_name_secret(node_text(nodes[i]))]
        return self._secret

    def names_by_text(self) -> dict[str, list[int]]:
        if self._names_by_text is None:
            self._names_by_text = {}
            for i in self.indices("name"):
                self._names_by_text.setdefault(self.name_text(i), []).append(i)
        return self._names_by_text


MAX_WORDS = 200


def word_starts(text: str, words: frozenset[str]) -> list[int] | None:
    """Byte offsets of `words` occurring as whole names in `text`, in order (also inside strings
    and comments: a superset of the names). None when there are too many words to search for."""
    if len(words) > MAX_WORDS:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w$])(?:{alternatives})(?![\w$])")
    if text.isascii():
        return [m.start() for m in pattern.finditer(text)]
    return [start for start, _ in byte_spans(text, pattern.finditer(text))]


def _fragments(n: Node) -> str:
    return "/".join(node_text(c) for c in n.named_children if c.type in {"string_content", "string_fragment"})


class Heat:
    """Start bytes of the tainted leaves of one file (names, secret reads, tainted calls): a node
    can carry a secret only when one of them lies in its byte range. Sorted, with a small sorted
    overflow merged in once it outgrows the square root of the rest (amortised sub-linear adds)."""

    def __init__(self, horizon: int | None) -> None:
        self._main: list[int] = []
        self._extra: list[int] = []
        self._horizon = horizon

    def add(self, starts: Iterable[int]) -> None:
        batch = list(starts)
        if len(self._extra) + len(batch) > 32 + isqrt(len(self._main)):
            self._main = sorted(self._main + self._extra + batch)
            self._extra = []
            return
        for s in batch:
            insort(self._extra, s)

    def under(self, node: Node) -> bool:
        return self.hot(node.start_byte, node.end_byte)

    def hot(self, start: int, end: int) -> bool:
        """Whether a tainted leaf starts in [start, end)."""
        if self._horizon is not None and end > self._horizon:
            return True
        for arr in (self._main, self._extra):
            k = bisect_left(arr, start)
            if k < len(arr) and arr[k] < end:
                return True
        return False


@dataclass
class Scopes:
    """Per statement: the name of the innermost function around it (else the file path) and that
    function; per function: its name. One sweep with a stack over the bucketed nodes (no parent
    walks: `node.parent` costs O(depth) in tree-sitter)."""

    of: dict[int, str] = field(default_factory=dict)  # statement index -> scope name
    owner: dict[int, int] = field(default_factory=dict)  # statement index -> function index
    names: dict[int, str | None] = field(default_factory=dict)  # function index -> its name

    @classmethod
    def sweep(cls, ix: FileIndex, path: str) -> Scopes:
        out = cls()
        functions = set(ix.indices("function"))
        namers = set(ix.indices("namer"))
        statements = {i for i, _ in ix.statements}
        stack: list[tuple[int, str, int]] = []  # (end byte, scope name, function index)
        namer_stack: list[tuple[int, Node]] = []  # (end byte, declarator / pair / assignment)
        for i in sorted(functions | namers | statements):
            n = ix.nodes[i]
            start = n.start_byte
            while stack and start >= stack[-1][0]:
                stack.pop()
            while namer_stack and start >= namer_stack[-1][0]:
                namer_stack.pop()
            if i in statements:
                out.of[i] = stack[-1][1] if stack else path
                if stack:
                    out.owner[i] = stack[-1][2]
            if i in functions:
                name = function_name(n, namer_stack[-1][1] if namer_stack else None)
                out.names[i] = name
                stack.append((n.end_byte, name or path, i))
            if i in namers:
                namer_stack.append((n.end_byte, n))
        return out


@dataclass
class Unit:
    """One script as the flow engine sees it."""

    fctx: FileContext
    lang: Lang
    ix: FileIndex
    text: str
    features: frozenset[str]  # what decides whether `.send` / `.post` talk to the network
    keychain: bool  # the file mentions a keychain command at all
    env_words: bool  # the file can name the environment at all
    scopes: Scopes
    heat: Heat = field(init=False)

    def __post_init__(self) -> None:
        self.heat = Heat(self.ix.horizon)

    @property
    def path(self) -> str:
        return self.fctx.file.path


class Spans:
    """A union of byte ranges (the values the current taint round has looked at), for asking
    whether a leaf lies in one of them. Ranges arrive mostly in source order: appending is O(1)."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        starts, ends = self._starts, self._ends
        if not starts or start > ends[-1]:
            starts.append(start)
            ends.append(end)
            return
        if start >= starts[-1]:
            ends[-1] = max(ends[-1], end)
            return
        # out of order: insert, then merge with the neighbours it touches
        k = bisect_left(starts, start)
        if k > 0 and ends[k - 1] >= start:
            k -= 1
            start = starts[k]
        j = k
        while j < len(starts) and starts[j] <= end:
            end = max(end, ends[j])
            j += 1
        starts[k:j] = [start]
        ends[k:j] = [end]

    def hits(self, positions: list[int]) -> bool:
        starts, ends = self._starts, self._ends
        for p in positions:
            k = bisect_right(starts, p) - 1
            if k >= 0 and p < ends[k]:
                return True
        return False
