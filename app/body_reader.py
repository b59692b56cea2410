"""Request bodies are read whole, under a time budget, before the request takes an admission slot.

A client that sends its body slowly (a byte a second) used to hold one of the web process's few
admission places while its body trickled in; 24 of them stopped the site. Here, outside the
admission control, the body is read into a spooled file first:

- the body must keep coming: after `grace_seconds` it must have averaged `min_rate` bytes a
  second since the start, and no wait for the next chunk may exceed `idle_seconds`; a sender that
  falls behind gets 408 and the connection is closed;
- one address may have at most `per_client` bodies being read at once (429 beyond that);
- a body over `max_bytes` is refused with 413 by its Content-Length before any byte is read.

Only then does the request go on, with its body replayed from the file at full speed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import oversized_form
from app.addresses import address_key
from app.i18n import lazy, megabytes, scope_locale, translate
from app.input_guard import Unusable, screen_json, screen_url
from app.offload import run_heavy
from app.strict_forms import screen_form

CHUNK = 64 * 1024
TOO_MANY = lazy("Too many uploads from your address at once; wait for one to finish")
TOO_SLOW = lazy("The upload was too slow and was stopped; please try again")
UNREADABLE = lazy("The upload could not be read; please try again")


@dataclass(frozen=True)
class BodyBudget:
    min_rate: int = 10_000
    grace_seconds: float = 10.0
    idle_seconds: float = 10.0
    per_client: int = 4
    max_bytes: int = 21 * 1024 * 1024


class BodyReaderMiddleware:
    def __init__(self, app: ASGIApp, budget: BodyBudget) -> None:
        self.app, self.budget = app, budget
        self.reading: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            screen_url(scope["path"], scope.get("query_string", b""))
            has_body = _has_body(scope)
        except Unusable as refused:
            await _refuse(scope, send, refused)
            return
        if not has_body:
            await self.app(scope, receive, send)
            return
        client = address_key((scope.get("client") or (None, 0))[0])
        try:
            if self.reading[client] >= self.budget.per_client:
                raise Unusable(429, TOO_MANY)
            self.reading[client] += 1
            try:
                spool = await self._read(scope, receive)
            finally:
                self.reading[client] -= 1
                if not self.reading[client]:
                    del self.reading[client]
            await _screen_body(scope, spool)
        except Unusable as refused:
            await _refuse(scope, send, refused)
            return
        with spool:
            await self.app(scope, _replay(spool, receive), send)

    async def _read(self, scope: Scope, receive: Receive) -> SpooledTemporaryFile[bytes]:
        budget = self.budget
        length = dict(scope.get("headers", [])).get(b"content-length", b"")
        # a reply form over the limit is read to its end, its files dropped (app/oversized_form.py)
        cap = budget.max_bytes * oversized_form.DISCARD_FACTOR if oversized_form.keeps_text(scope) \
            else budget.max_bytes
        if length.isdigit() and int(length) > cap:
            raise Unusable(413, lazy("The upload is too large: at most {mb} MB per request"),
                           mb=megabytes(budget.max_bytes))
        spool: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(max_size=1024 * 1024)
        start, received = time.monotonic(), 0
        try:
            while True:
                elapsed = time.monotonic() - start
                # when the average rate would fall below min_rate, counting the grace period
                behind_at = budget.grace_seconds + received / budget.min_rate
                wait = min(budget.idle_seconds, behind_at - elapsed)
                if wait <= 0:
                    raise Unusable(408, TOO_SLOW)
                try:
                    message = await asyncio.wait_for(receive(), wait)
                except TimeoutError:
                    raise Unusable(408, TOO_SLOW) from None
                if message["type"] == "http.disconnect":
                    raise Unusable(400, UNREADABLE)
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > cap:  # no (or a false) Content-Length
                    raise Unusable(413, lazy("The upload is too large: at most {mb} MB per request"),
                                   mb=megabytes(budget.max_bytes))
                if spool.tell() < budget.max_bytes:
                    spool.write(chunk)
                if not message.get("more_body", False):
                    if received > budget.max_bytes:
                        return _text_only(scope, spool, received, budget.max_bytes)
                    spool.seek(0)
                    return spool
        except BaseException:
            spool.close()
            raise


def _text_only(scope: Scope, spool: SpooledTemporaryFile[bytes], received: int,
               limit: int) -> SpooledTemporaryFile[bytes]:
    """The oversized reply form's text fields, as the body the handler gets; the scope says why."""
    spool.seek(0)
    prefix = spool.read(oversized_form.KEEP_BYTES)
    spool.close()
    content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
    body = oversized_form.text_fields(content_type, prefix)
    oversized_form.mark_refused(scope, received, limit, len(body))
    replacement: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(max_size=1024 * 1024)
    replacement.write(body)
    replacement.seek(0)
    return replacement


async def _screen_body(scope: Scope, spool: SpooledTemporaryFile[bytes]) -> None:
    """JSON parsed and walked in a thread; an url-encoded form must not carry NUL; multipart
    text fields must be UTF-8 without NUL (app/strict_forms.py)."""
    content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
    kind = content_type.split(b";")[0].strip().lower()
    if kind == b"application/json" or kind.endswith(b"+json"):
        body = spool.read()
        spool.seek(0)
        await run_heavy(screen_json, body)
    elif kind == b"multipart/form-data":
        body = spool.read()
        spool.seek(0)
        await run_heavy(screen_form, content_type, body)
    elif kind == b"application/x-www-form-urlencoded":
        body = spool.read()
        spool.seek(0)
        if b"%00" in body:
            raise Unusable(422, lazy("The text contains characters Camp does not accept"))


def _has_body(scope: Scope) -> bool:
    """A chunked body has one whatever a Content-Length says (the server reads the chunks);
    a request with both is refused: the two may frame it differently (`Content-Length: 0` went
    past this reader unread, to be read by its handler at the sender's pace)."""
    names = [name for name, _ in scope.get("headers", [])]
    if b"transfer-encoding" in names:
        if b"content-length" in names:
            raise Unusable(400, UNREADABLE)
        return True
    length = dict(scope.get("headers", [])).get(b"content-length")
    return length is not None and length != b"0"


def _replay(spool: SpooledTemporaryFile[bytes], receive: Receive) -> Callable[[], Awaitable[Message]]:
    total = spool.seek(0, 2)
    spool.seek(0)
    done = False

    async def replayed() -> Message:
        nonlocal done
        if done:
            return await receive()  # after the body: wait for the client to go away
        chunk = spool.read(CHUNK)  # from memory, or a local file in the page cache
        done = spool.tell() >= total
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return replayed


async def _refuse(scope: Scope, send: Send, refused: Unusable) -> None:
    locale = scope_locale(scope, "zh_CN")
    text = translate(locale, refused.message, **refused.params)
    code = refused.code or {404: "http_error", 408: "too_slow", 413: "too_large", 422: "invalid",
                            429: "too_many"}.get(refused.status, "bad_upload")
    body = json.dumps({"detail": text, "code": code}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": refused.status, "headers": [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
