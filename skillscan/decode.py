"""Find and decode encoded payloads: base64, hex, char codes, and gzip/zlib inside them.

Every pattern is linear-time (single character-class runs anchored by a look-behind, no nested
ambiguous quantifiers). A candidate is kept only when it decodes to mostly printable text or to
an executable/archive (a known magic); everything else (hashes, identifiers, images) is dropped.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from skillscan.textlines import LineCounter

# Base64 runs (standard or URL-safe alphabet, 24+ characters, up to two "=") are found in a map
# of the text with one byte per character: "a" for the alphabet, "=" for itself, a space for
# anything else. 24 "a"s in a row is a plain substring search there, several times faster than a
# character-class scan of the text itself; offsets are the text's own.
_B64_MAP = (
    bytes(
        ord("a") if chr(b) in "+/_-" or chr(b).isalnum() else b if b == ord("=") else ord(" ")
        for b in range(128)
    )
    + b" " * 128
)
_B64_RUN = re.compile(b"a" * 24 + b"a*={0,2}")
# Two or more lines that each hold only a base64 chunk, possibly quoted or concatenated.
_B64_BLOCK = re.compile(
    r"^(?:[ \t\"'`(+,\\]{0,40}[A-Za-z0-9+/]{16,4096}={0,2}[ \t\"'`)+,;\\]{0,40}(?:\n|$)){2,}", re.M
)
_B64_PART = re.compile(r"[A-Za-z0-9+/]{16,4096}={0,2}")
_DIGIT = re.compile(r"\d")
# Each pattern starts with a literal so the engine can skip ahead (much faster than a group start).
_HEX_ESC = re.compile(r"\\x[0-9a-fA-F]{2}(?:\\x[0-9a-fA-F]{2}){7,}")
_UNI_ESC = re.compile(r"\\u00[0-9a-fA-F]{2}(?:\\u00[0-9a-fA-F]{2}){7,}")
_HEX_PLAIN = re.compile(r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{2}){16,}(?![0-9A-Za-z])")
_HEX_PLAIN_MIN = 32  # the shortest _HEX_PLAIN match: 16 pairs of hex digits
_HEX_ARRAY = re.compile(r"0x[0-9a-fA-F]{1,2}\s*,\s*(?:0x[0-9a-fA-F]{1,2}\s*,\s*){6,}0x[0-9a-fA-F]{1,2}")
_FROM_CHAR_CODE = re.compile(r"fromCharCode\(\s*((?:\d{1,7}\s*,\s*){3,}\d{1,7})\s*\)")
_CHR_ONE = r"(?:chr\(\s*\d{1,7}\s*\)|\[[cC][hH][aA][rR]\]\s*\(?\d{1,7}\)?)"
_CHR_CHAIN = re.compile(_CHR_ONE + r"\s*(?:\+\s*)?(?:" + _CHR_ONE + r"\s*(?:\+\s*)?){3,}")
_NUM_ARRAY = re.compile(r"[\[({]\s*((?:\d{1,3}\s*,\s*){7,}\d{1,3})\s*[\])}]")
_DIGITS = re.compile(r"\d{1,7}")

_PRINTABLE = bytes(range(32, 127)) + b"\t\n\r"
_KEEP_MAGIC: tuple[bytes, ...] = (
    b"\x7fELF",
    b"MZ",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"PK\x03\x04",
    b"\x00asm",
)
_MAX_CANDIDATES_PER_TEXT = 20_000


@dataclass(frozen=True, slots=True)
class Payload:
    line: int  # 1-based line of the blob's start in the text it was found in
    data: bytes
    encoding: str  # b64 | hex | charcode (+ "-gz" when it was compressed)
    binary: bool  # an executable or archive; otherwise printable text


def _b64decode(s: str) -> bytes | None:
    s = s.rstrip("=")
    if len(s) % 4 == 1:
        s = s[:-1]
    s += "=" * (-len(s) % 4)
    try:
        if "-" in s or "_" in s:
            return base64.urlsafe_b64decode(s)
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return None


def _is_compressed(data: bytes) -> bool:
    if data[:2] == b"\x1f\x8b":
        return True
    # zlib header: deflate method, 32K window, header checksum
    return len(data) > 2 and data[0] == 0x78 and (data[0] * 256 + data[1]) % 31 == 0


def _inflate(data: bytes, limit: int) -> bytes | None:
    try:
        return zlib.decompressobj(47).decompress(data, limit)  # 47: gzip or zlib, auto-detected
    except zlib.error:
        return None


def _printable_ratio(data: bytes) -> float:
    sample = data[:4096]
    if not sample:
        return 0.0
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        return (len(sample) - len(sample.translate(None, _PRINTABLE))) / len(sample)
    good = sum(1 for c in text if c.isprintable() or c in "\t\n\r")
    return good / len(text)


def _accept(raw: bytes | None, encoding: str, limit: int, nested: int = 0) -> tuple[bytes, str, bool] | None:
    if not raw or len(raw) < 8:
        return None
    raw = raw[:limit]
    if _is_compressed(raw):
        inflated = _inflate(raw, limit) if nested < 2 else None
        kept = _accept(inflated, encoding, limit, nested + 1) if inflated else None
        return (kept[0], kept[1] + "-gz", kept[2]) if kept else None
    if any(raw.startswith(m) for m in _KEEP_MAGIC):
        return raw, encoding, True
    if _printable_ratio(raw) < 0.9:
        return None
    letters = sum(1 for b in raw[:512] if 65 <= b <= 90 or 97 <= b <= 122)
    if letters < 4:
        return None
    return raw, encoding, False


def _char_codes(numbers: list[int]) -> bytes | None:
    if any(n > 0x10FFFF for n in numbers):
        return None
    try:
        return "".join(chr(n) for n in numbers).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return None


def _wrapped_b64_blocks(text: str, lines: LineCounter) -> Iterator[tuple[int, int, str]]:
    """(first line, last line, joined blob) for runs of >= 2 lines holding only base64 (1-based)."""
    for m in _B64_BLOCK.finditer(text):
        first = lines.at(m.start())
        parts = _B64_PART.findall(m.group(0))
        # Padding ends a blob: what follows is another one.
        chunk: list[str] = []
        chunk_first = first
        for i, part in enumerate(parts):
            chunk.append(part)
            if part.endswith("=") or i == len(parts) - 1:
                if len(chunk) >= 2:
                    yield chunk_first, first + i, "".join(chunk)
                chunk = []
                chunk_first = first + i + 1


def b64_runs(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every base64 run in `text`: a whole run of 24+ alphabet characters (it starts
    after and ends before a character outside the alphabet) and the up to two "=" after it."""
    # "replace" turns each non-ASCII character into one "?" byte, so offsets stay the text's.
    mapped = text.encode("ascii", "replace").translate(_B64_MAP)
    for m in _B64_RUN.finditer(mapped):
        yield m.span()


