"""The one place the client talks HTTP: timeouts, bounded bodies, retries and rate-limit waits.

Every request has a timeout and every body is read with a byte bound and a wall-clock deadline.
408/429/5xx and connection failures are retried a bounded number of times; the wait honours
`Retry-After`, then `RateLimit-Reset` (seconds), then `X-RateLimit-Reset` (epoch seconds), else
exponential backoff, always plus jitter (clawhub-api.md §1.3). A server asking for a longer wait
than `max_sleep_s` ends the call at once as unavailable, carrying the wait, so a caller (the
worker) can schedule the retry instead of blocking.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

from skillscan import __version__
from skillscan.registry.errors import RegistryUnavailableError, ResponseTooLargeError

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({408, 429})
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    max_sleep_s: float = 60.0
    jitter_ratio: float = 0.1  # up to this fraction of the wait is added at random
    jitter_max_s: float = 1.0


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete HTTP answer: status, headers (case-insensitive) and the bounded body."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def text(self, limit: int = 300) -> str:
        """The plain-text error body as one bounded line."""
        raw = self.body[: limit * 4].decode("utf-8", "replace")
        line = " ".join(raw.split())
        return line[:limit]


def retry_delay(
    headers: Mapping[str, str], attempt: int, policy: RetryPolicy, now: float
) -> tuple[float, bool]:
    """Seconds to wait before the next attempt, and whether the server itself asked for it."""
    for name, absolute in (("Retry-After", False), ("RateLimit-Reset", False), ("X-RateLimit-Reset", True)):
        raw = headers.get(name)
        if raw is None:
            continue
        seconds = _parse_wait(raw.strip(), absolute, now)
        if seconds is not None:
            return max(0.0, seconds), True
    return min(policy.backoff_max_s, policy.backoff_base_s * (2 ** (attempt - 1))), False


def _parse_wait(raw: str, absolute: bool, now: float) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is not None:
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return value - now if absolute else value
    if absolute:
        return None
    try:  # Retry-After may be an HTTP date
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() - now


class Transport:
    """A `requests` session with the bearer token set once; the token never appears in text."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.policy = policy or RetryPolicy()
        self._token = token or None
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._session = session or _environment_read_once(requests.Session(), self.base_url)
        self._session.headers["User-Agent"] = f"skillscan/{__version__}"
        if self._token:
            self._session.headers["Authorization"] = f"Bearer {self._token}"

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def __repr__(self) -> str:
        return f"Transport({self.base_url!r}, token={'set' if self._token else 'none'})"

    def close(self) -> None:
        self._session.close()

    def scrub(self, text: str) -> str:
        return text.replace(self._token, "[token]") if self._token else text

    def request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        max_bytes: int,
        deadline_s: float | None = None,
    ) -> Answer:
        """One logical call: retried on 408/429/5xx/network errors; any other status is returned."""
        url = self.base_url + path
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        policy = self.policy
        last_detail = "no attempt made"
        last_status: int | None = None
        server_wait: float | None = None
        headers: Mapping[str, str]
        for attempt in range(1, max(1, policy.max_attempts) + 1):
            try:
                answer = self._once(method, url, what, clean, json_body, max_bytes, deadline_s)
            except ResponseTooLargeError:
                raise
            except requests.RequestException as e:  # connection, timeout, broken chunked body, …
                last_detail = self.scrub(f"{type(e).__name__}: {_short(e)}")
                last_status, headers = None, {}
            except _DeadlineExceeded as e:
                last_detail, last_status, headers = str(e), None, {}
            else:
                if answer.status not in RETRY_STATUSES and answer.status < 500:
                    return answer
                last_status = answer.status
                last_detail = self.scrub(f"HTTP {answer.status}: {answer.text()}")
                headers = answer.headers
            delay, asked = retry_delay(headers, attempt, policy, self._clock())
            server_wait = delay if asked else None
            if attempt >= policy.max_attempts:
                break
            if asked and delay > policy.max_sleep_s:
                raise RegistryUnavailableError(
                    what,
                    f"{last_detail}; server asked to wait {delay:.1f}s (more than {policy.max_sleep_s:.1f}s)",
                    status=last_status,
                    attempts=attempt,
                    retry_after_s=delay,
                )
            jitter = min(policy.jitter_max_s, max(delay, 0.05) * policy.jitter_ratio) * self._rng()
            wait = min(policy.max_sleep_s, delay + jitter)
            # Path only: no query (it may name a private skill) and never a header.
            log.info(
                "%s %s: %s; retry %d/%d in %.2fs",
                method,
                path,
                last_detail,
                attempt,
                policy.max_attempts - 1,
                wait,
            )
            self._sleep(wait)
        raise RegistryUnavailableError(
            what, last_detail, status=last_status, attempts=policy.max_attempts, retry_after_s=server_wait
        )

    def _once(
        self,
        method: str,
        url: str,
        what: str,
        params: Mapping[str, Any],
        json_body: Any,
        max_bytes: int,
        deadline_s: float | None,
    ) -> Answer:
        started = time.monotonic()
        deadline = started + (deadline_s if deadline_s is not None else max(60.0, self.timeout_s * 4))
        with self._session.request(
            method,
            url,
            params=params,
            json=json_body,
            stream=True,
            timeout=(self.connect_timeout_s, self.timeout_s),
            # The registry answers directly; following a redirect would fetch from a host nobody
            # configured (SSRF), so a 3xx is reported as the unexpected answer it is.
            allow_redirects=False,
        ) as resp:
            declared = resp.headers.get("Content-Length")
            if resp.status_code < 300 and declared and declared.isdigit() and int(declared) > max_bytes:
                raise ResponseTooLargeError(what, max_bytes, 0, int(declared))
            body = _read_body(resp, what, max_bytes, deadline, started)
            return Answer(status=resp.status_code, headers=resp.headers, body=body, url=resp.url)


def _environment_read_once(session: requests.Session, url: str) -> requests.Session:
    """What `requests` takes from the environment for `url` (proxies, `NO_PROXY`, netrc, CA bundle),
    read once instead of on every request: a transport only ever asks one host, and walking the
    environment each time cost more CPU than the rest of a small request."""
    proxies = requests.utils.get_environ_proxies(url)
    auth = requests.utils.get_netrc_auth(url)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    session.trust_env = False
    session.proxies.update(proxies)
    if auth:
        session.auth = auth
    if bundle:
        session.verify = bundle
    return session


class _DeadlineExceeded(Exception):
    pass


def _read_body(resp: requests.Response, what: str, max_bytes: int, deadline: float, started: float) -> bytes:
    """Read what has arrived, piece by piece (`read1`), so the byte bound and the wall-clock
    deadline are checked after every network read, not after a 64 KiB buffer fills. Counted
    after content decoding, so a gzip bomb stops at the bound too."""
    chunks: list[bytes] = []
    received = 0
    raw = resp.raw
    while True:
        try:
            chunk = raw.read1(_CHUNK, decode_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise requests.ConnectionError(f"body read failed: {type(e).__name__}") from e
        if not chunk:
            break
        received += len(chunk)
        if received > max_bytes:
            if resp.status_code < 300:
                raise ResponseTooLargeError(what, max_bytes, received)
            break  # an oversized error page: keep what we have
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise _DeadlineExceeded(f"{what}: body not received within {deadline - started:.1f}s")
    return b"".join(chunks)


def _short(e: BaseException) -> str:
    return " ".join(str(e).split())[:200]
