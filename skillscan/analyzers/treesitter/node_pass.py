"""One node check's pass over one file (`FileNodeCheck.begin`, run by `NodeDispatcher`): only the
calls that can be flagged read, each distinct call judged once, hits listed as the report keeps
them and the rest only counted.

- A call's text decides its verdict (with what the file fixes for all its calls: imports,
  `require` bindings), so a call of the same text is not judged again: a flood of one call
  repeated on 30,000 lines costs one judgement and 30,000 look-ups. A judge says when a verdict
  also depends on where the call is (a variable assigned in the enclosing function); such a
  verdict is not reused, nor one of a call with a syntax error in it. A check may also say which
  calls share a verdict though their texts differ (`python_call_shapes`).
- The report keeps MAX_FINDINGS_PER_RULE_FILE hits per rule and file, one per line
  (`FindingCap`): only those are built (evidence read); the rest are counted and handed over with
  the last one listed (`Hit.more`), so the report's note counts them all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from tree_sitter import Node

from skillscan.analyzers.treesitter.registry import MAX_FINDINGS_PER_RULE_FILE, FileContext, Hit
from skillscan.analyzers.treesitter.syntax_walk import Walk

MEMO_BYTES = 1000  # longer calls are judged each time (their text is not copied to be a key)
MAX_MEMO = 50_000  # distinct call texts remembered per file
_UNSEEN = ""  # not a rule: a call text not judged yet

# (rule or None, whether the call's text alone decides it)
Judge = Callable[[Node], tuple[str | None, bool]]
Evidence = Callable[[Node], str]


class CallPass:
    """Hits of one check on one file. `starts` (sorted bytes): where a node the check can flag may
    start (None: anywhere); the other nodes are passed over after reading their start."""

    def __init__(
        self,
        ctx: FileContext,
        judge: Judge,
        evidence: Evidence,
        starts: Sequence[int] | None = None,
        shape: Callable[[str], str | None] | None = None,
    ) -> None:
        self.starts = starts
        self._ctx = ctx
        self._judge = judge
        self._evidence = evidence
        self._source = ctx.source
        self._ascii = self._source.isascii()
        # a call's text -> the text of the calls it shares its verdict with, or None
        # (python_call_shapes); only for an ASCII file, whose call texts are keys already
        self._shape = shape if self._ascii else None
        self._shapes: dict[str, str | None] = {}
        self._memo: dict[str | bytes, str | None] = {}
        self._lines: dict[str, set[int | None]] = {}  # real lines listed, per rule
        self._held: dict[str, Hit] = {}  # the last hit listed of a full rule, handed over at the end
        self._more: dict[str, int] = {}
        self._line_end: dict[str, int] = {}  # full rule -> byte where its last listed line ends

    def run(self, walk: Walk, found: Sequence[int]) -> Iterator[Hit]:
        """Hits among the check's nodes (`found`: their indices in the walk, in document order),
        then what was counted and not listed."""
        nodes, at, starts = walk.nodes, walk.starts, self.starts
        if starts is not None and len(starts) * len(found).bit_length() < len(found):
            found, starts = walk.starting_at(found, starts), None  # a few places: by bisection
        wanted = None if starts is None else set(starts)
        memo, source, plain, judge, shape = (
            self._memo,
            self._source,
            self._ascii,
            self._judge_new,
            self._shape,
        )
        counting, more, hit = self._line_end, self._more, self._hit
        for i in found:
            start = at[i]
            if wanted is not None and start not in wanted:
                continue
            node = nodes[i]
            end = node.end_byte
            if end - start > MEMO_BYTES:  # judged each time
                rule = self._judge(node)[0]
            else:
                key = source[start:end] if plain else (node.text or b"")
                rule = memo.get(key, _UNSEEN)
                if rule is _UNSEEN:
                    rule = judge(node, key, shape)
            if rule is None:
                continue
            line_end = counting.get(rule)
            if line_end is not None:  # the usual flood: a rule already listed in full, counted
                if start >= line_end:
                    more[rule] += 1
                continue
            if hits := hit(rule, node, start):
                yield from hits
        for rule, listed in self._held.items():
            n = more.get(rule, 0)
            yield replace(listed, more=n) if n else listed

    def _judge_new(
        self, node: Node, key: str | bytes, shape: Callable[[str], str | None] | None
    ) -> str | None:
        """The verdict of a call text not seen before, remembered if the text alone decides it;
        that of a call of its shape if one was judged (`shape`)."""
        shaped = shape(key) if shape is not None and isinstance(key, str) and not node.has_error else None
        if shaped is not None and shaped in self._shapes:
            return self._shapes[shaped]
        rule, fixed = self._judge(node)
        if fixed and len(self._memo) < MAX_MEMO and not node.has_error:
            self._memo[key] = rule
            if shaped is not None:
                self._shapes[shaped] = rule
        return rule

    def _hit(self, rule: str, node: Node, start: int) -> Sequence[Hit]:
        listed = self._lines.get(rule)
        if listed is not None and len(listed) >= MAX_FINDINGS_PER_RULE_FILE:  # only counted now
            if self._ctx.file.real_line(node.start_point[0] + 1) not in listed:
                self._more[rule] += 1
            return ()
        return self._list(rule, node, start)

    def _list(self, rule: str, node: Node, start: int) -> Sequence[Hit]:
        listed = self._lines.setdefault(rule, set())
        line = node.start_point[0] + 1
        real = self._ctx.file.real_line(line)
        if real in listed:  # the report keeps one hit of a rule per line
            return ()
        listed.add(real)
        hit = Hit(rule, line, self._evidence(node))
        if len(listed) < MAX_FINDINGS_PER_RULE_FILE:
            return (hit,)
        self._held[rule] = hit  # the count of the rest goes with it
        self._more[rule] = 0
        if self._ascii and self._ctx.file.virtual is None:
            newline = self._source.find("\n", start)
            self._line_end[rule] = newline if newline >= 0 else len(self._source)
        return ()
