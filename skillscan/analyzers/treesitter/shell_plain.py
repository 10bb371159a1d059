"""Plain text of shell statements as the shell threat rules read its words (`plain_words`), for
`shell_gate.plain_verdict`: quoted words with the quotes removed.

A quote adds nothing a rule reads when what it holds is plain word bytes (no blank, separator,
expansion, escape or other quote): `literal` reads `"/tmp/x"`, `'/tmp/x'` and `/tmp/"x"` as
`/tmp/x`, the text without its quotes. Scanned from the left, a quote opens a string that the next
quote of its kind closes (no `\\`, `$`, backtick or `#` can change that in plain text), so any
quote left over is one that holds something else.
"""

from __future__ import annotations

import re

PLAIN = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 \t\n_./:,+@%=~|;&-"
WORD = PLAIN.translate(None, b" \t\n|;&")  # a plain word's bytes
_QUOTED = re.compile(rb'"([%s]*)"|\'([%s]*)\'' % (re.escape(WORD), re.escape(WORD)))


def quoted(text: bytes) -> bool:
    """Whether `text` holds a quote (its words need `plain_words`)."""
    return b'"' in text or b"'" in text


def plain_words(text: bytes) -> bytes | None:
    """`text` with the quotes around plain word bytes removed, or None when a quote holds
    something else (the text is then not plain)."""
    if not quoted(text):
        return text
    text = _QUOTED.sub(rb"\1\2", text)
    return None if quoted(text) else text
