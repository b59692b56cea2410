"""The course thread: a reply split by its `作业X-Y` prefixes, its preview, and the posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import Response

from app.api.idempotent import answer, take_key
from app.deps import CsrfChecked, CurrentUser, OptionalUser, SessionDep, committed_in_thread, get_locale
from app.models import utcnow
from app.reply_schemas import CoursePostOut, ReplyOut, reply_out
from app.services import visibility
from app.services.courses import get_assignment, get_course
from app.services.replies import (
    course_posts,
    file_refs,
    parts_of,
    plan_reply,
    post_reply,
    quotas,
)
from app.services.submissions import clean_text
from app.upload_reader import checked_uploads

router = APIRouter(tags=["replies"])


@router.post("/courses/{slug}/replies", status_code=201, dependencies=[CsrfChecked],
             response_model=ReplyOut)
async def create_reply(
    slug: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    text: Annotated[str | None, Form()] = None,
    files: Annotated[list[UploadFile] | None, Form()] = None,
) -> Response:
    """Split the reply at each `作业X-Y` prefix; each part becomes a submission of its homework,
    the rest a course post. `parts[].flag` is `filed_under_parent` for `作业8-1` filed under `8`."""
    checked = await checked_uploads(request, files)

    def file() -> Response:
        course = get_course(session, slug)
        taken = take_key(request, session, user, text, checked)
        if isinstance(taken, Response):
            return taken
        now = utcnow()
        posted = post_reply(session, course, user, text, checked, now=now)
        body = reply_out(posted.plan, get_locale(request), now, posted=posted)
        return answer(session, taken, body.model_dump(mode="json"))

    # the database work and its commit in the thread pool, never on the event loop (app/deps.py)
    return await committed_in_thread(session, file)


@router.post("/courses/{slug}/replies/preview", dependencies=[CsrfChecked])
def preview_reply(
    slug: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    text: Annotated[str, Form()] = "",
    filenames: Annotated[list[str] | None, Form()] = None,
    code: Annotated[str | None, Form()] = None,
) -> ReplyOut:
    """Where each part of `text` (and each of the files named in `filenames`) would go, with each
    homework's state and today's code quota. `code`: preview a reply posted to that homework."""
    course = get_course(session, slug)
    default = get_assignment(session, slug, code) if code else None
    now = utcnow()
    plan = plan_reply(course, clean_text(text), file_refs(filenames or []), default)
    return reply_out(plan, get_locale(request), now, quotas(session, plan, user, now),
                     on_homework=default is not None)


@router.get("/courses/{slug}/posts")
def list_posts(
    slug: str,
    session: SessionDep,
    user: OptionalUser,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[CoursePostOut]:
    """The course thread, newest first; each post lists the submissions it was split into."""
    course = get_course(session, slug)
    posts = course_posts(session, course, offset, limit)
    parts = parts_of(session, [p.id for p in posts])
    # hidden posts: shown whole to staff and to their author, like hidden replies
    return [CoursePostOut.of(p, parts[p.id],
                             visibility.audience(user, p.author_id, course) in ("staff", "author"))
            for p in posts]
