"""The API's collaborators (built once per app) and the authentication dependency every route uses."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request

from skillscan.config import Settings
from skillscan.report.html import HtmlRenderer
from skillscan.service.auth import SESSION_COOKIE, Principal, RateLimiter, Sessions, TokenSet
from skillscan.service.jobs import JobService, ScanContext
from skillscan.service.records import ServiceRecords
from skillscan.service.verdicts import Verdicts
from skillscan.store import VerdictStore

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"


@dataclass
class AppState:
    settings: Settings
    tokens: TokenSet
    sessions: Sessions
    limiter: RateLimiter
    failures: RateLimiter  # failed authentication attempts per client address
    store: VerdictStore
    records: ServiceRecords
    verdicts: Verdicts
    jobs: JobService
    renderer: HtmlRenderer
    context: ScanContext | None  # the in-process scanner, when jobs run here


def state_of(request: Request) -> AppState:
    st: AppState = request.app.state.skillscan
    return st


async def authenticate(request: Request) -> Principal:
    """Bearer token or session cookie; 401 without, 429 over the per-token rate.

    `async` although it never awaits: it only hashes and compares, so it runs on the event loop
    instead of costing every request a round trip through the thread pool.
    """
    st = state_of(request)
    principal: Principal | None = None
    header = request.headers.get("authorization", "")
    cookie = request.cookies.get(SESSION_COOKIE)
    if header[:7].lower() == "bearer ":
        principal = st.tokens.check(header[7:].strip())
    elif cookie:
        principal = st.sessions.verify(cookie)
    if principal is None:
        client = request.client.host if request.client else "-"
        wait = st.failures.allow(f"ip:{client}")
        if wait:
            raise HTTPException(429, "too many failed authentication attempts", {"Retry-After": _secs(wait)})
        raise HTTPException(401, "missing or invalid credentials", {"WWW-Authenticate": "Bearer"})
    wait = st.limiter.allow(principal.key_id)
    if wait:
        raise HTTPException(429, "rate limit exceeded for this token", {"Retry-After": _secs(wait)})
    request.scope.setdefault("state", {})["identity"] = principal.identity
    # Browser sessions calling the JSON API must prove same-origin (forms carry the token in a field).
    unsafe_api = request.method not in SAFE_METHODS and request.url.path.startswith("/v1/")
    if (
        principal.via == "session"
        and unsafe_api
        and not st.sessions.check_csrf(cookie or "", request.headers.get(CSRF_HEADER, ""))
    ):
        raise HTTPException(403, "missing or invalid CSRF token")
    return principal


def _secs(wait: float) -> str:
    return str(max(1, int(wait + 0.999)))
