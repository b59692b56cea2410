"""Staff reviews of text replies: a score (0–100), a comment for the author, a public "featured"
mark; and the queue of replies still waiting for one, per homework, with filters."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.i18n import lazy
from app.models import Assignment, Role, Submission, User, utcnow
from app.services import notifications
from app.services.audit import record
from app.services.course_staff import require_course_staff
from app.services.submissions import LIST_LOADING

State = Literal["unreviewed", "reviewed", "featured", "all"]
Timing = Literal["any", "on_time", "late"]
STATES: tuple[State, ...] = ("unreviewed", "reviewed", "featured", "all")
TIMINGS: tuple[Timing, ...] = ("any", "on_time", "late")
STATE_LABELS = {"unreviewed": lazy("Not reviewed yet"), "reviewed": lazy("Reviewed"),
                "featured": lazy("Featured"), "all": lazy("All")}
TIMING_LABELS = {"any": lazy("Any time"), "on_time": lazy("Before the deadline"), "late": lazy("Late")}
MAX_SCORE = 100.0
MAX_COMMENT = 4000


@dataclass(frozen=True)
class QueueFilter:
    state: State = "unreviewed"
    timing: Timing = "any"
    author: str = ""  # part of the author's name
    newest_first: bool = False


def review(session: Session, submission: Submission, staff: User, score: float | None,
           comment: str | None, featured: bool, now: datetime | None = None) -> Submission:
    require_course_staff(session, staff, submission.assignment.course)
    if score is not None and (not math.isfinite(score) or not 0 <= score <= MAX_SCORE):
        raise Invalid("A review score is a number from 0 to {max}", max=int(MAX_SCORE))
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid("A review comment has at most {n} characters", n=MAX_COMMENT)
    submission.review_score, submission.review_comment = score, comment or None
    submission.featured, submission.reviewed_at = featured, now or utcnow()
    submission.reviewer_id = staff.id
    session.flush()
    record(session, staff, "submission.review", f"submission:{submission.id}",
           {"score": score, "featured": featured, "comment_chars": len(comment)})
    notifications.reviewed(session, submission, staff)
    return submission


def _queue_query(assignment: Assignment, flt: QueueFilter) -> Select[Submission]:
    query = (
        select(Submission).join(User, User.id == Submission.author_id)
        .where(Submission.assignment_id == assignment.id, Submission.hidden.is_(False),
               Submission.text != "", User.role == Role.student.value)
    )
    if flt.state == "unreviewed":
        query = query.where(Submission.reviewed_at.is_(None))
    elif flt.state == "reviewed":
        query = query.where(Submission.reviewed_at.is_not(None))
    elif flt.state == "featured":
        query = query.where(Submission.featured.is_(True))
    if flt.timing != "any":
        query = query.where(Submission.is_late.is_(flt.timing == "late"))
    if flt.author:
        pattern = "%" + flt.author.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(User.name.ilike(pattern, escape="\\"))
    return query


def review_queue(session: Session, assignment: Assignment, flt: QueueFilter, offset: int = 0,
                 limit: int = 50) -> tuple[list[Submission], int]:
    """One page of the replies matching `flt`, in floor order, and how many match in all."""
    query = _queue_query(assignment, flt)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = Submission.floor.desc() if flt.newest_first else Submission.floor
    rows = session.scalars(query.options(*LIST_LOADING).order_by(order).offset(offset).limit(limit))
    return list(rows), total
