"""What the PowerShell download-and-execute checks read of a statement: the bounded patterns
matched on its text, its pipeline stages and command names, its code with string literals blanked,
the facts a shape compares (scan_shapes), and the script an -EncodedCommand hides.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from tree_sitter import Node

from skillscan.analyzers.treesitter.parsing import walk
from skillscan.analyzers.treesitter.shell_words import text

EXEC_CMDS = frozenset({"iex", "invoke-expression"})
RUN_CMDS = frozenset(
    {"start-process", "saps", "start", "invoke-item", "ii", "msiexec", "msiexec.exe", "cmd", "cmd.exe"}
)
FETCH_TEXT = re.compile(
    r"(?i)\b(?:iwr|irm|invoke-webrequest|invoke-restmethod|wget|curl(?:\.exe)?)\b|\.\s{0,3}download(?:string|data)\s{0,3}\(|"
    r"net\.webclient|system\.net\.http|httpclient\b[^\n]{0,80}getstring|\bstart-bitstransfer\b"
)
# Text without any of these cannot fetch, evaluate or start a download: not worth a walk. Every
# shape `powershell` matches needs one of them; substrings of the lower-cased text are found by fast search.
TRIGGER_WORDS = (
    "iwr", "irm", "iex", "invoke-", "download", "webclient", "bitstransfer", "certutil", "frombase64string",
    "scriptblock", "powershell", "pwsh", "curl", "wget", "start-process", "saps", "mshta", "msiexec",
    "regsvr32", "rundll32",
)  # fmt: skip
# A statement naming none of these cannot fetch, evaluate or start anything: every pattern of
# `powershell._statement` needs one (the fetch words of FETCH_TEXT included), and `$` is how it
# sets or reads the variables later statements use. Without a download so far it cannot run one
# either. Text that is not ASCII is always analysed: case-insensitive patterns fold more letters
# than `lower`.
STATEMENT_WORDS = re.compile(
    rb"(?i)\$|iwr|irm|iex|invoke-|download|webclient|system\.net\.http|httpclient|bitstransfer|certutil|"
    rb"scriptblock|powershell|pwsh|curl|wget|mshta|msiexec|regsvr32|rundll32"
)
ENCODED_EXEC = re.compile(r"(?i)frombase64string|-e(?:nc(?:odedcommand)?)?\s{1,4}[A-Za-z0-9+/=]{16,}")
EXEC_WORD = re.compile(r"(?i)\b(?:iex|invoke-expression)\b")
SCRIPTBLOCK = re.compile(r"(?i)\[\s{0,3}scriptblock\s{0,3}\]\s{0,3}::\s{0,3}create")
URL = re.compile(r"(?i)\b(?:https?|ftp)://[^\s'\"`)<>;|]{1,2000}")
STR_ASSIGN = re.compile(
    r"""(?i)^\s{0,8}\$([a-z_][\w:]{0,63})\s{0,4}=\s{0,4}["']([^"'\n]{1,2000})["']\s{0,4}$"""
)
# Statement lists nest only in script blocks `{…}`, sub-expressions `$(…)` and `@(…)`.
NESTS = re.compile(rb"\{|[$@]\(")
VAR_ASSIGN = re.compile(r"(?i)^\s{0,8}\$([a-z_][\w:]{0,63})\s{0,4}=")
VAR_REF = re.compile(r"(?i)\$([a-z_][\w:]{0,63})")
OUTFILE = re.compile(
    r"""(?i)(?:-outfile|-destination|-o)\s{1,4}(["']?)([^\s"';|]{1,400})\1|\.downloadfile\s{0,3}\([^,\n]{1,2000},\s{0,4}(["'])([^"'\n]{1,400})\3"""
)
CERTUTIL = re.compile(
    r"(?i)\bcertutil(?:\.exe)?\b[^\n]{0,200}-urlcache[^\n]{0,200}?(\S{1,2000}://\S{1,2000})\s{1,4}(\S{1,400})"
)


def encoded_command_arg(words: list[str]) -> str | None:
    """The value of `-EncodedCommand` (any unambiguous prefix: -e, -en, -enc, -ec) or None."""
    for i, w in enumerate(words[:-1]):
        lw = w.lower()
        if lw in {"-e", "-ec", "-en", "-enc", "-enco", "-encod", "-encode", "-encodedcommand"} or (
            lw.startswith("-encodedc") and "-encodedcommand".startswith(lw)
        ):
            return words[i + 1].strip("\"'")
    return None


def decode_encoded_command(value: str) -> str | None:
    """PowerShell's -EncodedCommand is base64 of UTF-16LE text."""
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=False)
    except (binascii.Error, ValueError):
        return None
    for enc in ("utf-16-le", "utf-8"):
        try:
            out = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if out and sum(c.isprintable() or c in "\r\n\t" for c in out) / len(out) > 0.9:
            return out
    return None


def command_name(cmd: Node) -> str:
    name = cmd.child_by_field_name("command_name")
    return text(name).strip("\"'&. ").rsplit("\\", 1)[-1].lower() if name is not None else ""


def statement_stages(statement: Node) -> list[Node]:
    chain = next((c for c in statement.named_children if c.type == "pipeline_chain"), None)
    if chain is None:
        assign = next((c for c in statement.named_children if c.type == "assignment_expression"), None)
        inner = assign.child_by_field_name("value") if assign is not None else None
        if inner is None and assign is not None:
            inner = next((c for c in assign.named_children if c.type == "pipeline"), None)
        chain = next((c for c in inner.named_children if c.type == "pipeline_chain"), None) if inner else None
    return [c for c in chain.named_children if c.type != "comment"] if chain is not None else []


def code_text(node: Node) -> str:
    """The statement with string literal contents blanked: words inside strings are data."""
    raw = bytearray((node.text or b"")[:100_000])
    if raw.isascii() and b"'" not in raw and b'"' not in raw:
        return raw.decode()  # every string literal starts with a quote: nothing to blank
    base = node.start_byte
    for n in walk(node):
        if n.type == "string_literal":
            lo, hi = max(0, n.start_byte - base), min(len(raw), n.end_byte - base)
            raw[lo:hi] = b" " * max(0, hi - lo)
    return raw.decode("utf-8", "replace")


# No variable around a statement's URLs (nor in a string: no expansion), nor what
# `scan_shapes.AROUND` finds.
AROUND_SLOTS = re.compile(rb"[$`\\:]")


# A read of the statement analysis (`powershell._PsScan.read`): the bound search, match or
# findall of a pattern, what it read (RAW: the statement's bytes, TEXT: its text, CODE: its code
# with strings blanked, n >= 0: the code of its stage n) and what it found (found or not; findall:
# the words found).
CODE, RAW, TEXT = -3, -2, -1
Read = tuple[Callable[[Any], Any], int, bool | tuple[str, ...]]


def outcome(found: Any) -> bool | tuple[str, ...]:
    return tuple(found) if isinstance(found, list) else found is not None
