"""What instructors see of a homework: counts by status, queue age, failure reasons, and the
filterable table of every submission (hidden and late ones included)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.models import Assignment, Status, Submission, User

WAITING = (Status.queued.value, Status.running.value)
STATUSES = tuple(s.value for s in Status)
Late = Literal["", "yes", "no"]


@dataclass
class Counts:
    """Submissions of one homework by status, and how long the oldest waiting one has waited."""

    by_status: dict[str, int] = field(default_factory=dict)
    oldest_waiting: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def get(self, status: str) -> int:
        return self.by_status.get(status, 0)


def counts_by_assignment(session: Session, assignment_ids: list[int]) -> dict[int, Counts]:
    """Counts for several homework in two grouped queries (the course overview)."""
    result: dict[int, Counts] = defaultdict(Counts)
    rows = session.execute(
        select(Submission.assignment_id, Submission.status, func.count())
        .where(Submission.assignment_id.in_(assignment_ids))
        .group_by(Submission.assignment_id, Submission.status)
    )
    for assignment_id, status, n in rows:
        result[assignment_id].by_status[status] = n
    oldest = session.execute(
        select(Submission.assignment_id, func.min(Submission.queued_at))
        .where(Submission.assignment_id.in_(assignment_ids), Submission.status.in_(WAITING))
        .group_by(Submission.assignment_id)
    )
    for assignment_id, at in oldest:
        result[assignment_id].oldest_waiting = at
    return {i: result[i] for i in assignment_ids}


def counts(session: Session, assignment: Assignment) -> Counts:
    return counts_by_assignment(session, [assignment.id])[assignment.id]


@dataclass(frozen=True)
class FailureReason:
    error: str
    count: int
    last_id: int


def failure_reasons(session: Session, assignment: Assignment, limit: int = 10) -> list[FailureReason]:
    """Failed submissions grouped by their error text, most frequent first."""
    error = func.coalesce(Submission.error, "")
    rows = session.execute(
        select(error, func.count(), func.max(Submission.id))
        .where(Submission.assignment_id == assignment.id, Submission.status == Status.failed.value)
        .group_by(error)
        .order_by(func.count().desc(), error)
        .limit(limit)
    )
    return [FailureReason(text, n, last) for text, n, last in rows]


@dataclass(frozen=True)
class Filters:
    status: str = ""
    verdict: str = ""
    late: Late = ""
    name: str = ""

    def clean(self) -> Filters:
        return Filters(
            status=self.status if self.status in STATUSES else "",
            verdict=self.verdict.strip()[:32],
            late=self.late if self.late in ("yes", "no") else "",
            name=self.name.strip()[:64],
        )

    def query(self, **extra: object) -> dict[str, object]:
        """The filters as URL parameters (empty ones left out), for links and the CSV export."""
        values = {"status": self.status, "verdict": self.verdict, "late": self.late,
                  "name": self.name, **extra}
        return {k: v for k, v in values.items() if v not in ("", None)}


def _filtered(query: Select[Submission, str], assignment: Assignment,
              filters: Filters) -> Select[Submission, str]:
    query = query.where(Submission.assignment_id == assignment.id)
    if filters.status:
        query = query.where(Submission.status == filters.status)
    if filters.verdict:
        query = query.where(Submission.verdict == filters.verdict)
    if filters.late:
        query = query.where(Submission.is_late.is_(filters.late == "yes"))
    if filters.name:
        pattern = "%" + filters.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(User.name).like(pattern.lower(), escape="\\"))
    return query


@dataclass(frozen=True)
class TableRow:
    submission: Submission
    author: str


def table(session: Session, assignment: Assignment, filters: Filters, offset: int = 0,
          limit: int = 50) -> tuple[list[TableRow], int]:
    """One page of the homework's submissions (newest first) and how many match in all."""
    base = select(Submission, User.name).join(User, User.id == Submission.author_id)
    query = _filtered(base, assignment, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Submission.floor.desc()).offset(offset).limit(limit))
    return [TableRow(s, name) for s, name in rows], total


def all_rows(session: Session, assignment: Assignment, filters: Filters,
             limit: int = 100_000) -> list[TableRow]:
    base = select(Submission, User.name).join(User, User.id == Submission.author_id)
    query = _filtered(base, assignment, filters).order_by(Submission.floor).limit(limit)
    return [TableRow(s, name) for s, name in session.execute(query)]


def verdicts(session: Session, assignment: Assignment) -> list[str]:
    """The verdicts that occur in this homework (for the filter's choices)."""
    return sorted(v for v in session.scalars(
        select(Submission.verdict).where(Submission.assignment_id == assignment.id,
                                         Submission.verdict.is_not(None)).distinct()) if v)


