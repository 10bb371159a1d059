"""VirusTotal hash and URL lookups on vt-py, behind the cache and the shared quota.

vt-py's synchronous calls drive an asyncio loop of their own and break inside a running loop or
after a fork, so each `lookup` runs its requests on a private event loop in a fresh thread with a
client created there and closed before returning — nothing of vt-py outlives one call.
Every failure becomes a LookupResult; messages name an error code, never a server body, and the
API key is redacted from anything that could carry it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
import vt

from skillscan import __version__
from skillscan.analyzers.reputation.cache import ReputationCache
from skillscan.analyzers.reputation.interface import (
    LookupKind,
    LookupResult,
    LookupStatus,
    LookupTarget,
    Reputation,
    ReputationService,
)
from skillscan.analyzers.reputation.quota import QuotaLimiter
from skillscan.errors import ReputationError

log = logging.getLogger("skillscan.reputation")

GUI_BASE = "https://www.virustotal.com/gui"
_AUTH_CODES = frozenset(
    {"WrongCredentialsError", "AuthenticationRequiredError", "ForbiddenError", "UserNotActiveError"}
)
_UPLOADED_TTL_S = 3600.0  # an uploaded file becomes known soon: look again within the hour


@dataclass(frozen=True, slots=True)
class VirusTotalOptions:
    host: str | None = None  # None: vt-py's default, https://www.virustotal.com
    timeout_s: float = 30.0
    cache_ttl_s: float = 24 * 3600.0
    upload: bool = False
    upload_max_bytes: int = 32 * 1024 * 1024
    analysis_wait_s: float = 0.0
    rate_limit_block_s: float = 60.0
    budget_s: float = 60.0  # the whole call; lookups not made in time are deferred, never failed


class _Stop(Exception):
    """Stop asking for the rest of this call (rate limited, unreachable, key rejected)."""

    def __init__(self, status: LookupStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class VirusTotalService(ReputationService):
    name = "virustotal"

    def __init__(
        self, api_key: str, cache: ReputationCache, quota: QuotaLimiter, options: VirusTotalOptions
    ) -> None:
        if not api_key:
            raise ReputationError("VirusTotal needs an API key; use the null service without one")
        self._key = api_key
        self._cache = cache
        self._quota = quota
        self._opt = options
        self._deadline = 0.0

    def __repr__(self) -> str:  # never show the key
        return f"VirusTotalService(host={self._opt.host!r})"

    def redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    # -- public -----------------------------------------------------------------------------------

    def lookup(self, targets: Sequence[LookupTarget]) -> list[LookupResult]:
        results: list[LookupResult | None] = []
        remote: list[tuple[int, LookupTarget]] = []
        for i, target in enumerate(targets):
            try:
                cached = self._cache.get(target)
            except ReputationError as e:
                results.append(LookupResult(target, LookupStatus.FAILED, detail=str(e)))
                continue
            if cached is not None:
                status = LookupStatus.FOUND if cached.known else LookupStatus.UNKNOWN
                results.append(LookupResult(target, status, cached, cached=True))
            else:
                results.append(None)
                remote.append((i, target))
        if remote:
            for (i, _), result in zip(remote, self._remote([t for _, t in remote]), strict=True):
                results[i] = result
        return [r for r in results if r is not None]

    # -- remote lookups ---------------------------------------------------------------------------

    def _remote(self, targets: list[LookupTarget]) -> list[LookupResult]:
        box: list[list[LookupResult]] = []
        failure: list[str] = []

        def run() -> None:
            try:
                box.append(asyncio.run(self._lookup_all(targets)))
            except BaseException as e:  # the thread must hand back data, never a foreign exception
                failure.append(type(e).__name__)

        # The call stays inside its budget (the scanner's analyzer timeout must never fire on us).
        budget = self._opt.budget_s + 2.0
        thread = threading.Thread(target=run, name="virustotal-lookup", daemon=True)
        thread.start()
        thread.join(budget)
        if box:
            return box[0]
        detail = f"lookup aborted ({failure[0]})" if failure else "lookup timed out"
        log.warning("VirusTotal %s", detail)
        return [LookupResult(t, LookupStatus.FAILED, detail=detail) for t in targets]

    async def _lookup_all(self, targets: list[LookupTarget]) -> list[LookupResult]:
        out: list[LookupResult] = []
        stop: _Stop | None = None
        self._deadline = time.monotonic() + self._opt.budget_s
        client = vt.Client(
            self._key,
            agent=f"skillscan/{__version__}",
            host=self._opt.host,
            timeout=max(1, int(self._opt.timeout_s)),
        )
        try:
            for target in targets:
                if stop is None:
                    try:
                        out.append(await self._lookup_one(client, target))
                        continue
                    except _Stop as s:
                        stop = s
                out.append(LookupResult(target, stop.status, detail=stop.detail))
                if stop.status is LookupStatus.DEFERRED:
                    self._defer(target)
        finally:
            await client.close_async()
        return out

    def _defer(self, target: LookupTarget) -> None:
        try:
            self._cache.defer(target)
        except ReputationError as e:
            log.warning("VirusTotal: could not remember a deferred lookup: %s", e)

    def _take_quota(self, n: int = 1) -> None:
        try:
            granted = self._quota.try_acquire(n)
        except ReputationError as e:
            raise _Stop(LookupStatus.DEFERRED, str(e)) from None
        if not granted:
            raise _Stop(LookupStatus.DEFERRED, "quota exhausted")

    def _time_left(self) -> float:
        """Seconds for the next request; stops the call (deferring the rest) when the budget is spent."""
        left = min(self._opt.timeout_s, self._deadline - time.monotonic())
        if left < 0.5:
            raise _Stop(LookupStatus.DEFERRED, "time budget of this scan spent")
        return left

    async def _lookup_one(self, client: vt.Client, target: LookupTarget) -> LookupResult:
        timeout = self._time_left()
        self._take_quota()
        path, obj_id = (
            ("/files/{}", target.key)
            if target.kind is LookupKind.FILE
            else ("/urls/{}", vt.url_id(target.key))
        )
        link = f"{GUI_BASE}/{target.kind}/{target.cache_key.split(':', 1)[1]}"
        try:
            obj = await asyncio.wait_for(client.get_object_async(path, obj_id), timeout)
        except vt.APIError as e:
            if e.code != "NotFoundError":
                return self._api_failure(target, e)
            rep = Reputation(kind=target.kind, key=target.key, known=False, link=None)
            rep = await self._maybe_upload(client, target, rep)
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            if isinstance(e, TimeoutError) and timeout < self._opt.timeout_s:
                raise _Stop(LookupStatus.DEFERRED, "time budget of this scan spent") from None
            detail = f"VirusTotal unreachable ({type(e).__name__})"
            log.warning("%s", detail)
            raise _Stop(LookupStatus.FAILED, detail) from None
        else:
            raw = obj.get("last_analysis_stats") or {}
            stats = {str(k): int(v) for k, v in dict(raw).items() if isinstance(v, int)}
            rep = Reputation(kind=target.kind, key=target.key, known=True, stats=stats, link=link)
        ttl = self._opt.cache_ttl_s if not rep.uploaded else min(self._opt.cache_ttl_s, _UPLOADED_TTL_S)
        try:
            self._cache.put(target, rep, ttl)
        except ReputationError as e:
            log.warning("VirusTotal: answer not cached: %s", e)
        status = LookupStatus.FOUND if rep.known else LookupStatus.UNKNOWN
        return LookupResult(target, status, rep)

    def _api_failure(self, target: LookupTarget, e: vt.APIError) -> LookupResult:
        code = self.redact(str(e.code))[:60]
        if code == "QuotaExceededError" or code == "TooManyRequestsError":
            self._block()
            log.info("VirusTotal rate limited (%s); deferring lookups", code)
            raise _Stop(LookupStatus.DEFERRED, f"rate limited by VirusTotal ({code})")
        if code in _AUTH_CODES:
            log.warning("VirusTotal rejected the API key (%s)", code)
            raise _Stop(LookupStatus.FAILED, f"VirusTotal rejected the API key ({code})")
        log.warning("VirusTotal error %s for %s", code, target.label)
        if code == "ServerError":
            raise _Stop(LookupStatus.FAILED, "VirusTotal server error")
        return LookupResult(target, LookupStatus.FAILED, detail=f"VirusTotal error ({code})")

    def _block(self) -> None:
        try:
            self._quota.block_for(self._opt.rate_limit_block_s)
        except ReputationError as e:
            log.warning("VirusTotal: could not share the rate limit: %s", e)

    async def _maybe_upload(self, client: vt.Client, target: LookupTarget, rep: Reputation) -> Reputation:
        """Submit an unknown file when the operator opted in; wait for its analysis only within a bound."""
        data = target.data
        if not self._opt.upload or target.kind is not LookupKind.FILE or data is None:
            return rep
        if len(data) > self._opt.upload_max_bytes:
            return rep
        try:
            timeout = self._time_left()
            self._take_quota(2)  # upload URL + upload
        except _Stop:
            return rep  # the lookup itself succeeded; the upload waits for another scan
        stream = io.BytesIO(data)
        stream.name = target.label.rsplit("/", 1)[-1] or "file"
        try:
            analysis = await asyncio.wait_for(client.scan_file_async(stream), timeout)
        except (vt.APIError, TimeoutError, aiohttp.ClientError, OSError) as e:
            log.warning("VirusTotal upload of %s failed (%s)", target.label, type(e).__name__)
            return rep
        log.info("VirusTotal: uploaded %s (%d bytes) for analysis", target.label, len(data))
        uploaded = Reputation(kind=rep.kind, key=rep.key, known=False, uploaded=True)
        if self._opt.analysis_wait_s <= 0:
            return uploaded
        try:
            wait = min(self._opt.analysis_wait_s, self._deadline - time.monotonic() - 0.5)
            stats = await asyncio.wait_for(self._wait_analysis(client, analysis.id), max(0.0, wait))
        except (TimeoutError, vt.APIError, aiohttp.ClientError, OSError, _Stop):
            return uploaded
        return Reputation(kind=rep.kind, key=rep.key, known=True, stats=stats, uploaded=True)

    async def _wait_analysis(self, client: vt.Client, analysis_id: str) -> dict[str, int]:
        interval = min(5.0, max(0.2, self._opt.analysis_wait_s / 4))
        while True:
            self._take_quota()
            analysis = await client.get_object_async("/analyses/{}", analysis_id)
            if analysis.get("status") == "completed":
                raw = analysis.get("stats") or {}
                return {str(k): int(v) for k, v in dict(raw).items() if isinstance(v, int)}
            await asyncio.sleep(interval)