def _hex_plain(text: str, runs: list[tuple[int, int]]) -> Iterator[re.Match[str]]:
    """_HEX_PLAIN matches within base64-alphabet runs; each run is maximal, so the characters
    around it are not alphanumeric and the run's bounds change no look-around."""
    for start, end in runs:
        yield from _HEX_PLAIN.finditer(text, start, end)


def find_payloads(text: str, max_bytes: int) -> Iterator[Payload]:
    """Every decodable payload in `text`, at most `max_bytes` each, in order of appearance."""
    lines = LineCounter(text)  # each pass below visits offsets in order
    seen_spans: list[tuple[int, int]] = []
    budget = _MAX_CANDIDATES_PER_TEXT
    max_chars = max_bytes * 4 // 3 + 4

    for first, last, blob in _wrapped_b64_blocks(text, lines):
        budget -= 1
        kept = _accept(_b64decode(blob[:max_chars]), "b64", max_bytes)
        if kept:
            seen_spans.append((first, last))
            yield Payload(first, *kept)

    def covered(line: int) -> bool:
        return any(a <= line <= b for a, b in seen_spans)

    # A plain hex blob is an alphanumeric run, so it lies inside one of these runs: the hex pass
    # below reads only the long ones instead of the whole text.
    hex_runs: list[tuple[int, int]] = []
    for start, end in b64_runs(text):
        budget -= 1
        if budget < 0:
            return
        token = text[start:end]
        if len(token) >= _HEX_PLAIN_MIN:
            hex_runs.append((start, end))
        if not (_DIGIT.search(token) or (token.lower() != token and token.upper() != token)):
            continue
        line = lines.at(start)
        if covered(line):
            continue
        kept = _accept(_b64decode(token[:max_chars]), "b64", max_bytes)
        if kept:
            yield Payload(line, *kept)

    # A pass runs only when its literal occurs at all (a substring test is far cheaper than a scan).
    hex_passes = [
        rx
        for rx, needle in ((_HEX_ESC, "\\x"), (_UNI_ESC, "\\u00"), (_HEX_PLAIN, ""), (_HEX_ARRAY, "0x"))
        if needle in text
    ]
    for rx in hex_passes:
        kind = "hex"
        for m in _hex_plain(text, hex_runs) if rx is _HEX_PLAIN else rx.finditer(text):
            budget -= 1
            if budget < 0:
                return
            s = m.group(0)[: max_bytes * 6]
            if rx is _HEX_PLAIN:
                raw = bytes.fromhex(s)
            elif rx is _HEX_ARRAY:
                raw = bytes(int(x, 16) for x in re.findall(r"0x([0-9a-fA-F]{1,2})", s))
            else:
                step = 4 if rx is _HEX_ESC else 6
                raw = bytes(int(s[i + step - 2 : i + step], 16) for i in range(0, len(s) - step + 1, step))
            kept = _accept(raw, kind, max_bytes)
            if kept:
                yield Payload(lines.at(m.start()), *kept)

    code_passes = [
        rx
        for rx, present in (
            (_FROM_CHAR_CODE, "fromCharCode" in text),
            (_CHR_CHAIN, "chr(" in text or "har]" in text or "HAR]" in text),  # chr( / [char] / [Char]
            (_NUM_ARRAY, True),
        )
        if present
    ]
    for rx in code_passes:
        for m in rx.finditer(text):
            budget -= 1
            if budget < 0:
                return
            nums = [int(x) for x in _DIGITS.findall(m.group(1) if rx.groups else m.group(0))[:max_bytes]]
            kept = _accept(_char_codes(nums), "charcode", max_bytes)
            if kept:
                yield Payload(lines.at(m.start()), *kept)
