"""Server-sent events: a submission's status, pushed until it reaches a final state.

A stream reads its submission when the grading announces a change (app/live.py: the worker's
claim and verdict arrive as wake-ups, not as data), and at the latest every
`live_fallback_seconds` in case an announcement was lost. Each read goes through the same
visibility rules as the pages (app/services/visibility.py)."""

from __future__ import annotations

import asyncio
import json
import math
from collections import defaultdict
from collections.abc import AsyncIterator
from weakref import WeakSet

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, format_sse_event
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.config import get_settings
from app.db import get_sessionmaker
from app.deps import get_locale
from app.i18n import chip_of, lazy, translate
from app.live import FEED, submission_key
from app.models import FINAL_STATUSES, Submission, User
from app.search_gate import request_key
from app.services import visibility
from app.services.grading_order import queue_place, running_since

router = APIRouter()
MAX_STREAM_SECONDS = 300  # the browser's EventSource reconnects by itself after this
LOG_TAIL_CHARS = 2000
STREAM_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}

QUEUE_AHEAD = lazy("Queued: {n} submissions ahead of yours")
QUEUE_AHEAD_ETA = lazy("Queued: {n} submissions ahead of yours, verdict in about {seconds} s")
RUNNING_FOR = lazy("Grading for {seconds} s")
LOG_TAIL = lazy("End of the log")


def _viewer(session: Session, viewer_id: int | None, version: object = None) -> User | None:
    """`version`: the session version the stream's cookie was issued under (a stream's reads
    stop seeing as its user once they log out, change the password or lose their role)."""
    user = session.get(User, viewer_id) if viewer_id is not None else None
    if user is None or not user.is_active or (version is not None and user.session_version != version):
        return None
    return user


def _snapshot(submission_id: int, locale: str, viewer_id: int | None = None) -> dict[str, object] | None:
    return _read(submission_id, locale, viewer_id)[0]


Snapshot = dict[str, object]


def _read(submission_id: int, locale: str, viewer_id: int | None,
          version: object = None) -> tuple[Snapshot | None, str | None]:
    """(what this viewer may see of the submission, the queue it waits in while it is queued)."""
    queue = None
    with get_sessionmaker()() as session:
        s = session.get(Submission, submission_id)
        if s is None:
            return None, None
        seen = visibility.sight(_viewer(session, viewer_id, version), s)
        final = s.status in FINAL_STATUSES
        status_key, status_label = chip_of(s.status, visibility.shown_verdict(seen, s))
        snap: dict[str, object] = {
            "id": s.id,
            "status": s.status,
            "status_key": status_key,  # the chip's colour: a crashed run is red, not "scored"
            "status_label": translate(locale, status_label),
            "verdict": visibility.shown_verdict(seen, s),
            "score": visibility.shown_score(seen, s),
            "message": visibility.shown_message(seen, s, locale) or "",
            "final": final,
            # the live panel: where it waits, since when it runs, and (its author only) the log
            "queue_ahead": None,
            "queue_label": "",
            "eta_seconds": None,
            "running_since": None,
            "running_label": "",
            "log_tail": None,
            "log_label": "",
        }
        if s.status == "queued":
            place = queue_place(session, s)
            eta = None if place.eta_seconds is None else max(1, math.ceil(place.eta_seconds))  # never "0 s"
            label = (translate(locale, QUEUE_AHEAD, n=place.ahead) if eta is None else
                     translate(locale, QUEUE_AHEAD_ETA, n=place.ahead, seconds=str(eta)))
            snap.update(queue_ahead=place.ahead, queue_label=label, eta_seconds=place.eta_seconds)
            queue = place.queue
        elif s.status == "running":
            snap.update(running_since=running_since(session, s),
                        running_label=translate(locale, RUNNING_FOR, seconds="{seconds}"))
        log = visibility.shown_log(seen, s)
        if final and log and seen.audience == "author":
            snap.update(log_tail=log[-LOG_TAIL_CHARS:], log_label=translate(locale, LOG_TAIL))
        return snap, queue


def _cookie_viewer(user_id: object, version: object) -> int | None:
    """The cookie's user, if the cookie is still good (see app/deps.py: session versions)."""
    if not isinstance(user_id, int) or not 0 < user_id < 2**31:
        return None
    with get_sessionmaker()() as session:
        user = session.get(User, user_id)
        return user_id if user is not None and user.is_active and user.session_version == version else None


#: the streams themselves, weakly: one that ends, or never starts, leaves the set by itself
_open_streams: defaultdict[str, WeakSet[AsyncIterator[bytes]]] = defaultdict(WeakSet)


def refuse_too_many(request: Request, locale: str, viewer_id: int | None) -> JSONResponse | None:
    """429 when this client has `streams_per_client` live streams open (of any kind)."""
    if len(_open_streams.get(client_of(request, viewer_id), ())) < get_settings().streams_per_client:
        return None
    text = translate(locale, "Too many live views open; close some tabs")
    return JSONResponse({"detail": text, "code": "too_many"}, status_code=429,
                        headers={"retry-after": str(MAX_STREAM_SECONDS // 10)})


def client_of(request: Request, viewer_id: int | None) -> str:
    """Whose places a stream takes: its account's, else its address's (every homework page
    opens one, and a campus behind one NAT address is many readers)."""
    return request_key(request, viewer_id)


def register(request: Request, stream: AsyncIterator[bytes], viewer_id: int | None) -> None:
    """Count an open stream against its client until it ends."""
    for gone in [k for k, streams in _open_streams.items() if not streams]:
        del _open_streams[gone]  # clients whose streams all ended
    _open_streams[client_of(request, viewer_id)].add(stream)


async def stream_viewer(request: Request) -> int | None:
    """The session's user id, checked once when a stream starts (no session held open)."""
    return await run_in_threadpool(_cookie_viewer, request.session.get("user_id"), request.session.get("sv"))


@router.get("/submissions/{submission_id}/events", response_model=None)
async def submission_events(submission_id: int, request: Request) -> EventSourceResponse | JSONResponse:
    locale = get_locale(request)
    # no database session held open by the stream: the check uses one briefly
    viewer_id = await stream_viewer(request)
    # no await between the count and the registration: a burst of opens cannot all pass the cap
    refused = refuse_too_many(request, locale, viewer_id)
    if refused is not None:
        return refused
    stream = _events(submission_id, request, locale, viewer_id)
    register(request, stream, viewer_id)
    return EventSourceResponse(stream, headers=STREAM_HEADERS)


async def _events(submission_id: int, request: Request, locale: str,
                  viewer_id: int | None) -> AsyncIterator[bytes]:
    """The submission's live state as server-sent events (FastAPI's encoder): a snapshot each
    time it changes, until it is final; `gone` when it no longer exists for this viewer."""
    version = request.session.get("sv")  # the cookie's, as `stream_viewer` checked it
    last = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_STREAM_SECONDS
    fallback = get_settings().live_fallback_seconds
    with FEED.watching(submission_key(submission_id)) as watch:
        while loop.time() < deadline and not await request.is_disconnected():
            watch.mine.clear()  # a change announced while we read wakes the next wait
            snap, queue = await run_in_threadpool(_read, submission_id, locale, viewer_id, version)
            if snap is None:
                yield format_sse_event(event="gone", data_str="{}")
                return
            watch.queue = queue  # while it waits, its place moves with its queue
            if snap != last:
                yield format_sse_event(data_str=json.dumps(snap, ensure_ascii=False))
                last = snap
            if snap["final"]:
                return
            await watch.changed(min(fallback, max(0.0, deadline - loop.time())))
