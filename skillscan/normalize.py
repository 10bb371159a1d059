"""Fold Unicode disguises back to ASCII so a Cyrillic ``с`` in ``сurl`` does not hide a command.

`fold` removes invisible characters (zero-width, bidi controls, tag characters, soft hyphen),
reveals Unicode tag characters as the ASCII they
encode, applies NFKC and maps every character that is a confusable of an ASCII character (Unicode's
confusables data, shipped by ``confusable-homoglyphs``) to that ASCII character. Newlines are
never added or removed, so line numbers of a folded text equal those of the original.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources

# Invisible or direction-changing code points an attacker can sprinkle into a word.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)
# A token built from ASCII letters mixed with non-ASCII letters or invisible characters.
_TOKEN = re.compile(r"[^\s`'\"()<>\[\]{}|;&,]{1,200}")
_COMMAND_WORDS = frozenset(
    [
        "curl",
        "wget",
        "bash",
        "sh",
        "zsh",
        "sudo",
        "python",
        "python3",
        "node",
        "npm",
        "npx",
        "pip",
        "pip3",
        "powershell",
        "pwsh",
        "iwr",
        "irm",
        "iex",
        "invoke-webrequest",
        "invoke-expression",
        "invoke-restmethod",
        "base64",
        "chmod",
        "eval",
        "exec",
        "nc",
        "ncat",
        "openssl",
        "osascript",
        "http",
        "https",
        "echo",
        "rm",
        "ssh",
        "scp",
        "git",
    ]
)


@lru_cache(maxsize=1)
def _confusable_table() -> dict[int, str]:
    """Non-ASCII code point -> its ASCII look-alike, from the Unicode confusables list."""
    table: dict[int, str] = {}
    try:
        raw = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
        data = json.loads(raw)
    except (OSError, ValueError, ModuleNotFoundError):
        data = {}
    for char, glyphs in data.items():
        if len(char) != 1 or char.isascii() or char in "\n\r":
            continue
        for glyph in glyphs:
            target = glyph.get("c", "")
            if len(target) == 1 and target.isascii() and target.isprintable():
                table[ord(char)] = target
                break
    return table


# Unicode tag characters spell ASCII invisibly ("ASCII smuggling"): reveal what they say.
_TAG_CHARS = re.compile("[\U000e0000-\U000e007f]")
_TAGS = {cp: (chr(cp - 0xE0000) if 0xE0020 <= cp <= 0xE007E else None) for cp in range(0xE0000, 0xE0080)}


@lru_cache(maxsize=1)
def _confusable_chars() -> re.Pattern[str]:
    """Matches any table character. BMP characters go in one class (a fast bitmap in Python's
    engine); astral ones are covered by a single range, since listing them makes the class slow."""
    bmp = "".join(re.escape(chr(cp)) for cp in sorted(_confusable_table()) if cp <= 0xFFFF)
    return re.compile(f"[{bmp}\U00010000-\U0010ffff]")


def strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)


def fold(text: str) -> str:
    """ASCII skeleton of `text` (same number of lines). Pure-ASCII input is returned unchanged.

    Each step runs only when its characters occur: a per-character translate of a large
    non-ASCII document is the expensive part.
    """
    if text.isascii():
        return text
    out = text.translate(_TAGS) if _TAG_CHARS.search(text) else text
    out = strip_invisible(out)
    if not out.isascii() and not unicodedata.is_normalized("NFKC", out):
        # NFKC per line so that no normalisation can merge or split lines.
        out = "\n".join(unicodedata.normalize("NFKC", line) for line in out.split("\n"))
    if not out.isascii():
        table = _confusable_table()
        out = _confusable_chars().sub(lambda m: table.get(ord(m.group()), m.group()), out)
    return out


# Every non-ASCII character that IGNORECASE equates with an ASCII letter (checked against all of
# Unicode in the tests), so a folded text loses no case-insensitive match of an ASCII literal.
ASCII_FOLD = {ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"} | {
    0x130: "i",  # İ
    0x131: "i",  # ı
    0x17F: "s",  # ſ
    0x212A: "k",  # Kelvin sign
}


def fold_case(text: str) -> str:
    """`text` with ASCII letters and their Unicode case-equivalents lowercased, length unchanged."""
    if text.isascii():
        return text.lower()
    # str.lower() is fast and keeps the length once U+0130 (lowercased to two characters) is gone.
    lowered = text.replace("\u0130", "i").lower().replace("\u0131", "i").replace("\u017f", "s")
    return lowered if len(lowered) == len(text) else text.translate(ASCII_FOLD)


# Emoji presentation selectors and joiners are invisible but hide nothing in a word.
_EMOJI_FORMAT = frozenset("\ufe0e\ufe0f\u200d")


def _hides(c: str) -> bool:
    """A character that can disguise an ASCII word: invisible, or a letter of another script."""
    if c.isascii() or c in _EMOJI_FORMAT:
        return False
    if _INVISIBLE.match(c):
        return True
    if not unicodedata.category(c).startswith("L"):
        return False
    # Latin letters with diacritics (Turkish ı, é, ß) and modifier letters are ordinary text.
    return not unicodedata.name(c, "LATIN").startswith(("LATIN", "MODIFIER"))


def _is_disguised(token: str) -> bool:
    if token.isascii() or not any(_hides(c) for c in token):
        return False
    folded = fold(token)
    if folded == token or not folded.isascii() or sum(c.isalpha() for c in folded) < 2:
        return False
    if any(c.isascii() and c.isalpha() for c in token):
        return True
    # Entirely non-Latin look-alikes ("сurl" written with no Latin letter at all).
    word = folded.lower().strip(".:/")
    return word in _COMMAND_WORDS or word.startswith(("http://", "https://"))


# Blocks holding the look-alike letters attackers use (Greek, Cyrillic, Armenian, Cherokee, Coptic,
# Lisu, letterlike symbols, fullwidth and mathematical alphanumerics) plus invisible characters. A
# range class keeps this prefilter fast; the exact per-token check follows.
_SUSPECT = re.compile(
    "[\u0370-\u058f\u13a0-\u13ff\u1d00-\u1dbf\u2100-\u214f\u2c80-\u2cff\ua4d0-\ua4ff\uff00-\uffef"
    "\U0001d400-\U0001d7ff" + _INVISIBLE.pattern[1:]
)


def has_disguised_ascii(text: str) -> bool:
    """True when some token is ASCII text disguised with look-alike or invisible characters.

    Plain non-Latin prose (Russian, Chinese, …) does not count: only tokens whose skeleton is
    entirely ASCII while the original mixes scripts or hides invisible characters.
    """
    if text.isascii() or not _SUSPECT.search(text):
        return False
    for line in text.split("\n"):
        if line.isascii() or not _SUSPECT.search(line):
            continue
        for m in _TOKEN.finditer(line):
            if _is_disguised(m.group(0)):
                return True
    return False
