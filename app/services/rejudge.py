"""Rejudging: grade a submission (or a whole homework) again with the current grader and config.

A rejudge starts a new grading round: the submission goes back to `queued` with a fresh set of
tries (`attempt_base`) and at low priority (first gradings and edits go before it), while its
earlier `GradingAttempt` rows stay as history. Its verdict and score stay until the new verdict
overwrites them; leaderboards count `scored` submissions, so they follow the new results as they
arrive. A grading that was running is overtaken: its attempt is closed as `superseded` and its
result, if it still comes, is not stored (it no longer holds the claim). Every rejudge is
written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import after_commit
from app.live import announce
from app.models import (
    Assignment,
    GradingAttempt,
    Status,
    Submission,
    User,
    utcnow,
)
from app.queue import enqueue_grading
from app.services.audit import record
from app.services.course_staff import require_course_staff

SUPERSEDED = "superseded"
SUPERSEDED_ERROR = "a rejudge started a new grading round while this attempt ran"


@dataclass(frozen=True)
class Rejudged:
    ids: list[int]
    #: submissions that were already waiting for a grader (left as they are)
    already_queued: int


def _restart(session: Session, where: list[object]) -> list[int]:
    """Put the matching submissions back in the queue for a new round; returns their ids."""
    now = utcnow()
    ids = list(session.scalars(
        update(Submission)
        .where(Submission.status != Status.queued.value, *where)  # type: ignore[arg-type]
        .values(status=Status.queued.value, attempt_base=Submission.attempts, queued_at=now,
                resend_at=None, lease_until=None, error=None, low_priority=True)
        .returning(Submission.id)
    ))
    if ids:
        session.execute(
            update(GradingAttempt)
            .where(GradingAttempt.submission_id.in_(ids), GradingAttempt.outcome.is_(None))
            .values(outcome=SUPERSEDED, finished_at=now, error=SUPERSEDED_ERROR)
        )
    return ids


def _send_after_commit(session: Session, ids: list[int], queue: str) -> None:
    def send() -> None:
        for submission_id in ids:
            enqueue_grading(submission_id, queue)
        announce(ids)  # open live panels show the new round

    after_commit(session, send)


def rejudge_submission(session: Session, submission: Submission, actor: User) -> bool:
    """Grade one submission again; False when it was already waiting for a grader."""
    require_course_staff(session, actor, submission.assignment.course)
    before = {"status": submission.status, "verdict": submission.verdict, "score": submission.score,
              "attempts": submission.attempts}
    ids = _restart(session, [Submission.id == submission.id])
    session.refresh(submission)
    if not ids:
        return False
    record(session, actor, "submission.rejudge", f"submission:{submission.id}", {"before": before})
    _send_after_commit(session, ids, submission.assignment.queue)
    return True


def rejudge_assignment(session: Session, assignment: Assignment, actor: User) -> Rejudged:
    """Grade every submission of a homework again (hidden ones too: the staff may unhide them)."""
    require_course_staff(session, actor, assignment.course)
    ids = _restart(session, [Submission.assignment_id == assignment.id])
    waiting = session.scalars(
        select(Submission.id).where(Submission.assignment_id == assignment.id,
                                    Submission.status == Status.queued.value,
                                    Submission.id.not_in(ids))
    ).all()
    subject = f"assignment:{assignment.course.slug}/{assignment.code}"
    record(session, actor, "assignment.rejudge", subject,
           {"rejudged": len(ids), "already_queued": len(waiting)})
    _send_after_commit(session, sorted(ids), assignment.queue)
    return Rejudged(ids=sorted(ids), already_queued=len(waiting))


def attempts_of(session: Session, submission: Submission) -> list[GradingAttempt]:
    """The grading history of one submission, oldest first."""
    return list(session.scalars(
        select(GradingAttempt).where(GradingAttempt.submission_id == submission.id)
        .order_by(GradingAttempt.number)
    ))
