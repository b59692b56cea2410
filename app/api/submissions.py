"""Posting a reply to one homework and reading its grading status."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.api.idempotent import answer, take_key
from app.api.schemas import SubmissionOut
from app.deps import CsrfChecked, CurrentUser, OptionalUser, SessionDep, committed_in_thread, get_locale
from app.models import User, utcnow
from app.reply_schemas import PartOut, reply_out
from app.services import visibility
from app.services.courses import homework_for_reply
from app.services.replies import post_reply
from app.services.submissions import for_author, get_submission
from app.services.uploads import CheckedFile
from app.upload_reader import checked_uploads

router = APIRouter(tags=["submissions"])


class SubmissionCreatedOut(SubmissionOut):
    #: every part the reply was filed as (one, unless it named several homework)
    parts: list[PartOut]


@router.post(
    "/courses/{slug}/assignments/{code}/submissions",
    status_code=201,
    dependencies=[CsrfChecked],
    response_model=SubmissionCreatedOut,
)
async def create_submission(
    slug: str,
    code: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    text: Annotated[str | None, Form()] = None,
    files: Annotated[list[UploadFile] | None, Form()] = None,
) -> Response:
    """A reply to this homework. Parts naming another homework (`作业7-2：…`) are split off and
    filed there (listed in `parts`); the body is this homework's submission (or the first part's,
    when the reply only names other homework). With an `Idempotency-Key` header, a retry answers
    with the first request's body (header `Idempotent-Replayed: true`) and files nothing."""
    checked = await checked_uploads(request, files)
    # the database work and its commit in the thread pool, never on the event loop (app/deps.py)
    work = partial(_file, request, session, user, slug, code, text, checked)
    return await committed_in_thread(session, work)


def _file(request: Request, session: Session, user: User, slug: str, code: str, text: str | None,
          checked: list[CheckedFile]) -> Response:
    assignment = homework_for_reply(session, slug, code)
    taken = take_key(request, session, user, text, checked)
    if isinstance(taken, Response):
        return taken
    now, locale = utcnow(), get_locale(request)
    posted = post_reply(session, assignment.course, user, text, checked, default=assignment, now=now)
    submission = posted.submissions.get(code) or next(iter(posted.submissions.values()))
    body = SubmissionCreatedOut(
        # a reply just filed has no likes yet
        **SubmissionOut.of(submission, user, locale, likes=0).model_dump(),
        parts=reply_out(posted.plan, locale, now, posted=posted, on_homework=True).parts,
    )
    return answer(session, taken, body.model_dump(mode="json"))


@router.get("/submissions/{submission_id}")
def read_submission(
    submission_id: int, request: Request, session: SessionDep, user: OptionalUser
) -> SubmissionOut:
    submission = get_submission(session, submission_id)
    visibility.check_readable(user, submission)
    return SubmissionOut.of(submission, user, get_locale(request))


@router.get("/me/submissions")
def my_submissions(request: Request, session: SessionDep, user: CurrentUser) -> list[SubmissionOut]:
    locale = get_locale(request)
    return SubmissionOut.many(for_author(session, user), user, locale)
