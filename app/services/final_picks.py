"""Final picks: which of a student's submissions the private ranking uses.

A homework with a public/private split (`public_fraction` in its grading config) shows public
values until the deadline. Ranking each student's *best private value over all submissions*
would reward probing the hidden set with many uploads, so after the deadline only final picks
count: up to K submissions (course setting `fairness.final_picks`, default 2) the student
marked before the deadline; a student who marked none has their K best public values counted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, NotFound
from app.models import Assignment, Course, Role, Status, Submission, User, utcnow
from app.services.audit import record

DEFAULT_LIMIT = 2
PUBLIC_KEYS = ("public_score", "public_accuracy")


def final_limit(course: Course) -> int:
    value = (course.settings or {}).get("final_picks", DEFAULT_LIMIT)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else DEFAULT_LIMIT


def has_split(assignment: Assignment) -> bool:
    return (assignment.grading_config or {}).get("public_fraction") is not None


def picks_of(session: Session, assignment: Assignment, author_id: int) -> list[int]:
    return list(session.scalars(select(Submission.floor).where(
        Submission.assignment_id == assignment.id, Submission.author_id == author_id,
        Submission.final_pick.is_(True), Submission.hidden.is_(False)).order_by(Submission.floor)))


def set_final(session: Session, submission: Submission, user: User, final: bool,
              now: datetime | None = None) -> list[int]:
    """Mark (or unmark) the author's submission as final; returns the floors now marked."""
    now = now or utcnow()
    assignment = submission.assignment
    if submission.author_id != user.id:
        raise Forbidden("Only the author can choose their final submissions")
    if submission.hidden:
        raise NotFound("No submission {id}", id=submission.id)
    if not has_split(assignment):
        raise Conflict("Homework {code} has no private ranking: nothing to choose", code=assignment.code)
    if assignment.is_late(now):
        raise Forbidden("Final submissions of homework {code} were fixed at the deadline",
                        code=assignment.code)
    if submission.final_pick == final:
        return picks_of(session, assignment, user.id)
    if final:
        # Two tabs marking at once: locking the marked rows is not enough (a row another request
        # is marking right now is not marked yet, so neither request sees it and both pass the
        # count). Lock the author's account row first: the second request waits for the first to
        # commit, and its count, a new statement, then sees the first one's mark.
        session.execute(select(User.id).where(User.id == user.id).with_for_update())
        limit = final_limit(assignment.course)
        marked = session.scalars(select(Submission.id).where(
            Submission.assignment_id == assignment.id, Submission.author_id == user.id,
            Submission.final_pick.is_(True), Submission.hidden.is_(False))).all()
        if len(marked) >= limit:
            raise Conflict("You already chose {k} final submissions; unmark one first", k=limit)
    submission.final_pick = final
    session.flush()
    record(session, user, "submission.final" if final else "submission.unfinal",
           f"submission:{submission.id}", {"floor": submission.floor})
    return picks_of(session, assignment, user.id)


def counted(session: Session, assignment: Assignment,
            public: ColumnElement[float | None]) -> ColumnElement[bool]:
    """A filter on `Submission`: counted by the private ranking (final picks, else the K best
    public values). One query with window functions."""
    limit = final_limit(assignment.course)
    order = (Submission.final_pick.desc(), public.desc().nulls_last(), Submission.floor.asc())
    ranked = (
        select(
            Submission.id,
            Submission.final_pick,
            func.row_number().over(partition_by=Submission.author_id, order_by=order).label("n"),
            func.max(case((Submission.final_pick.is_(True), 1), else_=0))
            .over(partition_by=Submission.author_id).label("has_final"),
        )
        .join(User, User.id == Submission.author_id)
        .where(Submission.assignment_id == assignment.id, Submission.hidden.is_(False),
               Submission.status == Status.scored.value, Submission.is_late.is_(False),
               User.role == Role.student.value)
        .subquery()
    )
    chosen = select(ranked.c.id).where(or_(
        and_(ranked.c.has_final == 1, ranked.c.final_pick.is_(True)),
        and_(ranked.c.has_final == 0, ranked.c.n <= limit)))
    return Submission.id.in_(chosen)
