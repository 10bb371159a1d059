"""What a skill must not read or send, and where sent data ends up.

Shared vocabulary of the flow, shell-threat and obfuscation checks: credential stores and agent
memory by path, credential-looking environment variables, the env vars a skill declares
(`requires.env`, `primaryEnv`, `envVars`), and the class of a network destination (the skill's
own API, an ordinary host, or a place where data is lost: capture inbox, tunnel, paste, raw IP).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the parser behind re.compile
from typing import Any

from skillscan.analyzers.declared_hosts import DeclaredHosts
from skillscan.analyzers.delivery import DeliveryCatalog
from skillscan.analyzers.host_policy import HostPolicy, Trust
from skillscan.analyzers.urls import UrlRef, parse_url, registrable
from skillscan.models import Skill

# (pattern over a normalised path, label). Paths are matched with "\\" folded to "/".
_SENSITIVE_PATHS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rx, re.I), label)
    for rx, label in (
        (r"\.(?:openclaw|clawdbot|moltbot|clawdis)/(?:[\w.-]{1,64}/){0,4}(?:openclaw|clawdbot|moltbot)\.json", "OpenClaw config (holds API keys)"),
        (r"\.(?:openclaw|clawdbot|moltbot)/(?:[\w.-]{1,64}/){0,4}(?:\.env|credentials|auth[\w-]{0,20}\.json|exec-approvals\.json)", "OpenClaw credentials"),
        (r"\.(?:openclaw|clawdbot|moltbot)/agents/[^/]{1,80}/(?:sessions|agent)\b", "OpenClaw agent sessions"),
        (r"(?:^|/)(?:MEMORY|SOUL|USER|IDENTITY)\.md$", "agent memory file"),
        (r"(?:^|/)clawhub/config\.json$", "ClawHub token store"),
        (r"\.(?:codex|claude|gemini)/(?:auth|\.credentials|credentials|oauth_creds)\.json", "coding-agent credentials"),
        (r"(?:^|/)\.env(?:\.(?!example|sample|template|dist)[\w-]{1,20})?$", ".env secrets file"),
        (r"\.ssh/(?:id_[\w-]{1,40}|identity)(?!\.pub)\b", "SSH private key"),
        (r"\.ssh/?$", "SSH directory"),
        (r"\.aws/(?:credentials|config)$", "AWS credentials"),
        (r"\.config/gcloud/(?:credentials\.db|access_tokens\.db|application_default_credentials\.json|legacy_credentials)", "gcloud credentials"),
        (r"\.azure/(?:accessTokens\.json|msal_token_cache)", "Azure credentials"),
        (r"\.kube/config$", "Kubernetes credentials"),
        (r"\.docker/config\.json$", "Docker registry credentials"),
        (r"(?:^|/)\.(?:npmrc|pypirc|netrc|git-credentials)$", "package/git credentials"),
        (r"\.config/gh/hosts\.yml$", "GitHub CLI token"),
        (r"Library/Keychains\b|\.keychain(?:-db)?$", "macOS keychain"),
        (r"(?:^|/)(?:logins\.json|key[34]\.db|cookies\.sqlite|Cookies\.binarycookies)$", "browser secrets"),
        (r"(?-i:/(?:Login Data|Web Data|Local State|Cookies))$", "browser secrets"),
        (r"wallet\.dat$|exodus\.wallet|Local Extension Settings|\.electrum/wallets|/keystore/UTC--", "crypto wallet"),
        (r"\.config/solana/id\.json$", "Solana keypair"),
        (r"^/etc/(?:shadow|sudoers|master\.passwd)$", "system password database"),
        (r"/proc/(?:self|\d{1,7})/environ$", "process environment"),
        (r"(?:^|/)\.(?:bash|zsh|sh)_history$", "shell history"),
    )
)  # fmt: skip

# Env var names that hold credentials (matched on the upper-cased name).
_CREDENTIAL_ENV = re.compile(
    r"(?:API_?KEY|APIKEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|"
    r"AUTH|SESSION|COOKIE|DATABASE_URL|_DSN$|MNEMONIC|SEED_PHRASE|WEBHOOK_URL|CONN(?:ECTION)?_STRING)"
)
# Words in a variable name that say nothing about whose API it is.
_GENERIC_WORDS = frozenset(
    {"API", "KEY", "KEYS", "TOKEN", "SECRET", "ACCESS", "AUTH", "CLIENT", "ID", "PASSWORD", "URL",
     "BOT", "APP", "PRIVATE", "PUBLIC", "BEARER", "OAUTH", "SESSION", "USER", "PASS", "CREDENTIALS",
     "WEBHOOK", "SERVICE", "ACCOUNT", "PROJECT", "BASE", "HOST", "ENDPOINT", "DEFAULT", "MY", "THE"}
)  # fmt: skip
# Destination classes where whatever is sent is lost to the user.
EXFIL_CLASSES = frozenset({"capture", "tunnel", "paste", "raw-ip", "file-share", "dynamic-dns", "shortener"})


def sensitive_path(path: str) -> str | None:
    """The kind of secret a path names (`~/.ssh/id_rsa` -> "SSH private key"), or None."""
    # the same fragments recur across the calls and files of a skill; long text is never kept
    return _cached_label(path) if len(path) <= 2000 else _label(path)


def _label(path: str) -> str | None:
    p = path.replace("\\", "/").strip().strip("\"'`")
    if not p or len(p) > 1000:
        return None
    for rx, label in _SENSITIVE_PATHS:
        if rx.search(p):
            return label
    return None


_cached_label = lru_cache(maxsize=4096)(_label)


# --- a cheap screen for the parts of a path -------------------------------------------------
# A path expression's label is `sensitive_path` of its literal parts joined with "/" (or of one
# part). Every pattern above needs one of a few literal words that hold no "/" (".ssh", "claw",
# "keychain" …), and a word without "/" lies inside a single part: a value none of whose parts
# contains one of those words cannot name a secret. The words are read off the patterns' parse
# trees, so the screen only ever lets extra values through.
_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", None)}


def _required(items: Any) -> frozenset[str] | None:
    """Lowercase words without "/", one of which every match of the parsed pattern contains
    (None: nothing known). Of several choices, punctuated words first, then the longest."""
    best: frozenset[str] | None = None
    run: list[str] = []

    def score(words: frozenset[str]) -> tuple[bool, int]:
        # words of 3+ characters with punctuation (".ssh", "wallet.dat") are rarer in code than
        # plain ones ("key")
        shortest = min(map(len, words))
        return shortest >= 3 and all(not w.isalnum() for w in words), shortest

    def pick(found: frozenset[str] | None) -> None:
        nonlocal best
        if found and (best is None or score(found) > score(best)):
            best = found

    def close_run() -> None:
        for piece in "".join(run).split("/"):
            pick(frozenset({piece}) if piece else None)
        run.clear()

    for op, arg in items:
        if op is sre_parse.LITERAL:
            run.append(chr(arg).lower())
            continue
        close_run()
        if op is sre_parse.SUBPATTERN:
            pick(_required(arg[3]))
        elif op is sre_parse.BRANCH:
            alternatives = [_required(a) for a in arg[1]]
            if all(alternatives):
                pick(frozenset().union(*(a for a in alternatives if a)))
        elif op in _REPEATS and arg[0] >= 1:
            pick(_required(arg[2]))
    close_run()
    return best


def _path_words() -> frozenset[str] | None:
    words: set[str] = set()
    for rx, _ in _SENSITIVE_PATHS:
        found = _required(sre_parse.parse(rx.pattern, rx.flags))
        if not found:
            return None  # a pattern with no known word: screen nothing out
        words |= found
    return frozenset(words)


PATH_WORDS = _path_words()
# the words, and backslashes (an escape can spell a word: "\\x2essh"), in case-folded text
_PATH_WORDS_RX = re.compile(
    "|".join([re.escape("\\"), *(re.escape(w) for w in sorted(PATH_WORDS or (), key=len, reverse=True))])
)


def fold_case(text: str) -> str:
    """`text` lowercased as IGNORECASE compares it, same length (str.lower() changes the length
    only of U+0130, replaced first)."""
    if text.isascii():
        return text.lower()
    return text.replace("\u0130", "i").lower().replace("\u0131", "i").replace("\u017f", "s")


def may_name_secret(part: str, start: int = 0, end: int | None = None) -> bool:
    """False only when no path built with `part` (or its [start, end) slice: then `part` must be
    case-folded already) among its parts can be a `sensitive_path`."""
    if PATH_WORDS is None:
        return True
    if end is None:
        return _PATH_WORDS_RX.search(fold_case(part)) is not None
    return _PATH_WORDS_RX.search(part, start, end) is not None


def is_credential_env(name: str) -> bool:
    return bool(_CREDENTIAL_ENV.search(name.upper()))


_CREDENTIAL_ENV_LINES = re.compile(_CREDENTIAL_ENV.pattern, re.MULTILINE)


def any_credential_env(lines: str) -> bool:
    """Whether a line of `lines` (a name each) is a credential's name: one search for them all."""
    return bool(_CREDENTIAL_ENV_LINES.search(lines.upper()))


