"""File kind classification and text decoding: extension, shebang, then content.

Content wins over the name: a binary named ``.md`` is binary, an extensionless file with a
``#!/bin/bash`` line is a shell script. Text is decoded from UTF-8 (with or without BOM) or
UTF-16/32 with a BOM; invalid UTF-8 that is still mostly text is decoded with replacement
characters and flagged ``lossy`` so analyzers still see it.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from skillscan.models import FileKind

_EXTENSIONS: dict[str, FileKind] = {
    "md": FileKind.MARKDOWN,
    "markdown": FileKind.MARKDOWN,
    "mdx": FileKind.MARKDOWN,
    "mdown": FileKind.MARKDOWN,
    "py": FileKind.PYTHON,
    "pyw": FileKind.PYTHON,
    "pyi": FileKind.PYTHON,
    "js": FileKind.JAVASCRIPT,
    "mjs": FileKind.JAVASCRIPT,
    "cjs": FileKind.JAVASCRIPT,
    "jsx": FileKind.JAVASCRIPT,
    "ts": FileKind.TYPESCRIPT,
    "tsx": FileKind.TYPESCRIPT,
    "mts": FileKind.TYPESCRIPT,
    "cts": FileKind.TYPESCRIPT,
    "sh": FileKind.SHELL,
    "bash": FileKind.SHELL,
    "zsh": FileKind.SHELL,
    "ksh": FileKind.SHELL,
    "dash": FileKind.SHELL,
    "fish": FileKind.SHELL,
    "command": FileKind.SHELL,
    "ps1": FileKind.POWERSHELL,
    "psm1": FileKind.POWERSHELL,
    "psd1": FileKind.POWERSHELL,
    "json": FileKind.JSON,
    "jsonc": FileKind.JSON,
    "json5": FileKind.JSON,
    "yaml": FileKind.YAML,
    "yml": FileKind.YAML,
    "toml": FileKind.TOML,
}

# Compiled or packed formats: text decoding is never attempted, YARA still sees the bytes.
_BINARY_EXTENSIONS = frozenset(
    [
        "pyc",
        "pyo",
        "pyd",
        "so",
        "dll",
        "dylib",
        "exe",
        "bin",
        "o",
        "a",
        "class",
        "jar",
        "war",
        "whl",
        "egg",
        "zip",
        "gz",
        "tgz",
        "bz2",
        "xz",
        "zst",
        "7z",
        "rar",
        "tar",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "bmp",
        "ico",
        "webp",
        "tiff",
        "pdf",
        "ttf",
        "otf",
        "woff",
        "woff2",
        "eot",
        "mp3",
        "mp4",
        "wav",
        "ogg",
        "mov",
        "avi",
        "wasm",
        "node",
        "dmg",
        "pkg",
        "deb",
        "rpm",
        "msi",
        "apk",
        "iso",
        "sqlite",
        "db",
    ]
)

_MAGIC: tuple[bytes, ...] = (
    b"\x7fELF",  # ELF
    b"MZ",  # PE / DOS
    b"\xcf\xfa\xed\xfe",  # Mach-O 64
    b"\xce\xfa\xed\xfe",  # Mach-O 32
    b"\xca\xfe\xba\xbe",  # Mach-O fat / Java class
    b"PK\x03\x04",  # zip
    b"\x1f\x8b",  # gzip
    b"BZh",  # bzip2
    b"\xfd7zXZ\x00",  # xz
    b"7z\xbc\xaf\x27\x1c",  # 7z
    b"Rar!",  # rar
    b"\x00asm",  # wasm
    b"%PDF",
    b"\x89PNG",
)

_SHEBANG = re.compile(r"^#!\s*(\S+)(?:[ \t]+(?:-\S+[ \t]+)*(\S+))?")
_INTERPRETERS: tuple[tuple[str, FileKind], ...] = (
    ("ts-node", FileKind.TYPESCRIPT),
    ("tsx", FileKind.TYPESCRIPT),
    ("deno", FileKind.TYPESCRIPT),
    ("python", FileKind.PYTHON),
    ("pypy", FileKind.PYTHON),
    ("uv", FileKind.PYTHON),
    ("node", FileKind.JAVASCRIPT),
    ("nodejs", FileKind.JAVASCRIPT),
    ("bun", FileKind.JAVASCRIPT),
    ("pwsh", FileKind.POWERSHELL),
    ("powershell", FileKind.POWERSHELL),
    ("bash", FileKind.SHELL),
    ("zsh", FileKind.SHELL),
    ("dash", FileKind.SHELL),
    ("ksh", FileKind.SHELL),
    ("fish", FileKind.SHELL),
    ("ash", FileKind.SHELL),
    ("sh", FileKind.SHELL),
)

_SNIFF_BYTES = 8192
# Control bytes other than tab, newline, carriage return, form feed, backspace and escape.
_CONTROL = frozenset(range(32)) - {8, 9, 10, 12, 13, 27}


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str | None
    lossy: bool = False  # replacement characters were substituted
    encoding: str = "utf-8"


def extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if "." not in name.lstrip("."):
        return ""
    return name.rsplit(".", 1)[-1].lower()


def has_binary_magic(data: bytes) -> bool:
    return any(data.startswith(m) for m in _MAGIC)


def decode_text(data: bytes) -> Decoded:
    """Decode bytes as text, or return ``text=None`` when the content is binary."""
    if not data:
        return Decoded("")
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            body = data[len(bom) :]
            try:
                return Decoded(body.decode(enc), encoding=enc)
            except UnicodeDecodeError:
                return Decoded(body.decode(enc, errors="replace"), lossy=True, encoding=enc)
    sample = data[:_SNIFF_BYTES]
    if b"\x00" in sample or has_binary_magic(sample):
        return Decoded(None)
    try:
        return Decoded(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    # Mostly-text content with some invalid sequences still gets text analysis (flagged lossy):
    # a few stray bytes must not hide a script from every parser.
    controls = sum(1 for b in sample if b in _CONTROL)
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd", 0, _SNIFF_BYTES)
    if controls * 10 > len(sample) or bad * 5 > min(len(text), _SNIFF_BYTES):
        return Decoded(None)
    return Decoded(text, lossy=True)


def shebang_kind(text: str) -> FileKind | None:
    if not text.startswith("#!"):
        return None
    m = _SHEBANG.match(text[:256])
    if not m:
        return None
    prog = m.group(1).rsplit("/", 1)[-1]
    if prog == "env" and m.group(2):
        prog = m.group(2).rsplit("/", 1)[-1]
    prog = prog.lower()
    for name, kind in _INTERPRETERS:
        if prog == name or (prog.startswith(name) and prog[len(name) :].lstrip("0123456789.-") == ""):
            return kind
    return None


def classify(path: str, data: bytes, max_text_bytes: int) -> tuple[FileKind, Decoded]:
    """Kind and decoded text of one real file.

    Files above `max_text_bytes` keep their kind from name/shebang but carry ``text=None``:
    parsers skip them, byte scanners (YARA) still see every byte.
    """
    ext = extension(path)
    if ext in _BINARY_EXTENSIONS or has_binary_magic(data[:16]):
        return FileKind.BINARY, Decoded(None)
    oversized = len(data) > max_text_bytes
    decoded = decode_text(data[:_SNIFF_BYTES] if oversized else data)
    if decoded.text is None:
        return FileKind.BINARY, decoded
    kind = _EXTENSIONS.get(ext)
    if kind is None:
        kind = shebang_kind(decoded.text) or FileKind.TEXT
    if oversized:
        return kind, Decoded(None, encoding=decoded.encoding)
    return kind, decoded


_SHELL_START = re.compile(
    r"^\s*(?:\$\s+|sudo\s+)?(?:curl|wget|bash|sh|zsh|dash|pip3?|npm|npx|pnpm|yarn|bun|brew|apt(?:-get)?|"
    r"yum|dnf|apk|chmod|chown|echo|printf|export|cd|mkdir|rm|cp|mv|cat|tar|unzip|openssl|base64|nc|ncat|"
    r"socat|ssh|scp|docker|git|uv|uvx|openclaw|clawhub|source|eval|exec|osascript|xattr|launchctl|"
    r"crontab|systemctl|nohup|set|if|for|while)(?=\s|$)"
)
_SHELL_HINT = re.compile(r"\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|\$\(|&&|\bbase64\s+-[dD]\b")
_PYTHON_HINT = re.compile(
    r"^\s*(?:import \w|from [\w.]+ import |def \w+\(|class \w+[:(]|print\(|if __name__)", re.M
)
_JS_HINT = re.compile(
    r"\brequire\(\s*['\"]|^\s*(?:const|let|var)\s+\w+\s*=|\bfunction\s*\w*\s*\(|=>\s*\{|"
    r"^\s*import\s+.+\s+from\s+['\"]|\bconsole\.log\(",
    re.M,
)
_PS_HINT = re.compile(
    r"\$env:|\bInvoke-(?:WebRequest|Expression|RestMethod)\b|\b(?:Get|Set|New|Start)-[A-Z]\w+|"
    r"\bIEX\b|\[System\.|\[Convert\]::",
    re.I,
)


def guess_kind(text: str) -> FileKind:
    """Kind of a snippet with no name: shebang, then language hints, then shell-looking commands."""
    head = text[:4096]
    kind = shebang_kind(head.lstrip())
    if kind is not None:
        return kind
    stripped = head.lstrip()
    if stripped[:1] in "{[":
        try:
            import json

            json.loads(text)
            return FileKind.JSON
        except (ValueError, RecursionError):
            pass
    if _PS_HINT.search(head):
        return FileKind.POWERSHELL
    if _PYTHON_HINT.search(head):
        return FileKind.PYTHON
    if _JS_HINT.search(head):
        return FileKind.JAVASCRIPT
    for line in head.split("\n"):
        if line.strip() and not line.lstrip().startswith("#"):
            if _SHELL_START.match(line) or _SHELL_HINT.search(line):
                return FileKind.SHELL
            break
    if _SHELL_HINT.search(head):
        return FileKind.SHELL
    return FileKind.TEXT
