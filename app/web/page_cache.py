"""The homework page for readers who are not logged in, reused until the database changes.

Logged-in readers see their own replies marked, private logs and forms, so their pages are
rendered per request (other people's replies in them come from `app.web.thread_cache`, shared
by every logged-in student). Everyone else (most of the traffic on a busy homework) gets the same bytes,
per page number and language, for as long as the database version is the same
(`app.services.page_cache`) and no deadline or opening time passes.

This is an ASGI middleware, inside the session middleware (it needs the session to know who
is asking; the session cookie and security headers are still added around it). A hit is
answered on the event loop, without the thread hand-offs of the page's sync dependencies;
a miss goes to the normal route and its 200 HTML answer is kept.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import session_scope
from app.i18n import scope_locale
from app.input_guard import small_int
from app.models import utcnow
from app.services.page_cache import VersionedCache, database_version, homework_times, next_boundary

HOMEWORK = re.compile(r"^/courses/(?P<slug>[^/]+)/assignments/(?P<code>[^/]+)$")
PAGES = VersionedCache(max_entries=256)
HTML = b"text/html; charset=utf-8"


def _page_number(scope: Scope) -> int | None:
    """The `page` parameter when it is the only one (any other parameter: not cached)."""
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if any(name != "page" for name, _ in pairs) or len(pairs) > 1:
        return None
    value = pairs[0][1] if pairs else "1"
    page = small_int(value, 5)
    return page if page is not None and 0 < page < 100_000 else None


def _boundary(slug: str, code: str, rendered_after: datetime) -> datetime | None:
    """When the page changes by itself: the homework opens, or its deadline passes (the first
    such moment after the render began: one passing during the render ends the page at once)."""
    with session_scope() as session:
        times = homework_times(session, slug, code)
    return next_boundary(rendered_after, *times) if times else None


class AnonymousPageCache:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._inflight: dict[tuple[object, ...], tuple[str, asyncio.Event]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        version = database_version(connect=False) or await run_in_threadpool(database_version)
        body = PAGES.get(key, version)
        waiting = self._inflight.get(key)
        if body is None and waiting is not None and waiting[0] == version:
            await waiting[1].wait()  # the same page of the same version is being rendered
            body = PAGES.get(key, version)
        if body is not None:
            await _send_html(send, body)
            return
        await self._render(key, version, scope, receive, send)

    def _key(self, scope: Scope) -> tuple[object, ...] | None:
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        match = HOMEWORK.match(scope["path"])
        session = scope.get("session") or {}
        if match is None or "user_id" in session:
            return None
        headers = Headers(scope=scope)
        if "authorization" in headers:
            return None
        page = _page_number(scope)
        if page is None:
            return None
        settings = scope["app"].state.settings
        return ("homework", match["slug"], match["code"], page,
                scope_locale(scope, settings.default_locale))

    async def _render(self, key: tuple[object, ...], version: str | None, scope: Scope,
                      receive: Receive, send: Send) -> None:
        done = asyncio.Event()
        if version is not None:
            self._inflight[key] = (version, done)
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                # a copy: the outer middlewares add their headers to this very dict
                start = {**message, "headers": list(message.get("headers", []))}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            began = utcnow()
            await self.app(scope, receive, capture)
            body = b"".join(chunks)
            if version is not None and start is not None and _cacheable(start, scope, body):
                valid_until = await run_in_threadpool(_boundary, str(key[1]), str(key[2]), began)
                PAGES.put(key, version, body, valid_until)
        finally:
            if self._inflight.get(key, (None,))[0] == version:
                del self._inflight[key]
            done.set()


def _cacheable(start: Message, scope: Scope, body: bytes) -> bool:
    headers = Headers(raw=start.get("headers", []))
    if start["status"] != 200 or not headers.get("content-type", "").startswith("text/html"):
        return False
    if "set-cookie" in headers:  # the page changed the visitor's state: keep it theirs
        return False
    token = (scope.get("session") or {}).get("csrf")
    return not (token and str(token).encode() in body)  # never hand a CSRF token to another


async def _send_html(send: Send, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", HTML), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
