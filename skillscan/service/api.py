"""The HTTP API (FastAPI): scan submission, verdict lookup, skill history, maintainer actions.

`create_app()` builds everything from Settings; the HTML pages live in `pages.py`. Every route but
`/healthz` requires a bearer token or a browser session (`/login?token=…`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from skillscan import __version__
from skillscan.config import Settings
from skillscan.errors import ConfigError
from skillscan.models import Verdict
from skillscan.report.html import HtmlRenderer, load_rules
from skillscan.service import pages
from skillscan.service.auth import Principal, RateLimiter, Sessions, TokenSet
from skillscan.service.jobs import (
    OWNER_RE,
    SLUG_RE,
    VERSION_RE,
    CeleryDispatcher,
    Dispatcher,
    InProcessDispatcher,
    JobService,
    ScanContext,
    execute_job,
    is_finished,
)
from skillscan.service.middleware import AccessLog, BodyLimit, SecurityHeaders
from skillscan.service.records import Job, JobStatus, ServiceRecords
from skillscan.service.state import AppState, authenticate, state_of
from skillscan.service.verdicts import Verdicts, policy_functions
from skillscan.store import VerdictStore, open_store

log = logging.getLogger("skillscan.api")

JSON_BODY_LIMIT = 1024 * 1024
MAX_WAIT_S = 10.0  # longest `GET /v1/scans/{id}?wait=` hold
WAIT_POLL_S = 0.05
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
_SHA256 = _FINGERPRINT
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

Auth = Depends(authenticate)


class ClawHubRefIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: str = Field(pattern=OWNER_RE.pattern)
    slug: str = Field(pattern=SLUG_RE.pattern)
    version: str = Field(pattern=VERSION_RE.pattern)


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # no registry URL or anything else can ride along
    clawhub: ClawHubRefIn


class SuppressionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule_id: str = Field(min_length=1, max_length=200)
    path: str = Field(min_length=1, max_length=1000)
    file_sha256: str = Field(pattern=_SHA256.pattern)
    reason: str = Field(min_length=3, max_length=1000)


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: Verdict
    reason: str = Field(min_length=3, max_length=1000)


def create_app(
    settings: Settings | None = None,
    *,
    store: VerdictStore | None = None,
    dispatcher: Dispatcher | None = None,
    scan_threads: int = 1,
) -> FastAPI:
    settings = settings or Settings.from_env()
    tokens = TokenSet.from_settings(settings)
    if not len(tokens):
        raise ConfigError("no API tokens: set SKILLSCAN_API_TOKENS or SKILLSCAN_API_TOKENS_FILE")
    store = store or open_store(settings)
    records = ServiceRecords(store)
    decide, decision_for = policy_functions(settings)
    verdicts = Verdicts(store, records, decide, decision_for)
    context: ScanContext | None = None
    if dispatcher is None:
        if settings.broker_url:
            dispatcher = CeleryDispatcher(settings.broker_url)
        else:
            context = ScanContext(settings, store, records, verdicts)
            ctx = context
            dispatcher = InProcessDispatcher(lambda job_id: execute_job(job_id, ctx), scan_threads)
    jobs = JobService(records, dispatcher)

    app = FastAPI(
        title="skillscan",
        version=__version__,
        description="Supply-chain scanner for ClawHub skills: scans, verdicts, maintainer reports.",
        docs_url=None,  # the bundled docs pages load scripts from a CDN; the schema is at /openapi.json
        redoc_url=None,
        openapi_url=None,
        lifespan=_lifespan(jobs, context),
    )
    app.state.skillscan = AppState(
        settings=settings,
        tokens=tokens,
        sessions=Sessions(settings.session_secret, tokens),
        limiter=RateLimiter(settings.api_rate_per_minute),
        failures=RateLimiter(600),  # a burst of 60 failed attempts per address, then 10 per second
        store=store,
        records=records,
        verdicts=verdicts,
        jobs=jobs,
        renderer=HtmlRenderer(load_rules(settings)),
        context=context,
    )
    upload_limit = settings.api_max_upload_bytes
    app.add_middleware(
        BodyLimit, limit_for=lambda path: upload_limit if path == "/v1/scans" else JSON_BODY_LIMIT
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)
    app.add_exception_handler(HTTPException, pages.http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    _routes(app)
    pages.register(app)
    return app


def _lifespan(
    jobs: JobService, context: ScanContext | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if context is not None:  # with a broker, unfinished jobs are still in its queue
            threading.Thread(target=context.warm, name="scanner-warmup", daemon=True).start()
            n = jobs.resume_unfinished()
            if n:
                log.info("resumed %d unfinished scan jobs", n)
        try:
            yield
        finally:
            jobs.close()
            if context is not None:
                context.close()

    return lifespan


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
    return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=422)


def _routes(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=True)
    def healthz(request: Request) -> dict[str, Any]:
        st = state_of(request)
        try:
            st.store.schema_version()
            db = "ok"
        except Exception:
            db = "unavailable"
        scanner = "remote" if st.context is None else "ready" if st.context.ready.is_set() else "warming"
        return {
            "status": "ok" if db == "ok" else "degraded",
            "version": __version__,
            "store": db,
            "scanner": scanner,
        }

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request, who: Principal = Auth) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    @app.post(
        "/v1/scans",
        status_code=202,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"file": {"type": "string", "format": "binary"}},
                            "required": ["file"],
                        }
                    },
                    "application/json": {"schema": ScanRequest.model_json_schema()},
                },
            }
        },
    )
    async def submit_scan(request: Request, who: Principal = Auth) -> JSONResponse:
        """Submit a skill ZIP (multipart field `file`) or a ClawHub reference; poll `/v1/scans/{id}`."""
        st = state_of(request)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "multipart/form-data":
            job = await _submit_upload(request, st, who)
        elif ctype == "application/json":
            try:
                body = ScanRequest.model_validate_json(await request.body())
            except ValueError as e:
                raise HTTPException(422, f"invalid scan request: {_first_error(e)}") from e
            ref = body.clawhub
            job = st.jobs.submit_clawhub(ref.owner.lower(), ref.slug.lower(), ref.version, who.identity)
        else:
            raise HTTPException(415, "send multipart/form-data with a `file` field, or JSON {clawhub: …}")
        return JSONResponse({"id": job.id, "status": str(job.status)}, status_code=202)

    @app.get("/v1/scans/{job_id}")
    async def get_scan(
        job_id: str,
        request: Request,
        wait: float = Query(
            0.0, ge=0.0, le=MAX_WAIT_S, description="Seconds to wait for the scan to finish."
        ),
        who: Principal = Auth,
    ) -> dict[str, Any]:
        """A scan's status; with `wait`, answers as soon as it is done or failed (one request, not a poll loop)."""
        st = state_of(request)
        if not _JOB_ID.match(job_id):
            raise HTTPException(404, "no such scan")
        until = time.monotonic() + wait
        while True:
            job = await run_in_threadpool(st.jobs.get, job_id)
            if job is None:
                raise HTTPException(404, "no such scan")
            if is_finished(job) or time.monotonic() >= until:
                return await run_in_threadpool(job_view, st, job)
            await asyncio.sleep(min(WAIT_POLL_S, max(0.0, until - time.monotonic())))

    # The gate's lookup, its latency-critical call. A SQLite read is a local read well under a
    # millisecond, done on the event loop: on a busy machine a hop to the thread pool and back
    # costs more than the query. A database across the network is waited for on a thread. The
    # answer goes out as built, without FastAPI's response re-validation; the schema documents it.
    @app.get("/v1/verdicts/{fingerprint}", response_model=dict[str, Any])
    async def get_verdict(fingerprint: str, request: Request, who: Principal = Auth) -> JSONResponse:
        """The latest stored verdict for a bundle fingerprint (maintainer actions applied)."""
        st = state_of(request)
        if st.store.engine.dialect.name == "sqlite":
            return _verdict(st, fingerprint)
        return await run_in_threadpool(_verdict, st, fingerprint)

    def _verdict(st: AppState, fingerprint: str) -> JSONResponse:
        stored = st.store.latest_by_fingerprint(fingerprint) if _FINGERPRINT.match(fingerprint) else None
        if stored is None:
            raise HTTPException(404, "no verdict for this fingerprint")
        report = st.verdicts.effective(stored).report
        return JSONResponse(
            {
                "fingerprint": fingerprint,
                "scan_id": stored.id,
                "verdict": str(report.verdict),
                "decision": str(report.decision),
                "reason": report.reason,
                "ruleset": stored.ruleset,
                "scanned_at": stored.scanned_at.isoformat(),
                "skill": {"owner": stored.owner, "slug": stored.slug, "version": stored.version},
                "findings": [f.to_dict() for f in report.findings],
                "errors": [e.to_dict() for e in report.errors],
                "report_url": f"/reports/{stored.id}",
            }
        )

    @app.get("/v1/skills/{owner}/{slug}")
    def get_skill(owner: str, slug: str, request: Request, who: Principal = Auth) -> dict[str, Any]:
        """Every stored scan of every version of one skill, newest first."""
        st = state_of(request)
        owner, slug = owner.lower(), slug.lower()
        history = st.store.history(owner, slug) if OWNER_RE.match(owner) and SLUG_RE.match(slug) else []
        if not history:
            raise HTTPException(404, "no scans of this skill")
        return {
            "owner": owner,
            "slug": slug,
            "scans": [
                {
                    "scan_id": s.id,
                    "version": s.version,
                    "fingerprint": s.fingerprint,
                    "verdict": str(s.verdict),
                    "decision": str(s.decision),
                    "ruleset": s.ruleset,
                    "scanned_at": s.scanned_at.isoformat(),
                    "report_url": f"/reports/{s.id}",
                }
                for s in history
            ],
        }

    @app.post("/v1/results/{scan_id}/suppressions", status_code=201)
    def suppress(
        scan_id: int, body: SuppressionIn, request: Request, who: Principal = Auth
    ) -> dict[str, Any]:
        """Suppress one rule on one file version (rule id, path, sha256) and re-decide the verdict."""
        return pages.record_suppression(state_of(request), scan_id, body.model_dump(), who)

    @app.post("/v1/results/{scan_id}/override")
    def override(scan_id: int, body: OverrideIn, request: Request, who: Principal = Auth) -> dict[str, Any]:
        """Set the verdict of this bundle by hand, with the reason."""
        return pages.record_override(state_of(request), scan_id, body.verdict, body.reason, who)


