"""The homework thread for logged-in students, with the per-viewer parts split out.

Someone else's reply looks the same to every logged-in reader who is not the course's staff:
the rules of `app.services.visibility` tell only the author, the staff and "a student" apart.
So a page of the thread is rendered once for "a student who wrote none of it", per homework,
page and language, and kept while the database version is unchanged and no opening time,
deadline or end of likes passes (`app.services.page_cache`: the same exact versioning as the
anonymous page cache, per process, so any number of web processes stay exact).

Per request only the viewer's parts are made: their own replies (sealed answers, edit and
delete controls, review, history) are rendered fresh from the database, and the few
per-viewer bits inside the shared replies (the CSRF token of each like form, whether the
viewer liked the reply) are slots filled in. The header, the compose form and everything else
outside the thread are rendered per request as before. The staff's pages are not shared.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from app import paging
from app.deps import Viewer
from app.models import Assignment, Submission, utcnow
from app.services import edits, likes, visibility
from app.services.homework_settings import likes_close_at
from app.services.page_cache import VersionedCache, next_boundary
from app.services.submissions import by_ids, thread, thread_length
from app.templating import fragment
from app.web.thread import LIKED, NOT_LIKED, LikeState, ThreadView, thread_view


class _Slots:
    """Slots in a shared reply, filled per viewer, marked by a random marker drawn afresh for
    each rendering and never sent: every slot is cut out before a reply is stored. The texts a
    rendering shows were stored before its marker existed, so none can hold it, not even one
    written by someone who learnt the marker of an earlier rendering."""

    def __init__(self) -> None:
        self.mark = "\x1e" + secrets.token_hex(12)
        self.pattern = re.compile(re.escape(self.mark) + r":([a-z-]+)\x1e")

    def __call__(self, name: str) -> Markup:
        return Markup(f"{self.mark}:{name}\x1e")


#: whoever reads the shared page: a student, the author of none of its replies (ids start at 1)
STRANGER = Viewer(id=0, name="", role="student", locale=None)


class _SharedView(ThreadView):
    """The thread's data as every student sees it; whether *they* liked a reply is a slot."""

    like_slots: LikeState

    def like_state(self, submission_id: int) -> LikeState:
        return self.like_slots


@dataclass(frozen=True)
class SharedReply:
    id: int
    author_id: int
    #: text and slot names taking turns: text, slot, text, ..., text
    pieces: tuple[str, ...]

    def fill(self, values: Mapping[str, str]) -> Markup:
        return Markup("".join(values[p] if i % 2 else p for i, p in enumerate(self.pieces)))


@dataclass(frozen=True)
class SharedThread:
    replies: tuple[SharedReply, ...]
    total: int
    likes: Mapping[int, int]  # submission id -> likes
    likes_open: bool


SHARED = VersionedCache(max_entries=256)


def serves(viewer: Viewer | None, assignment: Assignment) -> bool:
    """Whether this viewer reads others' replies as "a student" (logged in, not the course's staff)."""
    return viewer is not None and visibility.audience(viewer, STRANGER.id, assignment.course) == "student"


def shared_thread(session: Session, assignment: Assignment, page: int, locale: str,
                  site_timezone: str) -> SharedThread | None:
    """The page of the thread as a student who wrote none of it sees it; None: not cacheable now."""
    return SHARED.get_or_compute(
        ("thread", assignment.id, page, locale),
        lambda: _render_shared(session, assignment.id, page, locale, site_timezone))


def _render_shared(session: Session, assignment_id: int, page: int, locale: str,
                   site_timezone: str) -> tuple[SharedThread | None, datetime | None]:
    # A session of its own on the request's connection: its identity map is empty, so every
    # row it renders is read after the version was (the request's own objects, such as the
    # homework, were loaded before it and may be older than the version it is stored with).
    with Session(bind=session.connection()) as fresh:
        assignment = fresh.get(Assignment, assignment_id)
        if assignment is None:
            return None, None
        now = utcnow()
        replies = thread(fresh, assignment, *paging.window(page, paging.THREAD_PAGE))
        if not replies and page > 1:  # past the end: any number of them, each cheap to render
            return None, None
        closes = likes_close_at(assignment)
        view = _SharedView(likes=likes.like_counts(fresh, [s.id for s in replies]), liked=set(),
                           likes_open=closes is None or now < closes,
                           editable=not assignment.is_late(now), quota=None)
        slot = _Slots()
        view.like_slots = LikeState(slot("like-action"), slot("like-class"), slot("like-pressed"))
        context: dict[str, Any] = {
            "user": STRANGER, "csrf_token": slot("csrf"), "locale": locale, "page": page,
            "timezone": assignment.course.timezone, "site_timezone": site_timezone,
            "assignment": assignment, "course": assignment.course, "view": view}
        shared = []
        for s in replies:
            pieces = tuple(slot.pattern.split(fragment("_reply.html", context, s=s)))
            if any(slot.mark in piece for piece in pieces[::2]):  # a slot it cannot fill: never store it
                return None, None
            shared.append(SharedReply(s.id, s.author_id, pieces))
        ends = next_boundary(now, assignment.opens_at, assignment.due_at, closes)
        total = thread_length(fresh, assignment)
        return SharedThread(tuple(shared), total, view.likes, view.likes_open), ends


@dataclass
class PersonalThread:
    """What the page's template needs: the replies (rendered or to render), the view, the count."""

    replies: list[Submission | Markup]
    view: ThreadView
    total: int


def personal_thread(session: Session, assignment: Assignment, shared: SharedThread, viewer: Viewer,
                    csrf_token: str, posted: str | None) -> PersonalThread:
    """The shared page with the viewer's parts: own replies loaded to render, slots filled."""
    own_ids = [r.id for r in shared.replies if r.author_id == viewer.id]
    own = {s.id: s for s in by_ids(session, own_ids, author_id=viewer.id)} if own_ids else {}
    view = thread_view(session, assignment, [], viewer, posted)  # the page's parts of the viewer
    # the counts are the shared page's: it is current, or it would not have been served
    view.likes = dict(shared.likes)
    others = [r.id for r in shared.replies if r.id not in own]
    view.liked = likes.liked_by(session, viewer.id, others) if shared.likes_open else set()
    view.history = edits.histories(
        session, [s.id for s in own.values() if visibility.sight(viewer, s).private])
    token = str(escape(csrf_token))
    slots = {True: _values(LIKED, token), False: _values(NOT_LIKED, token)}
    replies: list[Submission | Markup] = [
        own[r.id] if r.id in own else r.fill(slots[r.id in view.liked]) for r in shared.replies]
    return PersonalThread(replies, view, shared.total)


def _values(state: LikeState, csrf_token: str) -> dict[str, str]:
    return {"csrf": csrf_token, "like-action": state.action, "like-class": state.css,
            "like-pressed": state.pressed}
