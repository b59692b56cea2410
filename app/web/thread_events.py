"""Others' new replies on an open homework page, and new posts on a course page's thread,
without a reload (server-sent events).

The page names the last floor it shows; the stream reads the homework's floor counter (one row
by its key) when a new reply is announced (app/live.py: `h:<homework id>`, `c:<course id>` for
a course post, sent by `post_reply` after its commit), and at the latest every
`live_fallback_seconds` in case an announcement was lost. When floors were added, it renders the
new replies with the page's own template for this viewer (`_reply.html`, which asks
`app.services.visibility`: a sealed answer arrives sealed, a hidden reply as its placeholder)
and sends them as HTML. The browser inserts them, or, while the reader is elsewhere in the
thread or typing, keeps them behind an "N new replies" button (`app/static/thread_live.js`).
Streams count against the same per-address cap as the grading streams (`app.web.events`), and
hold no database session while they wait. A stream ends after one event, or after
`MAX_STREAM_SECONDS` without one; the browser's EventSource reconnects by itself and names the
last floor it got (the event id), so nothing is sent twice and nothing is skipped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, format_sse_event
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app import paging
from app.config import get_settings
from app.db import get_sessionmaker
from app.deps import Viewer, get_locale
from app.input_guard import small_int
from app.live import FEED, course_key, homework_key
from app.models import Assignment, Course, User
from app.services.courses import get_assignment, get_course
from app.services.replies import parts_of, posts_after
from app.services.submissions import thread_after
from app.templating import base_context, fragment
from app.web import events
from app.web.thread import thread_view

router = APIRouter()
#: replies sent in one event (a burst arrives over a few reconnections)
BATCH = 20
#: after an event the stream ends; the browser comes back this soon, from the floor it got to
RECONNECT_MS = 500


@dataclass(frozen=True)
class Pushed:
    last: int  # the highest floor (post id) sent so far
    html: list[str]
    keys: list[int]  # floors (post ids) of the pieces, for the page's element ids


def _homework(slug: str, code: str) -> int:
    with get_sessionmaker()() as session:
        return get_assignment(session, slug, code).id


def _course(slug: str) -> int:
    with get_sessionmaker()() as session:
        return get_course(session, slug).id


@router.get("/courses/{slug}/assignments/{code}/replies/events", response_model=None)
async def reply_events(
    slug: str, code: str, request: Request, after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> EventSourceResponse | JSONResponse:
    assignment_id = await run_in_threadpool(_homework, slug, code)
    return await _open(request, partial(new_replies, assignment_id), homework_key(assignment_id), after)


@router.get("/courses/{slug}/posts/events", response_model=None)
async def post_events(
    slug: str, request: Request, after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> EventSourceResponse | JSONResponse:
    """The course thread's new posts (its first page shows the newest)."""
    course_id = await run_in_threadpool(_course, slug)
    return await _open(request, partial(new_posts, course_id), course_key(course_id), after)


#: the cookie's user id and the session version it was issued under, checked at every read
Reader = tuple[int, object]
Poll = Callable[[int, Reader | None, dict[str, Any]], "Pushed | None"]


async def _open(request: Request, poll: Poll, key: str, after: int) -> EventSourceResponse | JSONResponse:
    """`poll` reads what is new after a floor; `key` is what a new reply announces (app/live.py)."""
    viewer_id = await events.stream_viewer(request)
    # no await between the count and the registration: a burst of opens cannot all pass the cap
    refused = events.refuse_too_many(request, get_locale(request), viewer_id)
    if refused is not None:
        return refused
    resumed = request.headers.get("last-event-id", "")
    if (last := small_int(resumed)) is not None:
        after = max(after, last)
    reader = (viewer_id, request.session.get("sv")) if viewer_id is not None else None
    stream = _stream(request, poll, key, after, reader, base_context(request))
    events.register(request, stream, viewer_id)
    return EventSourceResponse(stream, headers=events.STREAM_HEADERS)


async def _stream(request: Request, poll: Poll, key: str, after: int, reader: Reader | None,
                  base: dict[str, Any]) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + events.MAX_STREAM_SECONDS
    fallback = get_settings().live_fallback_seconds
    with FEED.watching(key) as watch:
        while loop.time() < deadline and not await request.is_disconnected():
            watch.mine.clear()  # a reply announced while we read wakes the next wait
            pushed = await run_in_threadpool(poll, after, reader, base)
            if pushed is None:
                yield format_sse_event(event="gone", data_str="{}")
                return
            if pushed.html:
                data = {"keys": pushed.keys, "html": pushed.html}
                yield format_sse_event(event="replies", data_str=json.dumps(data, ensure_ascii=False),
                                       id=str(pushed.last), retry=RECONNECT_MS)
                return  # the browser reconnects at once, naming the last floor it got
            await watch.changed(min(fallback, max(0.0, deadline - loop.time())))


def new_replies(assignment_id: int, after: int, reader: Reader | None, base: dict[str, Any]) -> Pushed | None:
    """The replies after floor `after`, rendered for this viewer; None when the homework is gone."""
    with get_sessionmaker()() as session:
        assignment = session.get(Assignment, assignment_id)
        if assignment is None:
            return None
        if assignment.next_floor - 1 <= after:
            return Pushed(after, [], [])
        replies = thread_after(session, assignment_id, after, BATCH)
        if not replies:
            return Pushed(after, [], [])
        viewer = _viewer(session, reader)
        view = thread_view(session, assignment, replies, viewer)
        context = {**base, "user": viewer, "timezone": assignment.course.timezone}
        html = [fragment("_reply.html", context, s=s, assignment=assignment, course=assignment.course,
                         view=view, page=paging.thread_page(s.floor)) for s in replies]
        return Pushed(replies[-1].floor, html, [s.floor for s in replies])


def _viewer(session: Session, reader: Reader | None) -> Viewer | None:
    """The stream's user while their cookie still holds (log-out, a new password, a role change
    or a disabled account end it mid-stream too): else an anonymous reader."""
    user = session.get(User, reader[0]) if reader is not None else None
    if user is None or not user.is_active or reader is None or user.session_version != reader[1]:
        return None
    return Viewer(user.id, user.name, user.role, user.locale)


def new_posts(course_id: int, after: int, reader: Reader | None, base: dict[str, Any]) -> Pushed | None:
    """The course thread's posts after post `after`, rendered as the course page shows them."""
    with get_sessionmaker()() as session:
        course = session.get(Course, course_id)
        if course is None:
            return None
        posts = posts_after(session, course_id, after, BATCH)
        if not posts:
            return Pushed(after, [], [])
        parts = parts_of(session, [p.id for p in posts])
        context = {**base, "user": _viewer(session, reader), "timezone": course.timezone}
        html = [fragment("_post.html", context, post=p, parts=parts.get(p.id, []), course=course, posted=None)
                for p in posts]
        return Pushed(posts[-1].id, html, [p.id for p in posts])
