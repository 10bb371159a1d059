"""Live-looking secrets in text: provider-prefixed tokens, key blocks, high-entropy assignments.

Pure functions over one text; the hosts analyzer turns their matches into findings. Every regex
is bounded and free of nested quantifiers so a hostile megabyte costs one linear pass each.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skillscan.normalize import fold_case


@dataclass(frozen=True, slots=True)
class SecretMatch:
    rule_id: str
    start: int
    end: int
    secret: str


@dataclass(frozen=True)
class SecretPatterns:
    """Compiled secret rules, built once from the engine's data file.

    Generic assignments are found in two steps so that cost stays linear: a plain alternation
    finds the secret-looking names, then an anchored pattern parses `= "value"` right after each.

    Both alternations are factored into prefix trees (the same matches, far fewer steps at every
    offset of a flood of first letters). `triggers` matches a run of close triggers at once;
    `trigger_alts` then lists the triggers inside a run, so a flood of `sk-` costs one regex match
    per run instead of one per trigger.
    """

    triggers: re.Pattern[str]
    trigger_alts: re.Pattern[str]
    by_trigger: Mapping[str, tuple[tuple[str, int, re.Pattern[str]], ...]]  # trigger -> (rule, back, rx)
    names: re.Pattern[str]
    placeholder_words: tuple[str, ...]

    @classmethod
    def build(
        cls,
        patterns: Mapping[str, Sequence[Mapping[str, Any]]],
        secret_names: Sequence[str],
        placeholder_words: Sequence[str],
    ) -> SecretPatterns:
        by_trigger: dict[str, list[tuple[str, int, re.Pattern[str]]]] = {}
        for rule_id, specs in patterns.items():
            for spec in specs:
                entry = (rule_id, int(spec.get("back", 0)), re.compile(spec["regex"]))
                trigger = spec["trigger"]  # one literal, or a list of them sharing the regex
                for t in [trigger] if isinstance(trigger, str) else trigger:
                    by_trigger.setdefault(str(t), []).append(entry)
        # longest first so that "sk-ant-" wins over "sk-" at the same offset
        ordered = sorted(by_trigger, key=len, reverse=True)
        alts = _prefix_tree([[re.escape(c) for c in t] for t in ordered])
        # The leading copy keeps the first-character scan that a bare repeat would lose; the lazy
        # gap reaches the next trigger exactly where a plain scan would find it.
        triggers = re.compile(f"{alts}(?:[\\s\\S]{{0,{_RUN_GAP}}}?{alts}){{0,{_MAX_RUN}}}")
        # run on ASCII-lowered text
        names = re.compile(
            _prefix_tree([[_SEP if c == "_" else re.escape(c) for c in n.lower()] for n in secret_names])
        )
        return cls(
            triggers,
            re.compile(alts),
            {t: tuple(v) for t, v in by_trigger.items()},
            names,
            tuple(w.lower() for w in placeholder_words),
        )


_SEP = "[_-]?"  # `api_key` in a name list also means `api-key` and `apikey`
_MAX_RUN = 512  # triggers per run match: bounds the regex engine's repeat stack
_RUN_GAP = 8  # characters allowed between two triggers of one run (`sk-ant-a-sk-ant-a-…`)


def _prefix_tree(branches: Sequence[Sequence[str]]) -> str:
    """An alternation of `branches` (each a list of regex atoms, tried in order) as a prefix tree.

    Branches are grouped by their first atom when every branch starts with a literal: two
    different literals cannot both match at one offset, so the first branch to match is the same
    as in the flat alternation (order inside each group is kept).
    """
    if len(branches) <= 1 or any(not b or b[0] == _SEP for b in branches):
        return "(?:" + "|".join("".join(b) for b in branches) + ")"
    groups: dict[str, list[Sequence[str]]] = {}
    for b in branches:
        groups.setdefault(b[0], []).append(b[1:])
    return "(?:" + "|".join(head + _prefix_tree(rest) for head, rest in groups.items()) + ")"


_VALUE = r"(?P<q>[\"'`]?)(?P<val>[A-Za-z0-9+/=_\-.~!@#%^&*]{16,200})(?P=q)"
# key = "value" / key: 'value' / KEY=value / "key": "value" / key := fn("value")
_ASSIGN_TAIL = re.compile(
    r"(?P<rest>[\w-]{0,20})[\"']?\s{0,3}(?:=|:|=>|:=)\s{0,3}(?:[\w.]{1,20}\()?" + _VALUE
)
_BEARER_TAIL = re.compile(r"\s{1,3}" + _VALUE)
_KEY_HEAD = re.compile(r"[\w-]{0,30}$")


def shannon_entropy(s: str) -> float:
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def is_placeholder(value: str, words: Sequence[str]) -> bool:
    low = value.lower()
    if any(w in low for w in words):
        return True
    if any(ch in value for ch in "<>{}$[]()") or "%s" in value:
        return True
    # xxxxx…, 00000…, aaaa-aaaa: too few distinct characters to be random
    return len(set(low.replace("-", "").replace("_", ""))) < 6


def _char_classes(s: str) -> int:
    return sum(
        (
            any(c.islower() for c in s),
            any(c.isupper() for c in s),
            any(c.isdigit() for c in s),
        )
    )


def _looks_random(secret: str, min_entropy: float, min_classes: int) -> bool:
    return shannon_entropy(secret) >= min_entropy and _char_classes(secret) >= min_classes


def _jwt_is_example(token: str) -> bool:
    """The jwt.io sample and similar documentation tokens carry tell-tale claims."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, IndexError, binascii.Error, UnicodeDecodeError):
        return False
    if not isinstance(data, dict):
        return False
    text = json.dumps(data).lower()
    return any(w in text for w in ("john doe", "1234567890", "example", "your-", "placeholder"))


