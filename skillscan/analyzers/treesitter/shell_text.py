"""Text-level helpers of the shell checks: what a hit looks like, logical lines, defusing input
that would make tree-sitter-bash slow, and the vocabulary of decoders and inline code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tree_sitter import Node

from skillscan.analyzers.host_policy import HostPolicy, Trust
from skillscan.analyzers.treesitter.shell_words import text
from skillscan.analyzers.urls import UrlRef

RULE_BY_TRUST = {
    Trust.DELIVERY: "download-exec-delivery-host",
    Trust.UNDECLARED: "download-exec-undeclared-host",
    Trust.DECLARED: "download-exec-declared-host",
}
RULE_ENCODED = "encoded-payload-pipe-shell"
RULE_PS_ENCODED = "powershell-encoded-command"

DECODERS: dict[str, Callable[[list[str]], bool]] = {
    "base64": lambda a: any(x in {"-d", "-D", "--decode"} or re.match(r"^-[a-zA-Z]{0,4}[dD]$", x) for x in a),
    "base32": lambda a: any(x in {"-d", "--decode"} for x in a),
    "openssl": lambda a: ("base64" in a or "-base64" in a or "-a" in a) and "-d" in a,
    "xxd": lambda a: any(x.startswith("-r") for x in a),
    "uudecode": lambda a: True,
    "basenc": lambda a: "-d" in a or "--decode" in a,
}
INLINE_FETCH = re.compile(
    r"urlopen|urllib|urlretrieve|requests\s{0,3}\.\s{0,3}(?:get|post)|httpx|http\.client|\bfetch\s{0,3}\(|"
    r"https?\s{0,3}\.\s{0,3}get\s{0,3}\(|axios|Net::HTTP|open-uri|LWP::|HTTP::Tiny|file_get_contents\s{0,3}\(\s{0,3}"
    r"['\"]https?|curl_exec|Invoke-WebRequest|DownloadString|\biwr\b|\birm\b"
)
INLINE_EXEC = re.compile(
    r"\bexec\s{0,3}\(|\beval\s{0,3}\(|\bcompile\s{0,3}\(|new\s{1,3}Function|\bFunction\s{0,3}\(|vm\s{0,3}\.\s{0,3}run|"
    r"child_process|os\s{0,3}\.\s{0,3}(?:system|popen|exec\w{0,3})|subprocess|\bsystem\s{0,3}\(|\bIEX\b|"
    r"Invoke-Expression|`[^`]{1,200}`|\beval\b"
)
INLINE_DECODE = re.compile(
    r"b64decode|b32decode|decodebytes|a85decode|bytes\.fromhex|decode_base64|unpack\s{0,3}\(?\s{0,3}['\"]m|"
    r"Buffer\s{0,3}\.\s{0,3}from\s{0,3}\([^)]{0,300}base64|\batob\s{0,3}\(|FromBase64String|base64\s{0,3}-d"
)
DO_SHELL_SCRIPT = re.compile(r'(?i)do\s{1,3}shell\s{1,3}script\s{1,3}"((?:[^"\\]|\\.){1,4000})"')
URL_IN_CODE = re.compile(r"(?i)\b(?:https?|ftp)://[^\s'\"`)<>]{1,2000}")
# Text without any of these (quotes and backslashes removed first: `c''url`, `c\\url`) cannot
# fetch, decode or hand code to PowerShell: not worth a walk. Plain substrings of the lower-cased
# text are found by fast search; one alternation over 1 MB would try every branch at every offset.
_TRIGGER_WORDS = (
    "curl", "wget", "fetch", "aria2c", "lwp-", "base64", "base32", "basenc", "xxd", "uudecode", "openssl",
    "powershell", "pwsh", "urlopen", "urllib", "requests", "http.", "https.", "axios", "socket", "mshta",
    "msiexec", "regsvr32", "rundll32", "b64decode", "decode_base64", "atob", "fromhex", "://", "<(",
)  # fmt: skip
# `\bxh\b`, `\bhttps? ` and `| sudo bash`, each starting with a literal so the search skips ahead
_TRIGGER_SHAPES = re.compile(
    r"xh(?<!\wxh)\b|http(?<!\whttp)s?\s|\|\s{0,4}(?:sudo\s{1,4})?\S{0,20}(?:sh|bash|zsh)\b"
)


def may_fetch_or_decode(source: str) -> bool:
    low = source.replace("'", "").replace('"', "").replace("\\", "").lower()
    return any(w in low for w in _TRIGGER_WORDS) or _TRIGGER_SHAPES.search(low) is not None


# Windows programs that fetch and run a remote script or package given its URL (ClickFix lures).
REMOTE_LOADERS = frozenset(
    {"mshta", "mshta.exe", "msiexec", "msiexec.exe", "regsvr32", "regsvr32.exe", "rundll32", "rundll32.exe"}
)


@dataclass(frozen=True, slots=True)
class Detection:
    """A hit before it becomes a Finding: rule, 1-based line in the scanned text, evidence, message."""

    rule_id: str
    line: int
    evidence: str
    message: str
    more: int = 0  # further matches of the rule that were counted, not listed (scan_hits.Hits)


def rule_for(found: tuple[Trust, UrlRef] | None) -> str:
    """The download-exec rule for code fetched from `found` (None: a URL computed at run time)."""
    return RULE_BY_TRUST[found[0] if found is not None else Trust.UNDECLARED]


def grade(
    policy: HostPolicy, found: tuple[Trust, UrlRef] | None, shape: str, with_message: bool = True
) -> tuple[str, str]:
    """(rule, message) of executed code fetched from `found` (the least trusted URL, or None when
    it is computed at run time); the message only `with_message` (a counted hit needs none)."""
    rule = rule_for(found)
    if not with_message:
        return rule, ""
    if found is None:
        return rule, f"{shape} from a URL computed at run time"
    trust, url = found
    target = (url.host + url.path)[:120]
    if trust is Trust.DELIVERY:
        kinds = ", ".join(sorted(policy.catalog.classify(url) - {"archive", "executable"}))
        return rule, f"{shape}: code fetched from {target} ({kinds}) is executed"
    if trust is Trust.UNDECLARED:
        return rule, f"{shape}: code fetched from {target}, a host the skill does not declare, is executed"
    return rule, f"{shape}: code fetched from {target} (declared or well-known installer host) is executed"


def evidence_of(node: Node) -> str:
    whole = text(node)
    first = " ".join(whole.split("\n", 1)[0].split())
    if "\n" in whole:
        joined = " ".join(whole.replace("\\\n", " ").split())
        first = joined if len(joined) <= 200 else first
    return first if len(first) <= 200 else first[:197] + "..."


_PIPE = re.compile(r"(?<!\|)\|(?!\|)")
MAX_PIPE_STAGES = 1024


def defuse_long_pipelines(source: str) -> str:
    """Blank the middle stages of absurdly long pipelines (tree-sitter-bash parses a pipeline of
    `cmd -opt` stages in quadratic time). The first and last stages are kept, so a fetch at the
    start still meets the shell at the end; line and column numbers do not move."""
    if source.count("|") <= MAX_PIPE_STAGES:
        return source
    lines = source.split("\n")
    for i, line in enumerate(lines):
        if line.count("|") <= MAX_PIPE_STAGES:
            continue
        cuts = [m.start() for m in _PIPE.finditer(line)]
        if len(cuts) <= MAX_PIPE_STAGES:
            continue
        keep_head = cuts[MAX_PIPE_STAGES // 2]
        keep_tail = cuts[-MAX_PIPE_STAGES // 2]
        lines[i] = line[: keep_head + 1] + " " * (keep_tail - keep_head - 1) + line[keep_tail:]
    return "\n".join(lines)


def logical_lines(source: str) -> list[tuple[int, str]]:
    """(0-based first line, text) of each logical line: backslash and pipe continuations joined."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for i, line in enumerate(source.split("\n")):
        if not buf:
            start = i
        buf.append(line)
        stripped = line.rstrip()
        if stripped.endswith(("\\", "|", "&&", "||")) and len(buf) < 50:
            continue
        out.append((start, "\n".join(buf)))
        buf = []
    if buf:
        out.append((start, "\n".join(buf)))
    return out
