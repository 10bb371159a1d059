"""escaped-code-string (obfuscation.py): long `\\x` / `\\u` escaped string literals that spell code.

The file is searched once for a long run of escapes; only the strings around one are read.
"""

from __future__ import annotations

import codecs
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator

from skillscan.analyzers.treesitter.parsing import byte_spans, node_text
from skillscan.analyzers.treesitter.registry import MAX_FINDINGS_PER_RULE_FILE, Hit
from skillscan.analyzers.treesitter.syntax_walk import Walk

ESCAPES = re.compile(r"(?:\\{1,2}x[0-9a-fA-F]{2}){12,}|(?:\\{1,2}u[0-9a-fA-F]{4}){12,}")
# the same runs, with a literal first character: a search of a whole file skips ahead in C
_ANY_ESCAPES = re.compile(
    r"\\(?:\\?x[0-9a-fA-F]{2}(?:\\{1,2}x[0-9a-fA-F]{2}){11}|\\?u[0-9a-fA-F]{4}(?:\\{1,2}u[0-9a-fA-F]{4}){11})"
)
_CODE_WORDS = re.compile(
    r"\b(?:import|exec|eval|system|subprocess|require|child_process|socket|curl|wget|http|bash|sh -c|powershell|base64)\b"
)
STRINGS = frozenset({"string", "template_string"})


def escape_runs(source: str) -> list[int] | None:
    """Start bytes of the long escape runs of a file (None: there are none). A string holds one
    only if a run starts inside it: no run crosses a string's opening quote."""
    if "\\x" not in source and "\\u" not in source:
        return None
    found = list(_ANY_ESCAPES.finditer(source))
    if not found:
        return None
    if source.isascii():
        return [m.start() for m in found]
    return [s for s, _ in byte_spans(source, found)]


def escaped_code_strings(walk: Walk, runs: list[int], admit: Callable[[str, int], bool]) -> Iterator[Hit]:
    """Findings in document order; `admit(rule, line)` says whether one is still listed (once
    a report's worth is, the rest would not be)."""
    nodes, listed = walk.nodes, 0
    for i in walk.select(STRINGS):
        n = nodes[i]
        start, end = n.start_byte, n.end_byte
        k = bisect_left(runs, start)
        if end - start <= 40 or not (k < len(runs) and runs[k] < end):
            continue
        raw = node_text(n)
        if ESCAPES.search(raw):
            decoded = _unescape(raw)
            line = n.start_point[0] + 1
            if decoded and _CODE_WORDS.search(decoded) and admit("escaped-code-string", line):
                yield Hit(
                    "escaped-code-string", line, raw[:120], f"Escaped string spells code: {decoded[:80]}"
                )
                listed += 1
                if listed >= MAX_FINDINGS_PER_RULE_FILE:
                    return


def _unescape(raw: str) -> str | None:
    body = raw.strip("\"'`bBrRfFuU")
    for _ in range(2):  # "\\x69" in source is an escaped escape: unwrap twice
        try:
            body = codecs.decode(body, "unicode_escape")
        except (UnicodeDecodeError, ValueError):
            return None
        if not ESCAPES.search(body):
            break
    return body