# Products whose API lives under their vendor's domain.
_VENDOR_DOMAINS = {
    "GEMINI": "GOOGLEAPIS", "GOOGLE": "GOOGLEAPIS", "GCP": "GOOGLEAPIS", "YOUTUBE": "GOOGLEAPIS",
    "CLAUDE": "ANTHROPIC", "GPT": "OPENAI", "CHATGPT": "OPENAI", "DALLE": "OPENAI",
    "AZURE": "MICROSOFT", "OUTLOOK": "MICROSOFT", "GRAPH": "MICROSOFT", "TWITTER": "X", "LARK": "FEISHU",
}  # fmt: skip


def var_matches_host(var: str, host: str) -> bool:
    """`TAVILY_API_KEY` and `api.tavily.com`: the variable names the API it is sent to."""
    words = [w for w in re.split(r"[^A-Z0-9]+", var.upper()) if len(w) >= 3 and w not in _GENERIC_WORDS]
    labels = registrable(host).split(".")[0].upper().replace("-", "")
    host_up = host.upper().replace("-", "")
    for w in words:
        if w in labels or (len(labels) >= 4 and labels in w) or _VENDOR_DOMAINS.get(w) == labels:
            return True
        if len(w) >= 4 and w in host_up:  # a product sub-domain: generativelanguage, api.search.brave
            return True
    return False


