"""The client talks only to the configured registry: a redirect elsewhere is not followed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from skillscan.errors import RegistryError
from skillscan.registry.clawhub import ClawHubClient


class _Counting(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"apiBase": "http://elsewhere"}')

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def other_host() -> Iterator[str]:
    _Counting.hits = 0
    yield from _serve(_Counting)


@pytest.fixture()
def redirecting_registry(other_host: str) -> Iterator[str]:
    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", other_host + self.path)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    yield from _serve(Redirect)


def test_redirect_to_another_host_is_not_followed(redirecting_registry: str) -> None:
    with ClawHubClient(redirecting_registry) as client, pytest.raises(RegistryError):
        client.discover()
    assert _Counting.hits == 0
