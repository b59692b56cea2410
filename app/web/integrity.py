"""The staff's fair-prize page of a homework: similar replies side by side, suspicious likes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.deps import CsrfChecked, SessionDep, StaffUser
from app.errors import CampError
from app.models import Assignment
from app.services import like_review, similarity
from app.services.course_staff import require_course_staff
from app.services.courses import get_assignment
from app.services.submissions import by_ids
from app.templating import render
from app.web.forms import error_text
from app.web.navigation import redirect

router = APIRouter()
PAGE = "/courses/{slug}/assignments/{code}/integrity"


def _page(request: Request, session: SessionDep, assignment: Assignment, error: str | None = None,
          notice: str | None = None, status_code: int = 200) -> Response:
    pairs = similarity.queue(session, assignment)
    ids = {i for p in pairs for i in (p.first_id, p.second_id)}
    replies = {s.id: s for s in by_ids(session, ids)}
    return render(
        request, "integrity.html", status_code, course=assignment.course, assignment=assignment,
        pairs=pairs, replies=replies, sources={i: similarity.code_of(s) for i, s in replies.items()},
        decided={state: len(similarity.queue(session, assignment, state))
                 for state in ("confirmed", "dismissed")},
        clusters=like_review.suspicious_clusters(session, assignment),
        excluded=like_review.excluded_likers(session, assignment),
        like_draws=like_review.running_like_draws(session, assignment),
        error=error, notice=notice, timezone=assignment.course.timezone,
    )


@router.get(PAGE)
def integrity_page(slug: str, code: str, request: Request, session: SessionDep, staff: StaffUser) -> Response:
    assignment = get_assignment(session, slug, code)
    require_course_staff(session, staff, assignment.course)
    return _page(request, session, assignment)


@router.post(PAGE + "/compare", dependencies=[CsrfChecked])
def compare_form(slug: str, code: str, request: Request, session: SessionDep, staff: StaffUser) -> Response:
    assignment = get_assignment(session, slug, code)
    try:
        similarity.run(session, assignment, staff)
    except CampError as exc:
        session.rollback()
        return _page(request, session, assignment, error_text(request, exc), status_code=exc.status_code)
    return redirect(PAGE.format(slug=slug, code=code) + "#similar")


@router.post("/similar/{pair_id}/decide", dependencies=[CsrfChecked])
def decide_form(pair_id: int, request: Request, session: SessionDep, staff: StaffUser,
                action: Annotated[str, Form()] = "",
                note: Annotated[str, Form(max_length=500)] = "") -> Response:
    pair = similarity.get_pair(session, pair_id)
    assignment = session.get(Assignment, pair.assignment_id)
    assert assignment is not None
    try:
        similarity.decide(session, pair, staff, action == "confirm", note)
    except CampError as exc:
        session.rollback()
        return _page(request, session, assignment, error_text(request, exc), status_code=exc.status_code)
    return redirect(PAGE.format(slug=assignment.course.slug, code=assignment.code) + "#similar")


@router.post(PAGE + "/exclude-likers", dependencies=[CsrfChecked])
def exclude_likers_form(slug: str, code: str, request: Request, session: SessionDep, staff: StaffUser,
                        user_ids: Annotated[list[int] | None, Form()] = None,
                        reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    assignment = get_assignment(session, slug, code)
    try:
        like_review.exclude_likers(session, assignment, staff, user_ids or [], reason)
    except CampError as exc:
        session.rollback()
        return _page(request, session, assignment, error_text(request, exc), status_code=exc.status_code)
    return redirect(PAGE.format(slug=slug, code=code) + "#likes")
