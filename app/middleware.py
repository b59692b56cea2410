"""Small ASGI middlewares: request size cap, security headers, a CSRF token in every session."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.i18n import megabytes, scope_locale, translate
from app.security import new_csrf_token


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes` before reading them whole: by Content-Length, then by count."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not response_started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        locale = scope_locale(scope, "zh_CN")
        mb = megabytes(self.max_bytes)
        text = translate(locale, "The upload is too large: at most {mb} MB per request", mb=mb)
        body = json.dumps({"detail": text, "code": "too_large"}, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    ),
]


HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeadersMiddleware:
    """Every response gets the headers above; a response that sets its own CSP (/docs) keeps it.
    With `hsts` (secure cookies, so HTTPS) browsers are told to never use plain HTTP again."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.extra = [HSTS] if hsts else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in SECURITY_HEADERS + self.extra if h[0] not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CsrfSeedMiddleware:
    """Give every session a CSRF token before any form is rendered (runs inside SessionMiddleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "session" in scope and "csrf" not in scope["session"]:
            scope["session"]["csrf"] = new_csrf_token()
        await self.app(scope, receive, send)


#: the most of a response body handed to the server at once
SEND_CHUNK = 64 * 1024


class ChunkedSendMiddleware:
    """Large response bodies go to the server 64 KB at a time. uvicorn takes a new piece only
    when the client has read the earlier ones, but a body handed over whole was copied whole
    into the connection's buffer: one cached homework page of 14 MB (50 replies of `&`, five
    bytes of HTML each), asked for on 25 connections that read nothing, held 282 MB."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_in_chunks(message: Message) -> None:
            body = message.get("body", b"")
            if message["type"] != "http.response.body" or len(body) <= SEND_CHUNK:
                await send(message)
                return
            view, more = memoryview(body), message.get("more_body", False)
            for start in range(0, len(body), SEND_CHUNK):
                end = start + SEND_CHUNK
                await send({"type": "http.response.body", "body": bytes(view[start:end]),
                            "more_body": more or end < len(body)})

        await self.app(scope, receive, send_in_chunks)
