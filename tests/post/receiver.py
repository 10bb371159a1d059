"""A test webhook receiver: real HTTP on loopback that verifies signatures and dedupes by delivery key.

It can fail the first N requests, fail always, or kill the sending process the moment a request
arrives (before answering) to reproduce a worker crash mid-delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


@dataclass
class ReceiverState:
    secret: str
    fail_first: int = 0
    always_fail: bool = False
    fail_status: int = 503
    kill_sender_pid: int | None = None  # SIGKILL this pid when a request arrives, then answer
    requests: list[Received] = field(default_factory=list)
    applied: dict[str, bytes] = field(default_factory=dict)  # delivery key → body, first one wins
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expected_signature(self, timestamp: str, body: bytes) -> str:
        # computed here from the documented scheme, independently of skillscan's code
        return (
            "sha256="
            + hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        )

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(b) for b in self.applied.values()]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self, status: int, text: str = "") -> None:
        raw = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:
        st = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items()}
        ts = self.headers.get("X-Skillscan-Timestamp", "")
        ok = hmac.compare_digest(
            st.expected_signature(ts, body), self.headers.get("X-Skillscan-Signature", "")
        )
        with st.lock:
            st.requests.append(Received(self.path, headers, body, ok))
            n = len(st.requests)
            kill = st.kill_sender_pid
            st.kill_sender_pid = None
        if kill is not None:
            os.kill(kill, signal.SIGKILL)
        if st.always_fail or n <= st.fail_first:
            self._answer(st.fail_status, "receiver is down for maintenance")
            return
        if not ok:
            self._answer(401, "bad signature")
            return
        key = self.headers.get("X-Skillscan-Delivery", "")
        with st.lock:
            if key in st.applied:
                st.duplicates += 1
            else:
                st.applied[key] = body
        self._answer(200, "ok")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ReceiverState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@contextmanager
def webhook_receiver(secret: str) -> Iterator[tuple[str, ReceiverState]]:
    state = ReceiverState(secret=secret)
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/skillscan", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
