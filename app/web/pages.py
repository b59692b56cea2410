"""Home, course, homework thread, posting a reply, my submissions."""

from __future__ import annotations

from functools import partial
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from app import oversized_form, paging
from app.config import PROJECT_ROOT
from app.deps import CsrfChecked, CurrentUser, OptionalUser, SessionDep, committed_in_thread, get_locale
from app.errors import CampError, NotFound, error_headers
from app.models import Assignment, Submission, utcnow
from app.services import replies as reply_service
from app.services import visibility
from app.services.courses import get_assignment, get_course, homework_for_reply, list_courses
from app.services.homework_settings import grades_code
from app.services.quotes import quote_of
from app.services.submissions import for_author, thread, thread_length
from app.services.uploads import CheckedFile
from app.templating import render
from app.upload_reader import checked_uploads
from app.web import once, thread_cache
from app.web.course_thread import render_course
from app.web.forms import error_text
from app.web.thread import thread_view

router = APIRouter()


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """Browsers and feed readers ask for /favicon.ico whatever the page links: a 404 in every log."""
    return FileResponse(PROJECT_ROOT / "app" / "static" / "favicon.svg", media_type="image/svg+xml",
                        headers={"cache-control": "public, max-age=86400"})


@router.get("/")
def home(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    return render(request, "home.html", courses=list_courses(session))


@router.get("/courses/{slug}")
def course_page(
    slug: str,
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    page: Annotated[int, Query(ge=1)] = 1,
    posted: int | None = None,
) -> Response:
    return render_course(request, session, get_course(session, slug), page, posted=posted)


@router.get("/courses/{slug}/assignments/{code}")
def assignment_page(
    slug: str,
    code: str,
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    page: Annotated[int, Query(ge=1)] = 1,
    posted: str | None = None,
    quote: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    assignment = get_assignment(session, slug, code)
    viewer = request.state.viewer
    draft = quote_of(session, assignment, quote, viewer) if quote and viewer else ""
    return _assignment_view(request, session, assignment, page, text=draft, posted=posted)


def _assignment_view(request: Request, session: SessionDep, assignment: Assignment, page: int = 1,
                     error: str | None = None, text: str = "", status_code: int = 200,
                     posted: str | None = None) -> Response:
    viewer = request.state.viewer
    replies: list[Submission | Markup]
    shared = None
    if error is None and thread_cache.serves(viewer, assignment):
        shared = thread_cache.shared_thread(session, assignment, page, get_locale(request),
                                            request.app.state.settings.default_timezone)
    if shared is not None:
        mine = thread_cache.personal_thread(session, assignment, shared, viewer,
                                            request.session.get("csrf", ""), posted)
        replies, view, total = mine.replies, mine.view, mine.total
    else:
        loaded = thread(session, assignment, *paging.window(page, paging.THREAD_PAGE))
        # deleted and hidden replies keep their floor and show as placeholders
        total = thread_length(session, assignment)
        view = thread_view(session, assignment, loaded, viewer, posted)
        replies = list(loaded)
    if page > paging.page_count(total, paging.THREAD_PAGE):
        # floors are never removed, so no link leads past the end: nothing to show, nor to cache
        raise NotFound("This page does not exist")
    return render(
        request,
        "assignment.html",
        status_code,

        course=assignment.course,
        assignment=assignment,
        replies=replies,
        page=page,
        pages=paging.page_count(total, paging.THREAD_PAGE),
        thread_page_size=paging.THREAD_PAGE,
        total=total,
        now=utcnow(),
        timezone=assignment.course.timezone,
        error=error,
        draft=text,
        login_next=quote(str(request.url.path)),
        view=view,
        sealed_until_due=visibility.is_sealed(assignment),
        grades_code=grades_code(assignment),
    )


@router.post("/courses/{slug}/assignments/{code}/replies", dependencies=[CsrfChecked])
async def post_reply(
    slug: str,
    code: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    text: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, Form()] = None,
    idempotency_key: Annotated[str | None, Form()] = None,
) -> Response:
    assignment = await run_in_threadpool(homework_for_reply, session, slug, code)

    def file(checked: list[CheckedFile]) -> Response:
        taken = once.take_token(request, session, user, idempotency_key, text, checked)
        if isinstance(taken, Response):
            return taken
        posted = reply_service.post_reply(session, assignment.course, user, text, checked, default=assignment)
        # Parts naming other homework were filed there; the page lists where each part went.
        submission = posted.submissions.get(code) or next(iter(posted.submissions.values()))
        ids = ",".join(str(s.id) for s in posted.submissions.values())
        target = submission.assignment
        return once.answer(
            session, taken, paging.floor_url(slug, target.code, submission.floor, posted=ids))

    try:
        oversized_form.raise_if_refused(request.scope)
        checked = await checked_uploads(request, files)
        # the database work and its commit in the thread pool, never on the event loop (app/deps.py)
        return await committed_in_thread(session, partial(file, checked))
    except CampError as exc:
        # the page renders every reply's Markdown: in the thread pool, not on the event loop
        shown = await run_in_threadpool(partial(_assignment_view, request, session, assignment,
                                                error=error_text(request, exc), text=text,
                                                status_code=exc.status_code))
        shown.headers.update(error_headers(exc))  # Retry-After for a reply posted too fast
        return shown


@router.get("/me/submissions")
def my_submissions(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return render(request, "my_submissions.html", submissions=for_author(session, user))
