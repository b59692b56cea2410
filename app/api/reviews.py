"""Staff reviews: score, comment and featured mark on a reply; the queue of replies to review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import SubmissionOut
from app.deps import CsrfChecked, SessionDep, StaffUser, get_locale
from app.services.course_staff import require_course_staff
from app.services.courses import get_assignment
from app.services.reviews import QueueFilter, State, Timing, review, review_queue
from app.services.submissions import get_submission

router = APIRouter(tags=["reviews"])


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: float | None = None
    comment: str | None = Field(default=None, max_length=4000)
    featured: bool = False


class QueueOut(BaseModel):
    total: int
    items: list[SubmissionOut]


@router.put("/submissions/{submission_id}/review", dependencies=[CsrfChecked])
def put_review(submission_id: int, body: ReviewIn, request: Request, session: SessionDep,
               staff: StaffUser) -> SubmissionOut:
    """Score 0–100 (or null), a comment the author sees, and the public featured mark."""
    submission = get_submission(session, submission_id)
    review(session, submission, staff, body.score, body.comment, body.featured)
    return SubmissionOut.of(submission, staff, get_locale(request))


@router.get("/courses/{slug}/assignments/{code}/reviews")
def queue(
    slug: str,
    code: str,
    request: Request,
    session: SessionDep,
    staff: StaffUser,
    state: State = "unreviewed",
    timing: Timing = "any",
    author: Annotated[str, Query(max_length=64)] = "",
    newest_first: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> QueueOut:
    """Students' text replies (not hidden) to review: `state` unreviewed (default), reviewed,
    featured or all; `timing` any, on_time or late; `author` part of a name."""
    assignment = get_assignment(session, slug, code)
    require_course_staff(session, staff, assignment.course)
    rows, total = review_queue(session, assignment, QueueFilter(state, timing, author.strip(), newest_first),
                               offset, limit)
    locale = get_locale(request)
    return QueueOut(total=total, items=SubmissionOut.many(rows, staff, locale))
