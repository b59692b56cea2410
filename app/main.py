"""The FastAPI application: middlewares, error handlers, routers."""

from __future__ import annotations

import errno
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from app import api_docs
from app.admission import AdmissionMiddleware
from app.body_reader import BodyBudget, BodyReaderMiddleware
from app.config import PROJECT_ROOT, Settings, get_settings
from app.deps import get_locale
from app.errors import CampError, error_headers
from app.i18n import lazy, translate
from app.middleware import (
    BodyLimitMiddleware,
    ChunkedSendMiddleware,
    CsrfSeedMiddleware,
    SecurityHeadersMiddleware,
)
from app.oversized_form import FORM_ROOM_BYTES
from app.templating import render
from app.web.page_cache import AnonymousPageCache

log = logging.getLogger(__name__)

#: a full disk (or quota): refused with 507 and a Retry-After, never a bare 500
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
STORAGE_FULL_RETRY_AFTER_SECONDS = 300

HTTP_MESSAGES = {
    404: lazy("This page does not exist"),
    405: lazy("This method is not allowed here"),
}


def create_app(settings: Settings | None = None) -> FastAPI:
    from app.api import router as api_router
    from app.web import router as web_router

    settings = settings or get_settings()
    app = FastAPI(title="Camp", version="0.1.0", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.add_middleware(AnonymousPageCache)
    app.add_middleware(CsrfSeedMiddleware)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="camp_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    # Room for the largest file plus the other fields of the form.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes + FORM_ROOM_BYTES)
    # large answers leave 64 KB at a time, as fast as the client reads them
    app.add_middleware(ChunkedSendMiddleware)
    # requests over the limit wait before they take a thread or a connection
    app.add_middleware(AdmissionMiddleware, limit=settings.max_concurrent_requests)
    # outermost: a body is read whole, under a time budget, before the request takes a slot
    app.add_middleware(BodyReaderMiddleware, budget=BodyBudget(
        min_rate=settings.body_min_rate_bytes, grace_seconds=settings.body_grace_seconds,
        idle_seconds=settings.body_idle_seconds, per_client=settings.uploads_per_client,
        max_bytes=settings.max_upload_bytes + FORM_ROOM_BYTES))
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "app" / "static"), name="static")
    api_docs.install(app)
    app.include_router(api_router)
    app.include_router(web_router)
    _install_error_handlers(app)
    return app


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    )


def error_response(request: Request, status: int, code: str, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": message, "code": code}, status_code=status)
    return render(request, "error.html", status, message=message, status=status)


def storage_full(request: Request) -> Response:
    """507 with a message in the reader's language: nothing was saved, try again later."""
    message = translate(get_locale(request),
                        "Camp's storage is full right now; nothing was saved. Please try again later.")
    response = error_response(request, 507, "storage_full", message)
    response.headers["retry-after"] = str(STORAGE_FULL_RETRY_AFTER_SECONDS)
    return response


def _disk_full(exc: Exception) -> bool:
    """SQLite says "database or disk is full"; PostgreSQL answers SQLSTATE 53100 (disk_full)."""
    orig = getattr(exc, "orig", None)
    return "database or disk is full" in str(orig) or getattr(orig, "sqlstate", None) == "53100"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CampError)
    async def camp_error(request: Request, exc: CampError) -> Response:
        message = translate(get_locale(request), exc.message, **exc.params)
        response = error_response(request, exc.status_code, exc.code, message)
        response.headers.update(error_headers(exc))
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        locale = get_locale(request)
        fields = ", ".join(
            str(err["loc"][-1]) for err in exc.errors() if err.get("loc")
        ) or "?"
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            message = translate(locale, "The request body is not valid JSON")
        else:
            message = translate(locale, "Some fields are missing or invalid: {fields}", fields=fields)
        return error_response(request, 422, "invalid", message)

    @app.exception_handler(DataError)  # a value the database refuses: the request's fault
    @app.exception_handler(OverflowError)  # SQLite: an integer beyond 64 bits
    async def bad_value(request: Request, exc: Exception) -> Response:
        log.warning("value refused by the database: %s", exc)
        message = translate(get_locale(request), "A value in the request is out of range or not allowed")
        return error_response(request, 422, "invalid", message)

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeout)  # every database connection busy for 30 s
    async def database_down(request: Request, exc: Exception) -> Response:
        log.error("database error: %s", exc)
        if _disk_full(exc):
            return storage_full(request)
        message = translate(
            get_locale(request),
            "Camp cannot reach its database right now; nothing was saved. Please try again in a minute.",
        )
        response = error_response(request, 503, "unavailable", message)
        response.headers["retry-after"] = "30"
        return response

    @app.exception_handler(OSError)
    async def os_error(request: Request, exc: OSError) -> Response:
        if exc.errno not in DISK_FULL_ERRNOS:
            raise exc
        log.error("storage full: %s", exc)
        return storage_full(request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        locale = get_locale(request)
        detail = str(exc.detail)
        if exc.status_code == 400 and "exceeded maximum size" in detail:
            # Starlette refuses form fields over 1 MB before our own (smaller) text limit runs.
            kb = app.state.settings.max_text_bytes // 1024
            message = translate(locale, "The reply is too long: at most {kb} KB of text", kb=kb)
            return error_response(request, 413, "too_large", message)
        if exc.status_code == 400 and request.headers.get("content-type", "").startswith("multipart/"):
            message = translate(locale, "The upload could not be read; please try again")
            return error_response(request, 400, "bad_upload", message)
        message = translate(locale, HTTP_MESSAGES.get(exc.status_code, detail))
        return error_response(request, exc.status_code, "http_error", message)
