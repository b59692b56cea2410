"""Search pages: a course (every homework thread and the course thread) or one homework thread.
What a viewer may find is decided by `app.services.search` with the visibility rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.deps import OptionalUser, SessionDep
from app.errors import CampError
from app.models import Assignment, Course
from app.search_gate import request_key, search_slot
from app.services import search
from app.services.courses import get_assignment, get_course
from app.templating import render
from app.web.forms import error_text

router = APIRouter()
#: characters of a refused search kept in the box (the rest was never going to be searched)
ECHO_CHARS = 200
PageNumber = Annotated[int, Query(ge=1, le=10_000)]


@router.get("/courses/{slug}/search")
def course_search(slug: str, request: Request, session: SessionDep, user: OptionalUser,
                  q: str = "", page: PageNumber = 1) -> Response:
    course = get_course(session, slug)
    return _page(request, course, None, q, page,
                 lambda: search.search_course(session, course, q, request.state.viewer, page))


@router.get("/courses/{slug}/assignments/{code}/search")
def homework_search(slug: str, code: str, request: Request, session: SessionDep, user: OptionalUser,
                    q: str = "", page: PageNumber = 1) -> Response:
    assignment = get_assignment(session, slug, code)
    course = assignment.course
    return _page(request, course, assignment, q, page,
                 lambda: search.search_homework(session, assignment, q, request.state.viewer, page))


def _page(request: Request, course: Course, assignment: Assignment | None, q: str, page: int,
          run: Callable[[], search.Results]) -> Response:
    results, error, status = None, None, 200
    viewer = request.state.viewer
    try:
        with search_slot(request_key(request, viewer.id if viewer else None)):
            results = run()
    except CampError as exc:
        error, status = error_text(request, exc), exc.status_code
    action = (f"/courses/{course.slug}/assignments/{assignment.code}/search" if assignment
              else f"/courses/{course.slug}/search")
    return render(request, "search.html", status, course=course, assignment=assignment,
                  q=q[:ECHO_CHARS], results=results, error=error, action=action,
                  timezone=course.timezone, max_chars=search.MAX_QUERY_CHARS)
