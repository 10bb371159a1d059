"""A faithful fake ClawHub: a real HTTP server on loopback, seeded from skill folders.

    with fake_clawhub([Path("corpus/malicious")]) as url:      # contract: yields the base URL
        ...
    with FakeServer.seeded([seed_dir], moderation={"weather": "pending"}) as server:
        server.admin.inject("rate-limit", retry_after="0.05")   # test hooks, in process
        client = ClawHubClient(server.url)

Serves clawhub-api.md §6: discovery, search, list (cursor paging), detail (409 ambiguity),
versions, version detail (files + sha256 + security), scan, moderation, file, verify, install,
resolve, download (deterministic ZIP or GitHub handoff), security verdicts, whoami, export, and
the staff verdict endpoint; plain-text errors with ClawHub's exact messages; optional rate limits
with all four header families; test hooks under `/_admin/` (see `fake_admin`).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from requests.structures import CaseInsensitiveDict

from skillscan.registry.fake_admin import Admin
from skillscan.registry.fake_faults import Fault, FaultQueue, RateLimiter, RateLimits
from skillscan.registry.fake_http import MAX_BODY_BYTES, Request, Response, bearer, json_response, text
from skillscan.registry.fake_routes import PublicApi
from skillscan.registry.fake_seed import SeedReport, apply_moderation, seed_store
from skillscan.registry.fake_staff import StaffApi
from skillscan.registry.fake_store import Account, FakeStore


class FakeClawHub:
    """The application: routes a `Request` to a `Response`, applying faults and rate limits."""

    def __init__(
        self, store: FakeStore, *, rate_limits: RateLimits | None = None, admin: bool = True
    ) -> None:
        self.store = store
        self.faults = FaultQueue()
        self.limiter = RateLimiter(rate_limits or RateLimits())
        self.admin = Admin(store, self.faults, self.limiter)
        self.admin_enabled = admin
        self.public = PublicApi(store)
        self.staff = StaffApi(store)
        self.base_url = ""

    def handle(self, req: Request) -> tuple[Response, Fault | None]:
        if req.segments[:1] == ["_admin"]:
            if not self.admin_enabled:
                return text(404, "Not found"), None
            return self.admin.handle(req), None
        fault = self.faults.take(req.method, req.path)
        if fault and fault.kind == "slow":
            time.sleep(fault.delay_s)
        if fault and fault.kind in ("error", "rate-limit"):
            return self._fault_response(fault), None
        allowed, headers = self.limiter.check(self._client_key(req), _bucket(req))
        if not allowed:
            resp = text(429, "Rate limit exceeded", headers)
        else:
            resp = self._route(req)
            resp.headers.update(headers)
        return resp, fault if fault and fault.kind in ("drop", "truncate", "drip") else None

    def _fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate-limit":
            wait = fault.retry_after or "1"
            now = time.time()
            seconds = float(wait) if _is_number(wait) else 1.0
            headers = {
                "X-RateLimit-Limit": "1",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(now + seconds) + 1),
                "RateLimit-Limit": "1",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": wait,
                "Retry-After": wait,
            }
            return text(fault.status, fault.body or "Rate limit exceeded", headers)
        extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        return text(fault.status, fault.body or _REASONS.get(fault.status, "Error"), extra)

    def _client_key(self, req: Request) -> str:
        return f"user:{req.account.handle}" if req.account else f"ip:{req.client}"

    def _route(self, req: Request) -> Response:
        seg, m = req.segments, req.method
        if m == "GET" and req.path in ("/.well-known/clawhub.json", "/.well-known/clawdhub.json"):
            base = self.base_url
            return json_response(
                {"apiBase": base, "authBase": base, "minCliVersion": "0.1.0", "registry": base}
            )
        if m == "GET" and req.path in _LEGACY:  # clawhub-api.md §1.10: older clients still use these
            return getattr(self.public, _LEGACY[req.path])(req)
        if seg[:2] != ["api", "v1"]:
            return text(404, "Not found")
        rest = seg[2:]
        if m == "GET" and rest == ["search"]:
            return self.public.search(req)
        if m == "GET" and rest in (["resolve"], ["skills", "resolve"]):
            return self.public.resolve(req)
        if m == "GET" and rest == ["download"]:
            return self.public.download(req)
        if m == "GET" and rest == ["whoami"]:
            return self.public.whoami(req)
        if m == "GET" and rest == ["skills"]:
            return self.public.list_skills(req)
        if m == "GET" and rest == ["skills", "export"]:
            return self.staff.export(req)
        if m == "POST" and rest == ["skills", "-", "security-verdicts"]:
            return self.public.security_verdicts(req)
        if len(rest) >= 2 and rest[0] == "skills" and rest[1] != "-":
            return self._skill_route(req, rest[1], rest[2:])
        return text(404, "Not found")

    def _skill_route(self, req: Request, slug: str, rest: list[str]) -> Response:
        m = req.method
        if m == "GET" and not rest:
            return self.public.detail(req, slug)
        if m == "GET" and rest == ["versions"]:
            return self.public.versions(req, slug)
        if len(rest) == 2 and rest[0] == "versions" and m == "GET":
            return self.public.version_detail(req, slug, rest[1])
        if len(rest) == 3 and rest[0] == "versions" and rest[2] == "moderation":
            if m == "POST":
                return self.staff.post_moderation(req, slug, rest[1])
            if m == "GET":
                return self.staff.get_moderation(req, slug, rest[1])
        handlers = {
            "scan": self.public.scan,
            "moderation": self.public.moderation,
            "file": self.public.file,
            "verify": self.public.verify,
            "install": self.public.install,
        }
        if m == "GET" and len(rest) == 1 and rest[0] in handlers:
            return handlers[rest[0]](req, slug)
        return text(404, "Not found")


_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
            408: "Request Timeout"}  # fmt: skip


_LEGACY = {"/api/download": "download", "/api/search": "search", "/api/cli/whoami": "whoami"}


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _bucket(req: Request) -> str:
    if req.path == "/api/v1/download":
        return "download"
    if req.path == "/api/v1/skills/export":
        return "export"
    if req.method == "POST" and not req.path.endswith("/security-verdicts"):
        return "write"
    return "read"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms ACK stalls
    server_version = "fake-clawhub"
    sys_version = ""
    app: FakeClawHub  # set on the per-server subclass

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the admin log records requests
        pass

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(text(413, "Request body too large"), None)
            return
        body = self.rfile.read(length) if length else b""
        headers = CaseInsensitiveDict(self.headers.items())
        token = bearer(headers)
        with self.app.store.lock:
            account: Account | None = self.app.store.accounts.get(token) if token else None
        req = Request(
            method=self.command,
            path=parts.path,
            segments=[unquote(s) for s in parts.path.split("/") if s],
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=headers,
            body=body,
            client=self.client_address[0],
            account=account,
        )
        try:
            resp, fault = self.app.handle(req)
        except Exception as e:  # a bug in the fake answers 500 instead of killing the connection
            resp, fault = text(500, f"Internal Server Error: {type(e).__name__}"), None
        if req.segments[:1] != ["_admin"]:
            self.app.admin.record(req, resp.status)
        self._send(resp, fault)

    def _send(self, resp: Response, fault: Fault | None) -> None:
        if fault and fault.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        body = resp.body
        if fault and fault.kind == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault and fault.kind == "drip":
            for i in range(0, len(body), 1024):
                self.wfile.write(body[i : i + 1024])
                self.wfile.flush()
                time.sleep(fault.delay_s)
            return
        self.wfile.write(body)

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve
    do_PUT = _serve


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts in tests, dropped connections) are normal here."""


