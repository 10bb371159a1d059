"""The gate's fast path: fingerprint the staged skill and ask a skillscan service about it.

The gate is a fresh process per install, so this module sticks to modules that are built into the
interpreter or already loaded at start-up (`_socket`, `_json`, CPython's own SHA-256): `socket`,
`json`, `hashlib` and `urllib.parse` cost ~15 ms of imports together, more than the whole lookup.
"""

from __future__ import annotations

import _socket
import io
import os
import stat
import time

from skillscan.hashing import fingerprint_input, is_published_path
from skillscan.service import gate_json

TYPE_CHECKING = False  # see gate_protocol: the fast path avoids importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Protocol

    class _Hash(Protocol):
        def update(self, data: bytes, /) -> None: ...
        def hexdigest(self) -> str: ...


# Unpublished files an installer legitimately adds to a staged skill. Anything else that the
# fingerprint would not cover sends the gate to a local scan, so a stored verdict never vouches
# for content it did not see.
_BOOKKEEPING = frozenset({"_meta.json", ".clawhub/origin.json", ".clawdhub/origin.json"})
_MAX_RESPONSE = 16 * 1024 * 1024
# Up to this many bytes CPython's own SHA-256 beats loading OpenSSL's (~2.5 ms) for the whole skill.
_SMALL_SKILL_BYTES = 1024 * 1024
_URL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_~/:")


class ServiceError(Exception):
    """The service could not answer usefully (down, slow, 5xx, bad JSON, auth)."""


class StagedSkill:
    __slots__ = ("files", "fingerprint", "total_bytes")

    def __init__(self, fingerprint: str, files: list[tuple[str, str]], total_bytes: int) -> None:
        self.fingerprint = fingerprint
        self.files = files  # (relative POSIX path, real path), regular files only
        self.total_bytes = total_bytes


def stage_fingerprint(root: str, max_files: int, max_bytes: int) -> StagedSkill | None:
    """Fingerprint a staged skill folder, or None when a stored verdict could not cover it all

    (links, special files, unpublished extras, over the limits).
    """
    files: list[tuple[str, str]] = []
    published: list[tuple[str, str]] = []
    total = 0
    skip = len(os.path.join(root, ""))  # walked paths start with root: the rest is the relative path
    # A folder that cannot be listed raises: its files must not be left out of the fingerprint.
    for dirpath, dirnames, filenames in os.walk(root, onerror=_raise, followlinks=False):
        reldir = dirpath[skip:].replace(os.sep, "/")
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if stat.S_ISDIR(st.st_mode):
                continue
            if not stat.S_ISREG(st.st_mode):
                return None  # symlink, fifo, device: leave it to the full scan
            rel = f"{reldir}/{name}" if reldir else name
            is_published = is_published_path(rel)
            if not is_published and rel not in _BOOKKEEPING:
                return None
            total += st.st_size
            if len(files) >= max_files or total > max_bytes:
                return None
            files.append((rel, full))
            if is_published:
                published.append((rel, full))
    if not published:
        return None
    sha256 = _sha256_for(total)
    hashes = {rel: _hash_file(sha256(), full) for rel, full in published}
    fingerprint = sha256()
    fingerprint.update(fingerprint_input(hashes))
    return StagedSkill(fingerprint.hexdigest(), sorted(files), total)


def _sha256_for(total_bytes: int) -> Callable[[], _Hash]:
    """CPython's built-in SHA-256 for a small skill, OpenSSL's (faster per byte) for a big one."""
    if total_bytes <= _SMALL_SKILL_BYTES:
        for module in ("_sha2", "_sha256"):  # Python 3.12+, 3.11; absent when built without them
            try:
                return __import__(module).sha256
            except (ImportError, AttributeError):
                pass
    from hashlib import sha256

    return sha256


def _raise(error: OSError) -> None:
    raise error


def _hash_file(h: _Hash, path: str) -> str:
    with open(path, "rb", buffering=0) as fh:  # whole chunks: no buffer to copy through
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def zip_staged(staged: StagedSkill) -> bytes:
    import zipfile  # only needed when the service has to scan a new skill

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for rel, full in staged.files:
            zf.write(full, rel)
    return buf.getvalue()