# Per-rule randomness thresholds: a fixed format (AKIA + 16) needs less proof than a free-form one.
_THRESHOLDS: dict[str, tuple[float, int]] = {
    "aws-access-key-literal": (3.0, 2),
    "jwt-literal": (4.0, 3),
    "private-key-block": (0.0, 0),
    "chat-webhook-token-literal": (3.0, 2),
}
_DEFAULT_THRESHOLD = (3.5, 3)

_PEM = re.compile(
    r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"
    r"\s{0,4}(?:[A-Za-z-]{1,30}: [^\n]{0,100}\s{1,4}){0,4}(?P<body>[A-Za-z0-9+/=\s]{64,200})"
)


_MAX_SECRET = 3100  # longest secret any pattern can match (JWT), bounds each anchored match
# Trigger and name hits examined per text: bounds the per-hit Python work on a hostile file that
# repeats a trigger (these findings are hygiene, never a verdict on their own).
MAX_CANDIDATES = 2000


def _match_near(rx: re.Pattern[str], text: str, pos: int, back: int) -> re.Match[str] | None:
    """Anchored match starting at most `back` characters before the trigger (each try is bounded)."""
    end = pos + _MAX_SECRET
    for start in range(max(0, pos - back), pos + 1):
        m = rx.match(text, start, end)
        if m is not None:
            return m
    return None


def _triggers(text: str, patterns: SecretPatterns) -> Iterator[re.Match[str]]:
    """Every trigger, in order: the same matches as `trigger_alts.finditer(text)`."""
    alts = patterns.trigger_alts
    for run in patterns.triggers.finditer(text):
        yield from alts.finditer(text, run.start(), run.end())