class FakeServer:
    """`ThreadingHTTPServer` around a `FakeClawHub`; a context manager serving from a thread."""

    def __init__(self, app: FakeClawHub, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("FakeClawHubHandler", (_Handler,), {"app": app})
        self.httpd = _QuietServer((host, port), handler)
        self.app = app
        bound_host, bound_port = (str(part) for part in self.httpd.server_address[:2])
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.url = f"http://{shown}:{bound_port}"
        app.base_url = self.url
        self._thread: threading.Thread | None = None
        self.seed_report: SeedReport | None = None

    @classmethod
    def seeded(
        cls,
        seeds: Sequence[Path | str] = (),
        *,
        moderation: Mapping[str, Any] | None = None,
        rate_limits: RateLimits | None = None,
        tokens: Mapping[str, tuple[str, str]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        admin: bool = True,
    ) -> FakeServer:
        """Build from seed folders; `tokens` maps a bearer token to (handle, role)."""
        store = FakeStore()
        report = seed_store(store, [Path(s) for s in seeds])
        if moderation:
            report.warnings.extend(apply_moderation(store, moderation))
        for token, (handle, role) in (tokens or {}).items():
            store.accounts[token] = Account(handle, role)
        store.mark_baseline()
        server = cls(FakeClawHub(store, rate_limits=rate_limits, admin=admin), host, port)
        server.seed_report = report
        return server

    @property
    def admin(self) -> Admin:
        return self.app.admin

    @property
    def store(self) -> FakeStore:
        return self.app.store

    def start(self) -> FakeServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fake-clawhub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        try:
            self.httpd.serve_forever()
        finally:
            self.httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def fake_clawhub(
    seeds: Sequence[Path | str] = (),
    *,
    moderation: Mapping[str, Any] | None = None,
    rate_limits: RateLimits | None = None,
    tokens: Mapping[str, tuple[str, str]] | None = None,
) -> Iterator[str]:
    """Start a seeded fake on 127.0.0.1 (free port) in a thread; yield its base URL."""
    with FakeServer.seeded(seeds, moderation=moderation, rate_limits=rate_limits, tokens=tokens) as server:
        yield server.url
