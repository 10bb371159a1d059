"""Maintainer pages (server-rendered HTML): login, the reports listing, one report, and the
suppress / override actions, which are also offered as JSON by `api.py`."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from skillscan.models import Verdict
from skillscan.report.html import Forms, ReportPage
from skillscan.service.auth import SESSION_COOKIE, SESSION_TTL_S, Principal
from skillscan.service.listing import last_sweep_start, listing
from skillscan.service.state import AppState, authenticate, state_of

Auth = Depends(authenticate)
_HTML_PREFIXES = ("/reports", "/login", "/logout")
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_VERDICTS = {str(v) for v in Verdict}
_LOCAL_PATH = re.compile(r"^/(?![/\\])[A-Za-z0-9._~/?=&%-]{0,500}$")


async def http_error(request: Request, exc: HTTPException) -> Response:
    """HTML for the pages, JSON for the API; the same status and headers either way."""
    path = request.url.path
    if path == "/" or path.startswith(_HTML_PREFIXES):
        st = state_of(request)
        message = str(exc.detail)
        if exc.status_code == 401:
            message = "Log in first: open /login?token=<your API token>."
        html = st.renderer.page("message.html", title=f"{exc.status_code}", message=message)
        return HTMLResponse(html, status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def record_suppression(st: AppState, scan_id: int, data: dict[str, Any], who: Principal) -> dict[str, Any]:
    stored = st.store.get_scan(scan_id)
    if stored is None:
        raise HTTPException(404, "no such scan")
    original = st.records.original(scan_id) or stored.report
    sha = {f.path: f.sha256 for f in original.files}.get(data["path"])
    present = any(f.rule_id == data["rule_id"] and f.path == data["path"] for f in original.findings)
    if not present or sha != data["file_sha256"]:
        raise HTTPException(422, "this scan has no such finding on a file with that sha256")
    suppression = st.records.add_suppression(
        rule_id=data["rule_id"],
        path=data["path"],
        file_sha256=data["file_sha256"],
        reason=data["reason"],
        who=who.identity,
        scan_id=scan_id,
    )
    return _after_action(st, scan_id, {"suppression_id": suppression.id})


def record_override(
    st: AppState, scan_id: int, verdict: Verdict, reason: str, who: Principal
) -> dict[str, Any]:
    stored = st.store.get_scan(scan_id)
    if stored is None:
        raise HTTPException(404, "no such scan")
    st.records.add_override(
        scan_id=scan_id, fingerprint=stored.fingerprint, verdict=verdict, reason=reason, who=who.identity
    )
    return _after_action(st, scan_id, {})


def _after_action(st: AppState, scan_id: int, extra: dict[str, Any]) -> dict[str, Any]:
    effective = st.verdicts.refresh(scan_id)
    assert effective is not None
    report = effective.report
    return {
        "scan_id": scan_id,
        **extra,
        "verdict": str(report.verdict),
        "decision": str(report.decision),
        "reason": report.reason,
        "original_verdict": str(effective.original.verdict),
    }


def register(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/reports", status_code=303)

    @app.get("/login", include_in_schema=False)
    def login(request: Request, token: str = "", next: str = "/reports") -> Response:
        """Exchange an API token for an HttpOnly session cookie (signed, never the token)."""
        st = state_of(request)
        principal = st.tokens.check(token) if token else None
        if principal is None:
            client = request.client.host if request.client else "-"
            if st.failures.allow(f"ip:{client}"):
                raise HTTPException(429, "too many failed authentication attempts")
            raise HTTPException(401, "invalid token")
        target = next if _LOCAL_PATH.match(next) else "/reports"  # never an open redirect
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            st.sessions.issue(principal),
            max_age=SESSION_TTL_S,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @app.get("/logout", include_in_schema=False)
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/reports", response_class=HTMLResponse, include_in_schema=False)
    def reports(
        request: Request, verdict: str = "", changed: str = "", who: Principal = Auth
    ) -> HTMLResponse:
        st = state_of(request)
        chosen = verdict if verdict in _VERDICTS else None
        since = last_sweep_start(st.records) if changed else None
        rows = listing(st.records, limit=200, verdict=chosen, since=since, changed_only=bool(changed))
        html = st.renderer.page(
            "reports.html",
            title="Recent verdicts",
            rows=rows,
            verdict=chosen or "",
            changed=bool(changed),
            since=since.strftime("%Y-%m-%d %H:%M UTC") if since else "",
        )
        return HTMLResponse(html)

    @app.get("/reports/{ref}", response_class=HTMLResponse, include_in_schema=False)
    def report(ref: str, request: Request, who: Principal = Auth) -> Response:
        st = state_of(request)
        if _JOB_ID.match(ref):
            job = st.jobs.get(ref)
            if job is None:
                raise HTTPException(404, "no such scan")
            if job.scan_id is not None:
                return RedirectResponse(f"/reports/{job.scan_id}", status_code=303)
            detail = f"Scan {job.id} is {job.status}." + (f" Error: {job.error}" if job.error else "")
            return HTMLResponse(st.renderer.page("message.html", title=f"Scan {job.status}", message=detail))
        if not ref.isdigit():
            raise HTTPException(404, "no such scan")
        stored = st.store.get_scan(int(ref))
        if stored is None:
            raise HTTPException(404, "no such scan")
        return HTMLResponse(st.renderer.report(_page(st, stored, request)))

    @app.post("/reports/{scan_id}/suppress", include_in_schema=False)
    async def suppress_form(scan_id: int, request: Request, who: Principal = Auth) -> Response:
        form = await _form(request, who)
        data = {k: str(form.get(k, "")).strip() for k in ("rule_id", "path", "file_sha256", "reason")}
        if len(data["reason"]) < 3:
            raise HTTPException(422, "a reason is required")
        record_suppression(state_of(request), scan_id, data, who)
        return RedirectResponse(f"/reports/{scan_id}", status_code=303)

    @app.post("/reports/{scan_id}/override", include_in_schema=False)
    async def override_form(scan_id: int, request: Request, who: Principal = Auth) -> Response:
        form = await _form(request, who)
        verdict, reason = str(form.get("verdict", "")), str(form.get("reason", "")).strip()
        if verdict not in _VERDICTS or len(reason) < 3:
            raise HTTPException(422, "a verdict and a reason are required")
        record_override(state_of(request), scan_id, Verdict(verdict), reason[:1000], who)
        return RedirectResponse(f"/reports/{scan_id}", status_code=303)


async def _form(request: Request, who: Principal) -> dict[str, Any]:
    st = state_of(request)
    async with request.form(max_files=0, max_fields=10) as form:
        values = {k: v for k, v in form.items() if isinstance(v, str)}
    if who.via == "session":
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if not st.sessions.check_csrf(cookie, values.get("csrf", "")):
            raise HTTPException(403, "missing or invalid CSRF token")
    return values


def _page(st: AppState, stored: Any, request: Request) -> ReportPage:
    effective = st.verdicts.effective(stored)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    csrf = st.sessions.csrf(cookie) if cookie else ""
    history = [
        {"id": s.id, "version": s.version, "verdict": str(s.verdict), "scanned_at": _when(s.scanned_at)}
        for s in (st.store.history(stored.owner, stored.slug)[:20] if stored.slug else [])
    ]
    return ReportPage(
        report=effective.report,
        scan_id=stored.id,
        scanned_at=_when(stored.scanned_at),
        original=effective.original if effective.changed else None,
        suppressed=effective.suppressed,
        override=effective.override,
        excerpts=st.records.excerpts(stored.id),
        diff=_diff(st, stored.id),
        history=history,
        forms=Forms(f"/reports/{stored.id}/suppress", f"/reports/{stored.id}/override", csrf),
    )


def _diff(st: AppState, scan_id: int) -> dict[str, Any] | None:
    try:
        from skillscan.diff import diff_for_scan

        diff = diff_for_scan(st.store, scan_id)
    except Exception:  # the report still renders without the diff
        return None
    return diff.to_dict() if diff is not None and (diff.added or diff.removed) else None


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""
