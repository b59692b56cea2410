"""The course page and its thread: replies that may answer several homework at once, split by
their `作业X-Y` prefixes. The form previews where each part goes (`thread.js` asks the preview
API as the student types; without JavaScript the "Preview" button renders the same on the page)
and, after posting, the post shows where its parts went."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app import oversized_form, paging
from app.deps import CsrfChecked, CurrentUser, SessionDep, committed_in_thread, get_locale
from app.errors import CampError, error_headers
from app.models import Course, utcnow
from app.reply_schemas import reply_out
from app.services import edits
from app.services.courses import get_course
from app.services.homework_chips import CHIP_LABELS, chips_for
from app.services.replies import (
    count_posts,
    course_posts,
    file_refs,
    get_post,
    parts_of,
    plan_reply,
    post_reply,
    quotas,
)
from app.services.submissions import clean_text, reply_counts
from app.services.uploads import CheckedFile
from app.templating import render
from app.upload_reader import checked_uploads
from app.web import once
from app.web.forms import error_text
from app.web.navigation import redirect

router = APIRouter()


def render_course(request: Request, session: Session, course: Course, page: int = 1,
                  status_code: int = 200, **extra: Any) -> Response:
    counts = reply_counts(session, course.assignments)
    posts = course_posts(session, course, *paging.window(page, paging.COURSE_POST_PAGE))
    now = utcnow()
    chips = chips_for(session, course.assignments, request.state.viewer, now)
    context: dict[str, Any] = {"error": None, "draft": "", "preview": None, "preview_files": False,
                               "posted": None}
    context.update(extra)
    return render(
        request, "course.html", status_code,
        course=course, counts=counts, now=now, timezone=course.timezone,
        chips=chips, chip_labels=CHIP_LABELS,
        posts=posts, post_parts=parts_of(session, [p.id for p in posts]), post_page=page,
        post_pages=paging.page_count(count_posts(session, course), paging.COURSE_POST_PAGE),
        **context,
    )


@router.post("/courses/{slug}/replies", dependencies=[CsrfChecked])
async def post_course_reply(
    slug: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    text: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, Form()] = None,
    action: Annotated[str, Form()] = "post",
    idempotency_key: Annotated[str | None, Form()] = None,
) -> Response:
    course = await run_in_threadpool(get_course, session, slug)

    def file(checked: list[CheckedFile]) -> Response:
        taken = once.take_token(request, session, user, idempotency_key, text, checked)
        if isinstance(taken, Response):
            return taken
        posted = post_reply(session, course, user, text, checked)
        assert posted.post is not None
        return once.answer(session, taken, f"/courses/{slug}?posted={posted.post.id}#post-{posted.post.id}")

    try:
        oversized_form.raise_if_refused(request.scope)
        if action == "preview":  # renders the course thread's Markdown: in the thread pool
            return await run_in_threadpool(_preview, request, session, course, user, text, files or [])
        checked = await checked_uploads(request, files)
        # the database work and its commit in the thread pool, never on the event loop (app/deps.py)
        return await committed_in_thread(session, partial(file, checked))
    except CampError as exc:
        await run_in_threadpool(session.rollback)
        shown = await run_in_threadpool(partial(render_course, request, session, course,
                                                error=error_text(request, exc), draft=text,
                                                status_code=exc.status_code))
        shown.headers.update(error_headers(exc))  # Retry-After for a reply posted too fast
        return shown


def _preview(request: Request, session: Session, course: Course, user: CurrentUser, text: str,
             files: list[UploadFile]) -> Response:
    """The no-JavaScript preview: where each part goes; chosen files are not kept (the page says so)."""
    now = utcnow()
    names = file_refs([f.filename or "" for f in files])
    plan = plan_reply(course, clean_text(text), names)
    preview = reply_out(plan, get_locale(request), now, quotas(session, plan, user, now))
    return render_course(request, session, course, draft=text, preview=preview, preview_files=bool(names))


@router.post("/posts/{post_id}/hide", dependencies=[CsrfChecked])
def hide_post(post_id: int, session: SessionDep, user: CurrentUser,
              reason: Annotated[str, Form()] = "") -> Response:
    """The author deletes their course post; the staff hide one (with a reason)."""
    post = get_post(session, post_id)
    edits.hide_post(session, post, user, reason)
    return redirect(f"/courses/{post.course.slug}#post-{post.id}")
