"""A reply in the homework thread, as a page sees it: likes, edit, delete, staff hide. Plain
POST forms with CSRF that redirect back to the reply's floor (`thread.js` makes likes instant)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app import paging
from app.deps import CsrfChecked, CurrentUser, SessionDep, StaffUser, Viewer
from app.errors import CampError
from app.input_guard import small_int
from app.models import Assignment, Submission, SubmissionEdit, utcnow
from app.services import edits, final_picks, likes, visibility
from app.services.homework_settings import likes_close_at
from app.services.limits import CodeQuota, code_quota
from app.services.submissions import by_ids, get_submission
from app.templating import render
from app.web.forms import error_text
from app.web.navigation import redirect

router = APIRouter()


def floor_url(s: Submission) -> str:
    """Where a reply is shown: its thread page (floors are never renumbered, so the page is fixed)."""
    return paging.floor_url(s.assignment.course.slug, s.assignment.code, s.floor)


@dataclass(frozen=True)
class LikeState:
    """How a like button shows whether the viewer liked the reply (the form's action, the
    button's extra class, its aria-pressed)."""

    action: str
    css: str
    pressed: str


LIKED = LikeState("unlike", " liked", "true")
NOT_LIKED = LikeState("like", "", "false")


@dataclass
class ThreadView:
    likes: dict[int, int]
    liked: set[int]
    likes_open: bool
    editable: bool  # before the deadline: authors may edit their text
    quota: CodeQuota | None
    history: dict[int, list[SubmissionEdit]] = field(default_factory=dict)
    posted: list[Submission] = field(default_factory=list)
    #: final picks: the course's limit when this homework has a private ranking, else None
    final_limit: int | None = None
    my_finals: int = 0

    def like_state(self, submission_id: int) -> LikeState:
        return LIKED if submission_id in self.liked else NOT_LIKED


def _posted(session: Session, viewer: Viewer | None, posted: str | None) -> list[Submission]:
    """The parts of the reply just posted (`?posted=3,4`), the viewer's own only."""
    ids = [n for p in (posted or "").split(",")[:20] if (n := small_int(p)) is not None]
    if viewer is None or not ids:
        return []
    return sorted(by_ids(session, ids, author_id=viewer.id), key=lambda s: ids.index(s.id))


def thread_view(session: Session, assignment: Assignment, replies: list[Submission],
                viewer: Viewer | None, posted: str | None = None, now: datetime | None = None) -> ThreadView:
    now = now or utcnow()
    ids = [s.id for s in replies]
    closes = likes_close_at(assignment)
    private = [s.id for s in replies if visibility.sight(viewer, s, now).private]
    history = edits.histories(session, private)
    quota = code_quota(session, assignment, viewer.id, now) if viewer else None
    return ThreadView(
        likes=likes.like_counts(session, ids),
        liked=likes.liked_by(session, viewer.id if viewer else None, ids),
        likes_open=closes is None or now < closes,
        editable=not assignment.is_late(now),
        quota=quota if quota and quota.limit is not None else None,
        history=history,
        posted=_posted(session, viewer, posted),
        final_limit=final_picks.final_limit(assignment.course) if final_picks.has_split(assignment) else None,
        my_finals=len(final_picks.picks_of(session, assignment, viewer.id)) if viewer else 0,
    )


@router.post("/submissions/{submission_id}/like", dependencies=[CsrfChecked])
def like_form(submission_id: int, session: SessionDep, user: CurrentUser,
              action: Annotated[str, Form()] = "like") -> Response:
    submission = get_submission(session, submission_id)
    if action == "unlike":
        likes.unlike(session, submission, user)
    else:
        likes.like(session, submission, user)
    return redirect(floor_url(submission))


@router.post("/submissions/{submission_id}/final", dependencies=[CsrfChecked])
def final_form(submission_id: int, request: Request, session: SessionDep, user: CurrentUser,
               action: Annotated[str, Form()] = "mark") -> Response:
    submission = get_submission(session, submission_id)
    final_picks.set_final(session, submission, user, action != "unmark")
    return redirect(floor_url(submission))


@router.get("/submissions/{submission_id}/edit")
def edit_page(submission_id: int, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    submission = get_submission(session, submission_id)
    visibility.check_editable(user, submission)
    return _edit_view(request, submission, submission.text)


def _edit_view(request: Request, submission: Submission, text: str, error: str | None = None,
               status_code: int = 200) -> Response:
    a = submission.assignment
    return render(request, "edit_reply.html", status_code, submission=submission, assignment=a,
                  course=a.course, draft=text, error=error, back=floor_url(submission),
                  timezone=a.course.timezone)


@router.post("/submissions/{submission_id}/edit", dependencies=[CsrfChecked])
def edit_form(submission_id: int, request: Request, session: SessionDep, user: CurrentUser,
              text: Annotated[str, Form()] = "") -> Response:
    submission = get_submission(session, submission_id)
    try:
        edits.edit_text(session, submission, user, text)
    except CampError as exc:
        session.rollback()
        return _edit_view(request, submission, text, error_text(request, exc), exc.status_code)
    return redirect(floor_url(submission))


@router.post("/submissions/{submission_id}/delete", dependencies=[CsrfChecked])
def delete_form(submission_id: int, session: SessionDep, user: CurrentUser) -> Response:
    submission = get_submission(session, submission_id)
    edits.delete_reply(session, submission, user)
    return redirect(floor_url(submission))


@router.post("/submissions/{submission_id}/hide", dependencies=[CsrfChecked])
def hide_form(submission_id: int, session: SessionDep, staff: StaffUser,
              reason: Annotated[str, Form()] = "") -> Response:
    submission = get_submission(session, submission_id)
    edits.hide_reply(session, submission, staff, reason)
    return redirect(floor_url(submission))


@router.post("/submissions/{submission_id}/unhide", dependencies=[CsrfChecked])
def unhide_form(submission_id: int, session: SessionDep, staff: StaffUser) -> Response:
    submission = get_submission(session, submission_id)
    edits.unhide_reply(session, submission, staff)
    return redirect(floor_url(submission))