def find_secrets(text: str, patterns: SecretPatterns) -> Iterator[SecretMatch]:
    """Yield live-looking secrets in `text` (placeholders and regular strings dropped)."""
    seen: list[tuple[int, int]] = []
    # The checks on a value depend on the value alone: a flood repeating one token pays them once.
    verdicts: dict[tuple[str, str], bool] = {}
    consumed = 0  # end of the last candidate examined, kept or not: never re-read a run twice
    for t in itertools.islice(_triggers(text, patterns), MAX_CANDIDATES):
        if t.start() < consumed:
            continue
        for rule_id, back, rx in patterns.by_trigger[t.group(0)]:
            m = _match_near(rx, text, t.start(), back)
            if m is None:
                continue
            consumed = max(consumed, m.end())
            secret = m.group(0)
            ok = verdicts.get((rule_id, secret))
            if ok is None:
                ok = verdicts[(rule_id, secret)] = _live_token(rule_id, secret, patterns.placeholder_words)
            if not ok:
                continue
            seen.append((m.start(), m.end()))
            yield SecretMatch(rule_id, m.start(), m.end(), secret)
            break
    for m in _PEM.finditer(text):
        body = "".join(m.group("body").split())
        if len(body) >= 60 and shannon_entropy(body) >= 4.5:
            yield SecretMatch("private-key-block", m.start(), m.end(), body[:40])
    last_end = -1
    # Case folding that keeps offsets; a case-sensitive alternation is twice as fast as (?i).
    for n in itertools.islice(patterns.names.finditer(fold_case(text)), MAX_CANDIDATES):
        if n.start() < last_end:
            continue
        tail = _BEARER_TAIL if n.group(0) == "bearer" else _ASSIGN_TAIL
        a = tail.match(text, n.end())
        if a is None:
            continue
        last_end = a.end()
        value = a.group("val")
        head = _KEY_HEAD.search(text, max(0, n.start() - 30), n.start())
        key = (head.group(0) if head else "") + text[n.start() : n.end()] + (a.groupdict().get("rest") or "")
        if _inside(seen, a.start("val")) or _PUBLIC_KEY_NAME.search(key):
            continue
        ok = verdicts.get(("", value))
        if ok is None:
            ok = verdicts[("", value)] = _live_value(value, patterns.placeholder_words)
        if not ok:
            continue
        yield SecretMatch("secret-assignment-literal", a.start("val"), a.end("val"), value)


def _live_token(rule_id: str, secret: str, words: Sequence[str]) -> bool:
    """A provider-shaped token that is neither a placeholder nor a regular string."""
    min_entropy, min_classes = _THRESHOLDS.get(rule_id, _DEFAULT_THRESHOLD)
    if is_placeholder(secret, words) or "EXAMPLE" in secret:
        return False
    if not _looks_random(secret, min_entropy, min_classes):
        return False
    return not (rule_id == "jwt-literal" and _jwt_is_example(secret))


def _live_value(value: str, words: Sequence[str]) -> bool:
    """A value assigned to a secret-looking name that looks like a live secret."""
    if is_placeholder(value, words) or _not_a_secret_value(value) or _ETH_ADDRESS.match(value):
        return False
    return _looks_random(value, 3.3 if _HEX.match(value) else 3.7, 2)


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    """`spans` are sorted and disjoint: is `pos` inside one of them?"""
    i = bisect.bisect_right(spans, (pos, _MAX_INT)) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]


_MAX_INT = 1 << 62
_NOT_SECRET = re.compile(r"^(?:https?://|/|\./|~|[A-Z][A-Z0-9_]{2,}$|[a-z]+(?:[._-][a-z]+)+$|sha\d{3}-)")


_HEX = re.compile(r"^(?:[0-9a-fA-F]{24,128}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$")


# Names that hold public identifiers, not secrets (TOKEN_PROGRAM_ID, token_address, secret_path).
_PUBLIC_KEY_NAME = re.compile(
    r"(?i)(?:id|ids|address|addr|mint|program|contract|pubkey|public|publishable|hash|url|uri|path|"
    r"file|name|count|limit|type|usage|len|length|size|max|min|expiry|expires|ttl|symbol|decimals)$"
)
_ETH_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$")
_HUMAN_PASSWORD = re.compile(r"^[A-Za-z]{4,40}\d{0,6}[!@#$%^&*.]{0,2}$")


def _not_a_secret_value(value: str) -> bool:
    """Env-var names, paths, URLs, identifiers and attribute chains are not secrets.

    A generic assignment must also carry a digit: identifiers (`finalInputTokens`) and
    word-plus-digits sample passwords (`TemporaryPass123!`) are what documentation shows.
    """
    if _NOT_SECRET.match(value) or _HUMAN_PASSWORD.match(value):
        return True
    if not any(c.isdigit() for c in value):
        return True
    # attribute chains and identifiers (process.env.MEM0_API_KEY, config.apiKey2)
    return bool(_IDENTIFIER.match(value)) and ("." in value or "_" in value or len(value) < 24)


def redact(secret: str) -> str:
    """Keep enough to recognise the key, never enough to use it."""
    if len(secret) <= 12:
        return secret[:3] + "…"
    return secret[:8] + "…" + secret[-2:]
