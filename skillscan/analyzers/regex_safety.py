"""Refuse rule regexes that can run away: every repeat bounded, nesting shallow.

Rules are data written by people; a single `(a+)+` or `.*` over a 1 MB hostile file turns a scan
into a hang. Patterns are checked once, at load time, on Python's own parse tree.
"""

from __future__ import annotations

import re
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the parser behind re.compile
from typing import Any

from skillscan.errors import RuleError

MAX_REPEAT = 2000  # largest {m,n} upper bound a rule may use
MAX_OUTER_REPEAT = 12  # a repeat that contains another repeat may itself repeat at most this often

_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", object())}


def compile_bounded(pattern: str, where: str) -> re.Pattern[str]:
    """Compile `pattern` or raise RuleError naming `where` when it is invalid or unbounded."""
    try:
        tree = sre_parse.parse(pattern)
        compiled = re.compile(pattern)
    except re.error as e:
        raise RuleError(f"{where}: invalid regex: {e}") from e
    _check(tree, where, inside_repeat=False)
    return compiled


def _check(tree: Any, where: str, inside_repeat: bool) -> bool:
    """Walk the parse tree; return True when it contains a repeat (for the nesting check)."""
    has_repeat = False
    for op, av in tree:
        if op in _REPEATS:
            _lo, hi, body = av
            if hi == sre_parse.MAXREPEAT:
                raise RuleError(f"{where}: unbounded repeat (use {{0,N}} instead of * or +)")
            if hi > MAX_REPEAT:
                raise RuleError(f"{where}: repeat bound {hi} exceeds {MAX_REPEAT}")
            inner = _check(body, where, inside_repeat=True)
            if inner and hi > MAX_OUTER_REPEAT:
                raise RuleError(f"{where}: nested repeat with outer bound {hi} > {MAX_OUTER_REPEAT}")
            has_repeat = has_repeat or hi > 1
        elif op is sre_parse.SUBPATTERN:
            has_repeat = _check(av[-1], where, inside_repeat) or has_repeat
        elif op is sre_parse.BRANCH:
            for branch in av[1]:
                has_repeat = _check(branch, where, inside_repeat) or has_repeat
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            has_repeat = _check(av[1], where, inside_repeat) or has_repeat
        elif op is getattr(sre_parse, "ATOMIC_GROUP", None):
            has_repeat = _check(av, where, inside_repeat) or has_repeat
        elif op is sre_parse.GROUPREF_EXISTS:
            raise RuleError(f"{where}: conditional groups are not allowed")
    return has_repeat
