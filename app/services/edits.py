"""Editing, deleting and hiding replies. Floors never change: a deleted or hidden reply keeps
its number and shows as a placeholder.

* The author may edit the text until the homework's deadline. The text before each edit is
  kept (`submission_edits`). Homework graded on the text is graded again; code-graded homework
  keeps its verdict (the code did not change).
* The author may delete a reply (it is hidden, not removed: draws and the audit log still know
  it existed). Staff may hide any reply, with a reason, and show it again. Both are audited.
* Two changes that would rig prizes are refused: editing a reply the staff already reviewed
  (the score and "featured" mark were given to the old text; `top_score` draws `by: review`
  would rank the new one by it), and deleting an on-time reply after the deadline (fixed-rank
  prizes count positions among the on-time replies: one deletion moves everyone after it, so a
  student with spare accounts could place one on a winning position once the list is final).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import after_commit
from app.errors import Forbidden, Invalid
from app.live import announce_after_commit
from app.models import CoursePost, GradingAttempt, Status, Submission, SubmissionEdit, User, utcnow
from app.queue import enqueue_grading
from app.services.audit import record
from app.services.course_staff import require_course_staff
from app.services.homework_settings import grades_code
from app.services.rejudge import SUPERSEDED, SUPERSEDED_ERROR
from app.services.submissions import clean_text
from app.services.visibility import check_own, check_unhide, check_unreviewed

MAX_REASON = 500


def edit_text(session: Session, submission: Submission, user: User, text: str | None,
              now: datetime | None = None) -> Submission:
    now = now or utcnow()
    check_own(user, submission)
    assignment = submission.assignment
    if assignment.is_late(now):
        raise Forbidden("Replies to homework {code} can no longer be edited: the deadline has passed",
                        code=assignment.code)
    check_unreviewed(submission)
    text = clean_text(text)
    if not text and not submission.attachments:
        raise Invalid("The reply is empty: write an answer or attach a file")
    if text == submission.text:
        return submission
    session.add(SubmissionEdit(submission_id=submission.id, editor_id=user.id, text=submission.text,
                               edited_at=now))
    submission.text, submission.edited_at = text, now
    if not grades_code(assignment):
        _grade_again(session, submission, now)
    session.flush()
    return submission


def _grade_again(session: Session, submission: Submission, now: datetime) -> None:
    """A new grading round, as a rejudge starts one: waiting again with a fresh set of tries; a
    grading still running on the old text is closed as superseded and cannot store its verdict
    (it no longer holds a running claim). The old verdict is cleared: it was about the old text."""
    if submission.status != Status.queued.value:
        session.execute(
            update(GradingAttempt)
            .where(GradingAttempt.submission_id == submission.id, GradingAttempt.outcome.is_(None))
            .values(outcome=SUPERSEDED, finished_at=now, error=SUPERSEDED_ERROR)
        )
    submission.status, submission.queued_at, submission.lease_until = Status.queued.value, now, None
    submission.attempt_base, submission.resend_at, submission.error = submission.attempts, None, None
    submission.low_priority = False  # the student changed it: not a rejudge
    submission.verdict = submission.score = None
    submission.messages, submission.detail = {}, {}
    submission_id, queue = submission.id, submission.assignment.queue
    after_commit(session, lambda: enqueue_grading(submission_id, queue))
    announce_after_commit(session, [submission_id])  # open live panels read it again at once


def history(session: Session, submission: Submission) -> list[SubmissionEdit]:
    return list(session.scalars(
        select(SubmissionEdit).where(SubmissionEdit.submission_id == submission.id)
        .order_by(SubmissionEdit.id)
    ))


def delete_reply(session: Session, submission: Submission, user: User, now: datetime | None = None) -> None:
    now = now or utcnow()
    check_own(user, submission)
    if not submission.is_late and submission.assignment.is_late(now):
        raise Forbidden("Replies to homework {code} can no longer be deleted: the deadline has passed "
                        "and prize positions are fixed. Ask the staff to hide it if it must go",
                        code=submission.assignment.code)
    _hide(submission, "author", now)
    announce_after_commit(session, [submission.id])
    record(session, user, "submission.delete", f"submission:{submission.id}", {"floor": submission.floor})


def hide_reply(session: Session, submission: Submission, staff: User, reason: str,
               now: datetime | None = None) -> None:
    require_course_staff(session, staff, submission.assignment.course)
    reason = reason.strip()[:MAX_REASON]
    if not reason:
        raise Invalid("Say why the reply is hidden")
    _hide(submission, "staff", now or utcnow())
    announce_after_commit(session, [submission.id])  # an open live panel stops showing it at once
    record(session, staff, "submission.hide", f"submission:{submission.id}",
           {"floor": submission.floor, "reason": reason})


def unhide_reply(session: Session, submission: Submission, staff: User) -> None:
    require_course_staff(session, staff, submission.assignment.course)
    check_unhide(submission)
    submission.hidden, submission.hidden_by, submission.hidden_at = False, None, None
    session.flush()
    record(session, staff, "submission.unhide", f"submission:{submission.id}", {"floor": submission.floor})


def _hide(item: Submission | CoursePost, by: str, now: datetime) -> None:
    item.hidden, item.hidden_by, item.hidden_at = True, by, now


def hide_post(session: Session, post: CoursePost, user: User, reason: str = "",
              now: datetime | None = None) -> None:
    """A course-thread post: deleted by its author, or hidden by the staff (with a reason)."""
    if user.id == post.author_id:
        _hide(post, "author", now or utcnow())
        record(session, user, "course_post.delete", f"course_post:{post.id}", {})
        return
    if not user.is_staff:
        raise Forbidden("Only the author can change this reply")
    require_course_staff(session, user, post.course)
    reason = reason.strip()[:MAX_REASON]
    if not reason:
        raise Invalid("Say why the reply is hidden")
    _hide(post, "staff", now or utcnow())
    record(session, user, "course_post.hide", f"course_post:{post.id}", {"reason": reason})


def histories(session: Session, submission_ids: list[int]) -> dict[int, list[SubmissionEdit]]:
    """Submission id -> its earlier versions, oldest first (for the ones listed only)."""
    found: dict[int, list[SubmissionEdit]] = {}
    if submission_ids:
        query = select(SubmissionEdit).where(SubmissionEdit.submission_id.in_(submission_ids))
        for edit in session.scalars(query.order_by(SubmissionEdit.id)):
            found.setdefault(edit.submission_id, []).append(edit)
    return found
