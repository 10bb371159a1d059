"""API authentication: bearer tokens, browser sessions, CSRF tokens and per-identity rate limits.

Tokens come from `SKILLSCAN_API_TOKENS` (comma-separated) or `SKILLSCAN_API_TOKENS_FILE` (one per
line or comma-separated, `#` comments). An entry may be `name:token`; the name is who a maintainer
action is recorded as. Without a name the identity is a short hash of the token — never the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from skillscan.config import Settings
from skillscan.errors import ConfigError

SESSION_COOKIE = "skillscan_session"
SESSION_TTL_S = 12 * 3600
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_MIN_TOKEN_LEN = 16


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request. `key_id` ties a browser session to the token it was opened with."""

    identity: str
    key_id: str
    via: str  # "bearer" | "session"


@dataclass(frozen=True, slots=True)
class _Token:
    digest: bytes
    identity: str
    key_id: str


class TokenSet:
    """The configured API tokens, compared in constant time (digests of equal length, every token)."""

    def __init__(self, entries: list[tuple[str | None, str]]) -> None:
        tokens: list[_Token] = []
        for name, token in entries:
            digest = hashlib.sha256(token.encode()).digest()
            key_id = digest.hex()[:16]
            tokens.append(_Token(digest, name or f"token-{key_id[:8]}", key_id))
        self._tokens = tuple(tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenSet:
        raw: list[str] = []
        if settings.api_tokens:
            raw += settings.api_tokens.split(",")
        if settings.api_tokens_file:
            path = Path(settings.api_tokens_file)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as e:
                raise ConfigError(f"cannot read SKILLSCAN_API_TOKENS_FILE {path}: {e.strerror}") from e
            for line in text.splitlines():
                line = line.split("#", 1)[0]
                raw += line.split(",")
        entries: list[tuple[str | None, str]] = []
        for item in (r.strip() for r in raw):
            if not item:
                continue
            name, sep, rest = item.partition(":")
            named = bool(sep) and _NAME.match(name) is not None and rest
            token = rest if named else item
            if len(token) < _MIN_TOKEN_LEN:
                raise ConfigError(f"API tokens must be at least {_MIN_TOKEN_LEN} characters long")
            entries.append((name if named else None, token))
        return cls(entries)

    def check(self, presented: str) -> Principal | None:
        digest = hashlib.sha256(presented.encode("utf-8", "surrogateescape")).digest()
        found: _Token | None = None
        for t in self._tokens:  # no early exit: the time taken does not say which token matched
            if hmac.compare_digest(digest, t.digest):
                found = t
        return Principal(found.identity, found.key_id, "bearer") if found else None

    def by_key_id(self, key_id: str) -> _Token | None:
        found: _Token | None = None
        for t in self._tokens:
            if hmac.compare_digest(key_id.encode(), t.key_id.encode()):
                found = t
        return found


class Sessions:
    """Signed, opaque session cookies: key id + expiry + HMAC, never the token itself."""

    def __init__(self, secret: str | None, tokens: TokenSet) -> None:
        self._key = hashlib.sha256((secret or secrets.token_hex(32)).encode()).digest()
        self._tokens = tokens

    def issue(self, principal: Principal, now: float | None = None) -> str:
        expires = int((now or time.time()) + SESSION_TTL_S)
        body = f"{principal.key_id}.{expires}.{secrets.token_hex(8)}"
        return f"{body}.{self._sign(body)}"

    def verify(self, cookie: str, now: float | None = None) -> Principal | None:
        parts = cookie.split(".")
        if len(parts) != 4:
            return None
        body = ".".join(parts[:3])
        if not hmac.compare_digest(self._sign(body), parts[3]):
            return None
        key_id, expires = parts[0], parts[1]
        if not expires.isdigit() or int(expires) < (now or time.time()):
            return None
        token = self._tokens.by_key_id(key_id)  # a removed token ends its sessions too
        return Principal(token.identity, token.key_id, "session") if token else None

    def csrf(self, cookie: str) -> str:
        return self._sign("csrf:" + cookie)

    def check_csrf(self, cookie: str, presented: str) -> bool:
        return hmac.compare_digest(self.csrf(cookie), presented)

    def _sign(self, text: str) -> str:
        mac = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


class RateLimiter:
    """Token bucket per key: `per_minute` sustained, a burst of a tenth of that (at least 10)."""

    def __init__(self, per_minute: int) -> None:
        self._rate = max(1, per_minute) / 60.0
        self._burst = max(10.0, per_minute / 10.0)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> float:
        """0 when allowed, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            level, last = self._buckets.get(key, (self._burst, now))
            level = min(self._burst, level + (now - last) * self._rate)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                return 0.0
            self._buckets[key] = (level, now)
            if len(self._buckets) > 10000:  # bounded memory under a flood of distinct keys
                self._buckets.clear()
            return (1.0 - level) / self._rate
