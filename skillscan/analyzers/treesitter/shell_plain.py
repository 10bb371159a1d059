"""Plain text of shell statements as the shell threat rules read its words (`plain_words`), for
`shell_gate.plain_verdict`: quoted words with the quotes removed, output thrown away dropped, and
variables read each way they may be (`readings`).

A quote adds nothing a rule reads when what it holds is plain word bytes (no blank, separator,
expansion, escape or other quote): `literal` reads `"/tmp/x"`, `'/tmp/x'` and `/tmp/"x"` as
`/tmp/x`, the text without its quotes. Scanned from the left, a quote opens a string that the next
quote of its kind closes (no `\\`, `$` or backtick can change that in plain text, nor can a `#`
that starts a comment: it stands after a blank or a separator, which no such pair holds), so any
quote left over is one that holds something else.

A redirect of output to /dev/null or to another descriptor (`2>/dev/null`, `&>/dev/null`, `2>&1`)
is read by no rule: `shell_writes.redirected` judges the first destination of `>`, `>>`, `&>`,
`&>>` and `>|`, and none of its patterns matches `/dev/null`; `>&` writes no file. The words
tree-sitter-bash reads after a redirect are more destinations, not arguments: kept as words, they
are judged as if they were arguments (never less than the rules read). A redirect must start a
word (a digit run or `&` glued to a word before it is read otherwise) and end at a blank or a
separator; any other `>` is left, and the text is then not plain.

`?` and `*` (globs) and `#` are word bytes too: tree-sitter-bash reads `x?=1`, `/*`, `~/?*` and
`x#y` as one `word` each, which `literal` takes as written, and no rule reads a glob other than
as written (`ROOT_WORDS` spells out `*`; every other pattern a plain statement meets needs a mark
free of them) but `rm`, which expands one in a path's last part (`rm_targets.expansions`: the
gate finds such words by `GLOB_WORDS`). A `#` that starts a word starts a comment, which no rule
reads: its bytes, read as words, can only make the gate analyse more (a name, a mark or a decoder
operand more), and its quotes pair among themselves (a pair holds no newline). `$?`, `$*`, `$#`
and `${x#y}` are expansions `readings` does not resolve; `[`, `{` and `(` stay out
(tree-sitter-bash cuts `[a]` and `{a,b}` into parts, and `?(a)` is an extended glob).

`$NAME` and `${NAME}` at the start of a word are what `literal` resolves (`shell_words.resolve_vars`): to the value of
the first literal assignment of NAME in the file (`assignments`), or left as written. Each value
is one of those the file spells out after `NAME=` (a superset: every assignment starts so) when
all of them are plain word bytes; left as written, no rule reads a word through it but for HOME
(`home_path`), SHELL and BASH (`peel`), and no mark or name the gate looks for holds an
identifier byte right after a `$`: `%` stands for it, keeping the bytes around it.

In a text without `>`, a name read as written adds nothing to the same name read as one of its
values: what `shell_gate._verdict` finds in a reading (a name among its parts, a word or a mark a
rule judges, bytes that are not plain, a quote left over) holds no `%` (no name, mark or pattern
does) and is bounded by bytes the text spells out (blanks, separators, `/`, `=`), so it is found
as well with a value in place of each `%` (plain word bytes, which pair no quote otherwise), and
each finding only makes the verdict analyse more. A redirect goes the other way (`2>$D` is thrown
away for `D=/dev/null` and a write as written): with a `>`, or with no value known, a name is
read as written too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import product

PLAIN = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 \t\n_./:,+@%=~?*#|;&-"
WORD = PLAIN.translate(None, b" \t\n|;&")  # a plain word's bytes
_QUOTED = re.compile(rb'"[%s]*"|\'[%s]*\'' % (re.escape(WORD), re.escape(WORD)))
# The operator, and the target when it is /dev/null; a digit run in front (the one group) and a
# descriptor after are kept as words (tree-sitter-bash reads `0>x` as an argument `0` and a
# redirect).
_THROWN_AWAY = re.compile(
    rb"(?:(?<=[\s;|])|^)(?:([0-9]*)(?:(?:>>|>\||>&|>)[ \t]*/dev/null(?![^\s;&|])|>&(?=[ \t]*[0-9]+(?![^\s;&|])))"
    rb"|&>>?[ \t]*/dev/null(?![^\s;&|]))"
)


# An expansion `literal` resolves, `$NAME` or `${NAME}`, of a name of at most 64 bytes (the longest
# `_VAR` reads whole).
_BARE = re.compile(rb"\$([A-Za-z_][A-Za-z0-9_]*)")
_BRACED = re.compile(rb"\$\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")
_AS_WRITTEN = b"%"
# Where an expansion may stand: at the start of a word (in quotes or not), after one of these
# bytes or at the start of the text. tree-sitter-bash reads `x$a$b/` as two arguments, `x$a$` and
# `b/`, without a syntax error.
_LEADING = tuple(b + q + b"$" for b in (b" ", b"\t", b"\n", b";", b"&", b"|") for q in (b"", b'"'))
_READ_BY_NAME = frozenset({b"HOME", b"SHELL", b"BASH"})
MAX_READINGS = 8
# A value after `NAME=` that `literal` reads as written: plain word bytes (all of them) up to a
# blank, a separator, a redirect or the end of a subshell, the only bytes `AFTER_VALUE` misses.
VALUE = b"[%s]*" % re.escape(WORD)
AFTER_VALUE = rb"[^\s;&|()<>]"


def readings(text: bytes, values: Callable[[bytes], frozenset[bytes] | None] | None) -> list[bytes] | None:
    """`text` once for each way its expansions may read, or None when one has another form or a
    name's values are not known. `values`: those a name may have (`Gate.values`)."""
    if b"$" not in text:
        return [text]
    found = _BARE.findall(text) + (_BRACED.findall(text) if b"${" in text else [])
    dollars = text.count(b"$")
    if values is None or len(found) != dollars or _leading(text) != dollars:
        return None
    # longest first: a name's `$name` is then no longer a part of a longer one's
    names = sorted(set(found), key=len, reverse=True)
    if len(names[0]) > 64:
        return None
    choices = []
    redirects = b">" in text
    for name in names:
        known = None if name in _READ_BY_NAME else values(name)
        if known is None:
            return None
        # as written only when no value is known or a redirect may read it (see above)
        choices.append(sorted(known if known and not redirects else known | {_AS_WRITTEN}))
    count = 1
    for c in choices:
        count *= len(c)
    if count > MAX_READINGS:
        return None
    out = []
    for chosen in product(*choices):
        t = text
        for name, value in zip(names, chosen, strict=True):
            t = t.replace(b"${%s}" % name, value).replace(b"$" + name, value)
        out.append(t)
    return out


