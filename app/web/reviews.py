"""The staff review queue of a homework: filters, and a review form on every reply."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from app import paging
from app.deps import CsrfChecked, SessionDep, StaffUser
from app.errors import Invalid
from app.services.course_staff import require_course_staff
from app.services.courses import get_assignment
from app.services.reviews import (
    STATE_LABELS,
    STATES,
    TIMING_LABELS,
    TIMINGS,
    QueueFilter,
    State,
    Timing,
    review,
    review_queue,
)
from app.services.submissions import get_submission
from app.templating import render
from app.web.navigation import redirect, safe_next

router = APIRouter()


@router.get("/courses/{slug}/assignments/{code}/reviews")
def review_page(
    slug: str,
    code: str,
    request: Request,
    session: SessionDep,
    staff: StaffUser,
    state: State = "unreviewed",
    timing: Timing = "any",
    author: Annotated[str, Query(max_length=64)] = "",
    newest_first: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
    saved: int | None = None,
) -> Response:
    assignment = get_assignment(session, slug, code)
    require_course_staff(session, staff, assignment.course)
    # the reply just reviewed may have left this filter's list: the notice names it
    just_saved = get_submission(session, saved) if saved is not None else None
    if just_saved is not None and just_saved.assignment_id != assignment.id:
        just_saved = None
    flt = QueueFilter(state, timing, author.strip(), newest_first)
    rows, total = review_queue(session, assignment, flt, *paging.window(page, paging.REVIEW_PAGE))
    query = {"state": state, "timing": timing, "author": flt.author, "newest_first": newest_first}
    return render(
        request, "reviews.html",
        course=assignment.course, assignment=assignment, rows=rows, total=total, flt=flt,
        states=STATES, timings=TIMINGS, state_labels=STATE_LABELS, timing_labels=TIMING_LABELS,
        page=page, pages=paging.page_count(total, paging.REVIEW_PAGE),
        here=f"{request.url.path}?{urlencode({**query, 'page': page})}", query=urlencode(query),
        timezone=assignment.course.timezone, saved=just_saved,
    )


def _score(raw: str) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise Invalid("A review score is a number from 0 to {max}", max=100) from None


@router.post("/submissions/{submission_id}/review", dependencies=[CsrfChecked])
def review_form(
    submission_id: int,
    session: SessionDep,
    staff: StaffUser,
    score: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    featured: Annotated[bool, Form()] = False,
    next: Annotated[str, Form()] = "/",
) -> Response:
    submission = get_submission(session, submission_id)
    review(session, submission, staff, _score(score), comment, featured)
    target = safe_next(next).split("#", 1)[0]
    joiner = "&" if "?" in target else "?"
    return redirect(f"{target}{joiner}saved={submission.id}#review-{submission.id}")
