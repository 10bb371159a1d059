"""A fake VirusTotal v3 API: a real HTTP server on 127.0.0.1 for tests and demos.

It follows the v3 shapes that skillscan reads: ``GET /api/v3/files/{sha256}`` and
``GET /api/v3/urls/{id}`` answer ``{"data": {"type", "id", "attributes": {"last_analysis_stats"}}}``;
errors are ``{"error": {"code", "message"}}`` (``NotFoundError`` 404, ``QuotaExceededError`` 429,
``WrongCredentialsError`` 401); uploads go through ``/api/v3/files/upload_url`` and answer an
analysis object. Every request is counted so tests can assert that a cached or keyless scan made none.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Behaviours a hash can be given besides a known report.
QUOTA = "quota"  # 429 QuotaExceededError
SERVER_ERROR = "server-error"  # 503 plain text
ECHO_HEADERS = "echo-headers"  # 500 whose body echoes the request headers (a misbehaving proxy)


@dataclass
class FakeVirusTotalState:
    """What the fake knows and what it saw. Mutate it from a test while the server runs."""

    api_key: str
    files: dict[str, dict[str, int] | str] = field(default_factory=dict)  # sha256 → stats or behaviour
    urls: dict[str, dict[str, int] | str] = field(default_factory=dict)  # url id → stats or behaviour
    mode: str | None = None  # a behaviour applied to every lookup (QUOTA, SERVER_ERROR, …)
    analysis_status: str = "queued"
    delay_s: float = 0.0  # answer every request this much later (a slow service)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    uploads: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, prefix: str = "/api/v3/") -> int:
        with self.lock:
            return sum(1 for _, path in self.requests if path.startswith(prefix))


def stats(malicious: int = 0, suspicious: int = 0, undetected: int = 60, harmless: int = 0) -> dict[str, int]:
    return {
        "malicious": malicious,
        "suspicious": suspicious,
        "undetected": undetected,
        "harmless": harmless,
        "timeout": 0,
        "confirmed-timeout": 0,
        "failure": 0,
        "type-unsupported": 0,
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read state, not stderr
        return

    @property
    def state(self) -> FakeVirusTotalState:
        return self.server.state

    def _send_json(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _send_text(self, status: int, text: str) -> None:
        raw = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send_json(status, {"error": {"code": code, "message": message}})

    def _authorized(self) -> bool:
        if self.headers.get("x-apikey") == self.state.api_key:
            return True
        self._error(401, "WrongCredentialsError", "Wrong API key")
        return False

    def _record(self, method: str) -> None:
        with self.state.lock:
            self.state.requests.append((method, self.path))
            delay = self.state.delay_s
        if delay:
            time.sleep(delay)

    def _behave(self, behaviour: str) -> None:
        if behaviour == QUOTA:
            self._error(429, "QuotaExceededError", "Quota exceeded")
        elif behaviour == ECHO_HEADERS:
            self._send_text(500, "upstream failure; request was:\n" + str(self.headers))
        else:
            self._send_text(503, "Service Unavailable")

    def _object(self, kind: str, obj_id: str, known: dict[str, dict[str, int] | str]) -> None:
        behaviour = self.state.mode or known.get(obj_id)
        if isinstance(behaviour, str):
            self._behave(behaviour)
        elif behaviour is None:
            label = "File" if kind == "file" else "URL"
            self._error(404, "NotFoundError", f'{label} "{obj_id}" not found')
        else:
            collection = "files" if kind == "file" else "urls"
            self._send_json(
                200,
                {
                    "data": {
                        "type": kind,
                        "id": obj_id,
                        "links": {"self": f"{self.server.base_url}/api/v3/{collection}/{obj_id}"},
                        "attributes": {"last_analysis_stats": behaviour, "last_analysis_date": 1767225600},
                    }
                },
            )

    def do_GET(self) -> None:
        self._record("GET")
        if not self._authorized():
            return
        path = self.path.split("?", 1)[0]
        if path == "/api/v3/files/upload_url":
            self._send_json(200, {"data": f"{self.server.base_url}/upload"})
        elif path.startswith("/api/v3/files/"):
            self._object("file", path.rsplit("/", 1)[1].lower(), self.state.files)
        elif path.startswith("/api/v3/urls/"):
            self._object("url", path.rsplit("/", 1)[1], self.state.urls)
        elif path.startswith("/api/v3/analyses/"):
            analysis_id = path.rsplit("/", 1)[1]
            attributes = {"status": self.state.analysis_status, "stats": stats()}
            self._send_json(200, {"data": {"type": "analysis", "id": analysis_id, "attributes": attributes}})
        else:
            self._error(404, "NotFoundError", "Resource not found")

    def do_POST(self) -> None:
        self._record("POST")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not self._authorized():
            return
        if self.state.mode is not None:
            self._behave(self.state.mode)
            return
        if self.path in ("/upload", "/api/v3/files"):
            with self.state.lock:
                self.state.uploads.append(body)
                n = len(self.state.uploads)
            self._send_json(200, {"data": {"type": "analysis", "id": f"analysis-{n}"}})
        else:
            self._error(404, "NotFoundError", "Resource not found")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FakeVirusTotalState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return  # the client gave up waiting (a timeout under test): nothing to report
        super().handle_error(request, client_address)


@contextmanager
def fake_virustotal(api_key: str) -> Iterator[tuple[str, FakeVirusTotalState]]:
    """Start the fake on a free loopback port in a thread; yield (base URL, state)."""
    state = FakeVirusTotalState(api_key=api_key)
    server = _Server(state)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-virustotal", daemon=True
    )
    thread.start()
    try:
        yield server.base_url, state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