def _leading(text: bytes) -> int:
    """How many `$` of `text` start a word (one byte stands before each: they are counted once)."""
    return sum(text.count(p) for p in _LEADING) + text.startswith((b"$", b'"$'))


def _quoted(text: bytes) -> bool:
    return b'"' in text or b"'" in text


def dressed(text: bytes) -> bool:
    """Whether `text` holds a quote, a redirect or an expansion: its words are read through
    `readings` and `plain_words`."""
    return b">" in text or b"$" in text or _quoted(text)


def plain_words(text: bytes) -> bytes | None:
    """`text` with output thrown away blanked out and the quotes around plain word bytes removed,
    or None when another redirect is left or a quote holds something else (not plain)."""
    if b">" in text:
        # before quotes go (`"2">x` is a word and a redirect), each redirect its digit run and a
        # blank: cut and joined, as a template would be expanded in Python for each
        parts = _THROWN_AWAY.split(text)
        parts[1::2] = [(digits or b"") + b" " for digits in parts[1::2]]
        text = b"".join(parts)
        if b">" in text:
            return None
    if not _quoted(text):
        return text
    # the pairs deleted whole, by bytes (a template is expanded in Python for each): when no quote
    # is left, each was one of a pair, and the words are the text without its quotes
    return None if _quoted(_QUOTED.sub(b"", text)) else text.translate(None, b"\"'")
