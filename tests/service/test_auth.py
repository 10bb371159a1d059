"""Tokens, sessions and rate limits (the HTTP behaviour is tested against a real server in test_api)."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillscan.config import Settings
from skillscan.errors import ConfigError
from skillscan.service.auth import RateLimiter, Sessions, TokenSet

TOKEN_A = "alice-token-0123456789abcdef"
TOKEN_B = "b" * 32


def test_tokens_from_env_and_file(tmp_path: Path) -> None:
    f = tmp_path / "tokens"
    f.write_text(f"# maintainers\ncarol:{'c' * 24}\n\n{TOKEN_B}  # ci\n")
    tokens = TokenSet.from_settings(Settings(api_tokens=f"alice:{TOKEN_A}, ", api_tokens_file=f))
    assert len(tokens) == 3
    a = tokens.check(TOKEN_A)
    c = tokens.check("c" * 24)
    b = tokens.check(TOKEN_B)
    assert a is not None and a.identity == "alice"
    assert c is not None and c.identity == "carol"
    assert b is not None and b.identity.startswith("token-") and TOKEN_B not in b.identity
    assert tokens.check("alice:" + TOKEN_A) is None
    assert tokens.check(TOKEN_A + "x") is None
    assert tokens.check("") is None


def test_short_tokens_and_unreadable_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least"):
        TokenSet.from_settings(Settings(api_tokens="short"))
    with pytest.raises(ConfigError, match="cannot read"):
        TokenSet.from_settings(Settings(api_tokens_file=tmp_path / "missing"))


def test_sessions_are_signed_opaque_and_expire() -> None:
    tokens = TokenSet([("alice", TOKEN_A)])
    sessions = Sessions("secret", tokens)
    principal = tokens.check(TOKEN_A)
    assert principal is not None
    cookie = sessions.issue(principal, now=1000.0)
    assert TOKEN_A not in cookie
    seen = sessions.verify(cookie, now=1001.0)
    assert seen is not None and seen.identity == "alice" and seen.via == "session"
    assert sessions.verify(cookie, now=10**10) is None  # expired
    tampered = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    assert sessions.verify(tampered, now=1001.0) is None
    assert Sessions("other-secret", tokens).verify(cookie, now=1001.0) is None
    # a token removed from the configuration ends its sessions
    assert Sessions("secret", TokenSet([("bob", TOKEN_B)])).verify(cookie, now=1001.0) is None


def test_csrf_tokens_are_bound_to_the_session() -> None:
    tokens = TokenSet([("alice", TOKEN_A)])
    sessions = Sessions("secret", tokens)
    principal = tokens.check(TOKEN_A)
    assert principal is not None
    one, two = sessions.issue(principal), sessions.issue(principal)
    assert sessions.check_csrf(one, sessions.csrf(one))
    assert not sessions.check_csrf(two, sessions.csrf(one))
    assert not sessions.check_csrf(one, "")


def test_rate_limiter_bursts_then_refills() -> None:
    limiter = RateLimiter(per_minute=60)  # 1/s, burst 10
    assert all(limiter.allow("k", now=0.0) == 0 for _ in range(10))
    wait = limiter.allow("k", now=0.0)
    assert 0 < wait <= 1.0
    assert limiter.allow("other", now=0.0) == 0  # per key
    assert limiter.allow("k", now=1.01) == 0