class ServiceClient:
    """Minimal HTTP/1.1 client for the three calls the gate makes."""

    def __init__(self, base_url: str, token: str | None) -> None:
        scheme, host, port, path = _split_url(base_url)
        if scheme not in ("http", "https") or not host:
            raise ServiceError("SKILLSCAN_URL must be an http(s) URL")
        self._tls = scheme == "https"
        self._host = host
        self._port = port or (443 if self._tls else 80)
        self._prefix = path.rstrip("/")
        self._token = token

    def verdict(self, fingerprint: str, timeout: float) -> dict[str, Any] | None:
        """The stored verdict for a bundle fingerprint; None when the service has none."""
        # a fingerprint is hex: nothing to escape in the path
        status, body = self._request("GET", f"/v1/verdicts/{fingerprint}", timeout=timeout)
        if status == 404:
            return None
        return self._json(status, body, 200)

    def submit_zip(self, data: bytes, filename: str, timeout: float) -> str:
        boundary = os.urandom(16).hex()
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        body = head + data + f"\r\n--{boundary}--\r\n".encode()
        status, raw = self._request(
            "POST", "/v1/scans", body, f"multipart/form-data; boundary={boundary}", timeout=timeout
        )
        job = self._json(status, raw, 202)
        if not isinstance(job.get("id"), str | int):
            raise ServiceError("service answered a scan submission without an id")
        return str(job["id"])

    def wait_scan(self, job_id: str, deadline: float) -> dict[str, Any]:
        """Wait for a submitted scan (the service holds each request until it is done, up to `wait`);
        raises ServiceError on failure or past the deadline."""
        from urllib.parse import quote

        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                raise ServiceError("service scan did not finish within the gate's budget")
            hold = max(0.0, min(remaining - 0.25, 9.0))
            status, raw = self._request(
                "GET", f"/v1/scans/{quote(job_id)}?wait={hold:.2f}", timeout=min(remaining, hold + 1.0)
            )
            job = self._json(status, raw, 200)
            if job.get("status") == "done":
                return job
            if job.get("status") == "failed":
                raise ServiceError(f"service scan failed: {str(job.get('error') or '')[:200]}")
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))  # never a tight loop

    @staticmethod
    def _json(status: int, body: bytes, expected: int) -> dict[str, Any]:
        if status != expected:
            raise ServiceError(f"service answered HTTP {status}")
        try:
            data = gate_json.loads_bytes(body)
        except ValueError as e:
            raise ServiceError("service answered invalid JSON") from e
        if not isinstance(data, dict):
            raise ServiceError("service answered a non-object")
        return data

    def _request(
        self, method: str, path: str, body: bytes = b"", ctype: str | None = None, *, timeout: float
    ) -> tuple[int, bytes]:
        deadline = time.monotonic() + timeout
        lines = [f"{method} {self._prefix}{path} HTTP/1.1", f"Host: {self._host}:{self._port}"]
        lines += ["Connection: close", "Accept: application/json", "User-Agent: skillscan-gate"]
        if self._token:
            lines.append(f"Authorization: Bearer {self._token}")
        if ctype:
            lines.append(f"Content-Type: {ctype}")
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        try:
            sock = self._connect(timeout)
            try:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                sock.sendall(payload)
                raw = _read_all(sock, deadline)
            finally:
                sock.close()
        except OSError as e:
            raise ServiceError(f"service unreachable ({e.__class__.__name__})") from e
        return _parse_response(raw)

    def _connect(self, timeout: float) -> _socket.socket:
        if self._tls:  # `ssl` costs far more than `socket`: plain-http deployments on loopback never pay
            import socket
            import ssl

            plain = socket.create_connection((self._host, self._port), timeout=timeout)
            return ssl.create_default_context().wrap_socket(plain, server_hostname=self._host)
        return _connect(self._host, self._port, timeout)


def _connect(host: str, port: int, timeout: float) -> _socket.socket:
    """`socket.create_connection` on the built-in `_socket`: the same addresses in the same order."""
    # An ASCII name goes as bytes: a str is run through the IDNA codec first, whose imports
    # (stringprep, unicodedata, re) cost ~9 ms, for nothing when the name is ASCII or an address.
    name: str | bytes = host.encode("ascii") if host.isascii() else host
    error: OSError | None = None
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        except OSError as e:
            error = e
            sock.close()
    raise error or OSError("getaddrinfo returns an empty list")


def _split_url(url: str) -> tuple[str, str | None, int | None, str]:
    """Scheme, lower-cased host, port and path of a service URL, as `urllib.parse.urlsplit` gives them.

    A plain `scheme://host[:port][/path]` is split here; anything else (IPv6 literals, user info,
    queries, escapes, stray characters) goes to urllib.parse itself.
    """
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    host, colon, port = netloc.partition(":")
    if sep and scheme.isalpha() and host and set(url) <= _URL_SAFE and (not colon or port.isdigit()):
        number = int(port) if colon else None
        if number is None or number <= 65535:
            return scheme.lower(), host.lower(), number, slash + path
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port, parts.path


def _read_all(sock: _socket.socket, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("response deadline passed")
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_RESPONSE:
            raise ServiceError("service response too large")


def _parse_response(raw: bytes) -> tuple[int, bytes]:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ServiceError("service closed the connection mid-response")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError) as e:
        raise ServiceError("service answered something that is not HTTP") from e
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    elif "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError as e:
            raise ServiceError("bad Content-Length from service") from e
        if len(body) < length:
            raise ServiceError("service response truncated")
        body = body[:length]
    return status, body


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            raise ServiceError("bad chunked encoding from service")
        try:
            size = int(data[pos:end].split(b";")[0], 16)
        except ValueError as e:
            raise ServiceError("bad chunk size from service") from e
        if size == 0:
            return bytes(out)
        start = end + 2
        out += data[start : start + size]
        pos = start + size + 2
