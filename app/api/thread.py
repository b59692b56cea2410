"""One reply in its thread: likes, edits and their history, deletion, staff hiding; and the
daily code quota of a homework."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import SubmissionOut
from app.deps import CsrfChecked, CurrentUser, SessionDep, StaffUser, get_locale
from app.models import Submission, utcnow
from app.reply_schemas import QuotaOut
from app.services import edits, final_picks, likes, visibility
from app.services.courses import get_assignment
from app.services.limits import code_quota
from app.services.submissions import get_submission

router = APIRouter(tags=["thread"])


class LikesOut(BaseModel):
    submission_id: int
    likes: int
    liked: bool | None = None
    at: datetime | None = None


class EditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=200_000)


class HideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=2000)


class EditOut(BaseModel):
    text: str
    edited_at: datetime


def _visible(submission: Submission, user: CurrentUser) -> Submission:
    visibility.check_readable(user, submission)
    return submission


@router.post("/submissions/{submission_id}/like", dependencies=[CsrfChecked])
def like(submission_id: int, session: SessionDep, user: CurrentUser) -> LikesOut:
    count = likes.like(session, get_submission(session, submission_id), user)
    return LikesOut(submission_id=submission_id, likes=count, liked=True)


@router.delete("/submissions/{submission_id}/like", dependencies=[CsrfChecked])
def unlike(submission_id: int, session: SessionDep, user: CurrentUser) -> LikesOut:
    count = likes.unlike(session, get_submission(session, submission_id), user)
    return LikesOut(submission_id=submission_id, likes=count, liked=False)


@router.get("/submissions/{submission_id}/likes")
def likes_of(submission_id: int, session: SessionDep, user: CurrentUser,
             at: datetime | None = None) -> LikesOut:
    """The like count now, or replayed from the like events at `at` (ISO 8601 with a zone)."""
    submission = _visible(get_submission(session, submission_id), user)
    if at is None:
        return LikesOut(submission_id=submission.id, likes=likes.like_count(session, submission.id),
                        liked=submission.id in likes.liked_by(session, user.id, [submission.id]))
    moment = at if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo)
    count = likes.likes_at(session, submission.id, moment)
    return LikesOut(submission_id=submission.id, likes=count, at=moment)


@router.patch("/submissions/{submission_id}", dependencies=[CsrfChecked])
def edit(submission_id: int, body: EditIn, request: Request, session: SessionDep,
         user: CurrentUser) -> SubmissionOut:
    """The author edits the text until the deadline; the floor stays, the old text is kept."""
    submission = edits.edit_text(session, get_submission(session, submission_id), user, body.text)
    return SubmissionOut.of(submission, user, get_locale(request))


@router.get("/submissions/{submission_id}/edits")
def edit_history(submission_id: int, session: SessionDep, user: CurrentUser) -> list[EditOut]:
    """Earlier versions of the text, oldest first (the author and the staff)."""
    submission = get_submission(session, submission_id)
    visibility.check_history(user, submission)
    return [EditOut(text=e.text, edited_at=e.edited_at) for e in edits.history(session, submission)]


@router.delete("/submissions/{submission_id}", status_code=204, dependencies=[CsrfChecked])
def delete(submission_id: int, session: SessionDep, user: CurrentUser) -> Response:
    """The author deletes a reply: it is hidden, its floor number stays taken."""
    edits.delete_reply(session, get_submission(session, submission_id), user)
    return Response(status_code=204)


@router.post("/submissions/{submission_id}/hide", dependencies=[CsrfChecked])
def hide(submission_id: int, body: HideIn, request: Request, session: SessionDep,
         staff: StaffUser) -> SubmissionOut:
    submission = get_submission(session, submission_id)
    edits.hide_reply(session, submission, staff, body.reason)
    return SubmissionOut.of(submission, staff, get_locale(request))


@router.post("/submissions/{submission_id}/unhide", dependencies=[CsrfChecked])
def unhide(submission_id: int, request: Request, session: SessionDep, staff: StaffUser) -> SubmissionOut:
    submission = get_submission(session, submission_id)
    edits.unhide_reply(session, submission, staff)
    return SubmissionOut.of(submission, staff, get_locale(request))


@router.get("/courses/{slug}/assignments/{code}/quota")
def quota(slug: str, code: str, session: SessionDep, user: CurrentUser) -> QuotaOut:
    """Today's code submissions on this homework: limit (None: unlimited), used, remaining, and
    when the count starts again (midnight in the course's time zone)."""
    return QuotaOut.of(code_quota(session, get_assignment(session, slug, code), user.id, utcnow()))


class FinalOut(BaseModel):
    submission_id: int
    final: bool
    #: floors of the author's final picks on this homework now
    finals: list[int]
    limit: int


def _final(submission_id: int, session: SessionDep, user: CurrentUser, final: bool) -> FinalOut:
    submission = get_submission(session, submission_id)
    floors = final_picks.set_final(session, submission, user, final)
    return FinalOut(submission_id=submission.id, final=final, finals=floors,
                    limit=final_picks.final_limit(submission.assignment.course))


@router.post("/submissions/{submission_id}/final", dependencies=[CsrfChecked])
def mark_final(submission_id: int, session: SessionDep, user: CurrentUser) -> FinalOut:
    """Before the deadline the author marks up to K submissions (course setting) as final:
    after it, the private ranking and `top_score` draws use only those (unmarked: the K best
    public scores). More than K, or after the deadline: refused, nothing changes."""
    return _final(submission_id, session, user, True)


@router.delete("/submissions/{submission_id}/final", dependencies=[CsrfChecked])
def unmark_final(submission_id: int, session: SessionDep, user: CurrentUser) -> FinalOut:
    return _final(submission_id, session, user, False)