async def _submit_upload(request: Request, st: AppState, who: Principal) -> Job:
    limit = st.settings.api_max_upload_bytes
    async with request.form(max_files=1, max_fields=5, max_part_size=1024 * 1024) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(422, "multipart field `file` (a skill ZIP) is required")
        data = await upload.read(limit + 1)
        filename = (upload.filename or "upload.zip").replace("/", "_").replace("\\", "_")[-200:]
    if len(data) > limit:
        raise HTTPException(413, f"upload larger than {limit} bytes")
    if not data.startswith(_ZIP_MAGIC):
        raise HTTPException(422, "the uploaded file is not a ZIP archive")
    return st.jobs.submit_upload(data, filename, who.identity)


def job_view(st: AppState, job: Job) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": job.id,
        "status": str(job.status),
        "verdict": None,
        "decision": None,
        "reason": None,
        "report": None,
        "scan_id": job.scan_id,
        "error": job.error or None,
        "submitted_at": job.created_at.isoformat(),
    }
    if job.status is JobStatus.DONE and job.scan_id is not None:
        stored = st.store.get_scan(job.scan_id)
        if stored is not None:
            report = st.verdicts.effective(stored).report
            out.update(
                verdict=str(report.verdict),
                decision=str(report.decision),
                reason=report.reason,
                report=report.to_dict(),
                report_url=f"/reports/{stored.id}",
            )
    return out


def _first_error(e: Exception) -> str:
    errors = getattr(e, "errors", None)
    if callable(errors):
        first = errors()[0] if errors() else {}
        loc = ".".join(str(x) for x in first.get("loc", ()))
        return f"{loc}: {first.get('msg', '')}".strip(": ")
    return str(e)[:200]
