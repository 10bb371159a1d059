"""Plain text of shell statements as the shell threat rules read its words (`plain_words`), for
`shell_gate.plain_verdict`: quoted words with the quotes removed, output thrown away dropped.

A quote adds nothing a rule reads when what it holds is plain word bytes (no blank, separator,
expansion, escape or other quote): `literal` reads `"/tmp/x"`, `'/tmp/x'` and `/tmp/"x"` as
`/tmp/x`, the text without its quotes. Scanned from the left, a quote opens a string that the next
quote of its kind closes (no `\\`, `$`, backtick or `#` can change that in plain text), so any
quote left over is one that holds something else.

A redirect of output to /dev/null or to another descriptor (`2>/dev/null`, `&>/dev/null`, `2>&1`)
is read by no rule: `shell_writes.redirected` judges the first destination of `>`, `>>`, `&>`,
`&>>` and `>|`, and none of its patterns matches `/dev/null`; `>&` writes no file. The words
tree-sitter-bash reads after a redirect are more destinations, not arguments: kept as words, they
are judged as if they were arguments (never less than the rules read). A redirect must start a
word (a digit run or `&` glued to a word before it is read otherwise) and end at a blank or a
separator; any other `>` is left, and the text is then not plain.
"""

from __future__ import annotations

import re

PLAIN = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 \t\n_./:,+@%=~|;&-"
WORD = PLAIN.translate(None, b" \t\n|;&")  # a plain word's bytes
_QUOTED = re.compile(rb'"([%s]*)"|\'([%s]*)\'' % (re.escape(WORD), re.escape(WORD)))
# The operator, and the target when it is /dev/null; a digit run in front and a descriptor after
# are kept as words (tree-sitter-bash reads `0>x` as an argument `0` and a redirect).
_THROWN_AWAY = re.compile(
    rb"(?:(?<=[\s;|])|^)(?:([0-9]*)(?:>>|>\||>&|>)[ \t]*/dev/null(?![^\s;&|])|&>>?[ \t]*/dev/null(?![^\s;&|])"
    rb"|([0-9]*)>&(?=[ \t]*[0-9]+(?![^\s;&|])))"
)


def _quoted(text: bytes) -> bool:
    return b'"' in text or b"'" in text


def dressed(text: bytes) -> bool:
    """Whether `text` holds a quote or a redirect: its words are read through `plain_words`."""
    return b">" in text or _quoted(text)


def plain_words(text: bytes) -> bytes | None:
    """`text` with output thrown away blanked out and the quotes around plain word bytes removed,
    or None when another redirect is left or a quote holds something else (not plain)."""
    if b">" in text:
        text = _THROWN_AWAY.sub(rb"\1\2 ", text)  # before quotes go: `"2">x` is a word and a redirect
        if b">" in text:
            return None
    if not _quoted(text):
        return text
    text = _QUOTED.sub(rb"\1\2", text)
    return None if _quoted(text) else text