class Sink(IntEnum):
    """Where data sent over the network ends up, worst last."""

    OWN = 0  # the skill's declared host, the platform, a well-known vendor, localhost
    ORDINARY = 1  # an ordinary host the skill does not declare
    EXFIL = 2  # capture inbox, tunnel, paste, raw IP, file drop, dynamic DNS, shortener


@dataclass(frozen=True)
class ThreatContext:
    """What a skill declares about itself, for telling documented use from exfiltration."""

    declared_env: frozenset[str] = frozenset()
    policy: HostPolicy = field(default_factory=lambda: HostPolicy(DeliveryCatalog.load()))
    own_names: frozenset[str] = frozenset()  # the skill's slug and name: its own install folder

    @classmethod
    def from_skill(
        cls, skill: Skill, catalog: DeliveryCatalog | None = None, policy: HostPolicy | None = None
    ) -> ThreatContext:
        if policy is None:
            declared = DeclaredHosts.of(skill)
            policy = HostPolicy(catalog or DeliveryCatalog.load(), declared)
        own = {n.lower() for n in (skill.identity.slug, skill.identity.name) if n}
        return cls(declared_env=declared_env(skill.frontmatter), policy=policy, own_names=frozenset(own))

    def is_own_folder(self, folder: str) -> bool:
        f = folder.lower().strip("\"'")
        return f in self.own_names or f.startswith(("$", "{", "<")) or not self.own_names

    def env_declared(self, name: str) -> bool:
        return name in self.declared_env

    def sink(self, target: str) -> tuple[Sink, UrlRef] | None:
        """Classify a URL (or a curl-style bare host) that data is sent to."""
        ref = parse_url(target, allow_bare=True)
        if ref is None:
            return None
        classes = self.policy.catalog.classify(ref)
        if classes & EXFIL_CLASSES or "brand-impersonation" in classes:
            return Sink.EXFIL, ref
        trust = self.policy.assess(ref)
        return (Sink.OWN if trust is Trust.DECLARED else Sink.ORDINARY), ref

    def undeclared_credential(self, var: str, host: str | None) -> bool:
        """A credential env var the skill neither declares nor sends to the API its name points at."""
        if not is_credential_env(var) or self.env_declared(var):
            return False
        return not (host and var_matches_host(var, host))


def declared_env(frontmatter: Mapping[str, Any] | None) -> frozenset[str]:
    """Env var names a SKILL.md declares: requires.env, primaryEnv, envVars/env, config.requiredEnv."""
    if not frontmatter:
        return frozenset()
    blocks: list[Any] = [frontmatter]
    meta = frontmatter.get("metadata")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            meta = None
    if isinstance(meta, Mapping):
        blocks += [meta] + [meta.get(k) for k in ("openclaw", "clawdbot", "clawdis")]
    blocks += [frontmatter.get(k) for k in ("openclaw", "clawdbot", "clawdis")]
    names: set[str] = set()
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        requires = block.get("requires")
        if isinstance(requires, Mapping):
            names.update(_names(requires.get("env")))
        config = block.get("config")
        if isinstance(config, Mapping):
            names.update(_names(config.get("requiredEnv")))
        for key in ("primaryEnv", "envVars", "env"):
            names.update(_names(block.get(key)))
    return frozenset(n for n in names if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", n))


def _names(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield from (v.strip() for v in re.split(r"[,\s]+", value) if v.strip())
    elif isinstance(value, Mapping):
        name = value.get("name")
        if isinstance(name, str):
            yield name
        else:
            yield from (str(k) for k in value)
    elif isinstance(value, list):
        for item in value[:500]:
            yield from _names(item)
