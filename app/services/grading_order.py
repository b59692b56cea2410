"""The fair grading order of one queue: who is graded next, where a submission waits, and when.

The broker only carries ids; the order is decided here, from the database, each time a worker
is free (worker/tasks.py asks `next_ids` and claims the first it can). The order:

1. first gradings and edits before rejudges (`low_priority`);
2. round-robin across students: each student's earliest waiting submission before anyone's
   second one (a burst of 20 replies waits behind every other student's first);
3. among those, the student served longest ago first (never served: first of all);
4. then the time it began waiting.

A student with a grading in flight in the queue (a running claim with a live lease) is skipped
until it ends, so at most one grading per student runs per queue and one student's burst never
fills every worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    Table,
    bindparam,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from app.config import get_settings
from app.models import Assignment, GradingAttempt, GradingTurn, Status, Submission, WorkerHeartbeat, utcnow

#: finished attempts the ETA averages over
ETA_SAMPLE = 20
#: a worker whose heartbeat is older than this many intervals does not count toward the ETA
ALIVE_INTERVALS = 3


def waiting(now: datetime | BindParameter[Any]) -> ColumnElement[bool]:
    """SQL: waiting for a grader (queued, or a running claim whose lease ran out). On the
    table's columns, so the claim's UPDATE can use it and stay off the ORM's DML path."""
    c = cast(Table, Submission.__table__).c
    return or_(c.status == Status.queued.value, (c.status == Status.running.value) & (c.lease_until < now))


def in_flight(now: datetime | BindParameter[Any]) -> ColumnElement[bool]:
    return (Submission.status == Status.running.value) & (Submission.lease_until >= now)


def _joined(column: Any) -> Select[Any]:
    """SELECT column FROM submissions JOIN assignments (where the queue is named)."""
    return select(column).select_from(Submission).join(Assignment, Assignment.id == Submission.assignment_id)


def queue_of(session: Session, submission_id: int) -> str | None:
    return session.scalar(_joined(Assignment.queue).where(Submission.id == submission_id))


def _ordered(queue: str | BindParameter[Any],
             now: datetime | BindParameter[Any]) -> Select[tuple[int, int, int]]:
    """(id, author_id, position from 0) of every waiting submission of `queue`, in grading order."""
    in_queue = Assignment.queue == queue
    served = (
        select(GradingTurn.author_id, GradingTurn.started_at.label("last"))
        .where(GradingTurn.queue == queue)
        .subquery()
    )
    turn = func.row_number().over(partition_by=(Submission.author_id, Submission.low_priority),
                                  order_by=(Submission.queued_at, Submission.id))
    rows = (
        select(Submission.id, Submission.author_id, Submission.low_priority, Submission.queued_at,
               turn.label("turn"), served.c.last)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .outerjoin(served, served.c.author_id == Submission.author_id)
        .where(in_queue, waiting(now))
        .subquery()
    )
    position = func.row_number().over(order_by=(
        rows.c.low_priority, rows.c.turn, rows.c.last.is_not(None), rows.c.last, rows.c.queued_at, rows.c.id,
    )) - literal(1)
    return select(rows.c.id, rows.c.author_id, position.label("position"))


@lru_cache(maxsize=1)
def _next_ids_statement() -> Select[tuple[int]]:
    """`next_ids`'s query, built once with bound parameters (queue, now, limit): building it
    anew for every pick cost about a fifth of a cheap grading's CPU."""
    queue: BindParameter[str] = bindparam("queue")
    now: BindParameter[datetime] = bindparam("now")
    ordered = _ordered(queue, now).subquery()
    busy = _joined(Submission.author_id).where(Assignment.queue == queue, in_flight(now))
    return (select(ordered.c.id).where(ordered.c.author_id.not_in(busy))
            .order_by(ordered.c.position).limit(bindparam("limit", type_=Integer)))


def next_ids(session: Session, queue: str, limit: int = 5, now: datetime | None = None) -> list[int]:
    """The next submissions a free worker of `queue` should try to claim, best first."""
    values = {"queue": queue, "now": now or utcnow(), "limit": limit}
    return list(session.scalars(_next_ids_statement(), values))


def take_turn(session: Session, queue: str, author_id: int, now: datetime) -> None:
    """Record that this student's grading in `queue` starts now (with the claim, same transaction)."""
    values = {"queue": queue, "author_id": author_id, "started_at": now}
    session.execute(_turn_statement(session.get_bind().dialect.name), values)


@lru_cache(maxsize=2)
def _turn_statement(dialect: str) -> Any:
    """The turn's upsert, built once per dialect with bound parameters."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    # on the table, not the mapped class: the ORM's DML path costs twice the statement's CPU
    statement = insert(GradingTurn.__table__).values(  # type: ignore[arg-type]
        queue=bindparam("queue"), author_id=bindparam("author_id"), started_at=bindparam("started_at"))
    return statement.on_conflict_do_update(index_elements=["queue", "author_id"],
                                           set_={"started_at": statement.excluded.started_at})


def has_waiting(session: Session, queue: str, author_id: int, now: datetime | None = None) -> int | None:
    """One waiting submission of this student in `queue` (to wake a worker for it), or None."""
    values = {"queue": queue, "author_id": author_id, "now": now or utcnow()}
    return session.scalar(_has_waiting_statement(), values)


@lru_cache(maxsize=1)
def _has_waiting_statement() -> Any:
    now: BindParameter[datetime] = bindparam("now")
    return (_joined(Submission.id)
            .where(Assignment.queue == bindparam("queue"), Submission.author_id == bindparam("author_id"),
                   waiting(now))
            .order_by(Submission.queued_at, Submission.id).limit(1))


@dataclass(frozen=True)
class Place:
    #: submissions graded before this one (in the fair order, not arrival order)
    ahead: int
    #: rough seconds until its verdict, from recent grading times and live workers; None: unknown
    eta_seconds: float | None
    #: the queue it waits in
    queue: str = ""


def place(session: Session, submission: Submission, queue: str, now: datetime | None = None) -> Place:
    now = now or utcnow()
    ordered = _ordered(queue, now).subquery()
    ahead = session.scalar(select(ordered.c.position).where(ordered.c.id == submission.id))
    ahead = int(ahead or 0)
    return Place(ahead, eta_seconds(session, queue, ahead, now), queue)


def eta_seconds(session: Session, queue: str, ahead: int, now: datetime) -> float | None:
    """(ahead + 1) gradings at the recent mean duration, spread over the queue's live workers."""
    durations = session.execute(
        select(GradingAttempt.started_at, GradingAttempt.finished_at)
        .join(Submission, Submission.id == GradingAttempt.submission_id)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(Assignment.queue == queue, GradingAttempt.outcome == "scored",
               GradingAttempt.finished_at.is_not(None))
        .order_by(GradingAttempt.finished_at.desc()).limit(ETA_SAMPLE)
    ).all()
    seconds = [(end - start).total_seconds() for start, end in durations if end is not None]
    if not seconds:
        return None
    mean = sum(seconds) / len(seconds)
    return round((ahead + 1) * max(mean, 0.0) / _slots(session, queue, now), 1)


def _slots(session: Session, queue: str, now: datetime) -> int:
    """Gradings the queue's live workers run at once (at least 1)."""
    alive = now - timedelta(seconds=get_settings().worker_heartbeat_seconds * ALIVE_INTERVALS)
    rows = session.execute(
        select(WorkerHeartbeat.queues, WorkerHeartbeat.concurrency)
        .where(WorkerHeartbeat.seen_at >= alive, WorkerHeartbeat.stopped_at.is_(None))
    ).all()
    return max(1, sum(c for queues, c in rows if queue in queues.split(",")))


def queue_place(session: Session, s: Submission) -> Place:
    """Where it waits in its homework's queue's fair order, and a rough ETA."""
    queue = session.scalar(select(Assignment.queue).where(Assignment.id == s.assignment_id)) or ""
    return place(session, s, queue)


def running_since(session: Session, s: Submission) -> str | None:
    """When the grading attempt that is running now started (ISO 8601, UTC)."""
    started = session.scalar(
        select(GradingAttempt.started_at).where(GradingAttempt.submission_id == s.id,
                                                GradingAttempt.outcome.is_(None))
        .order_by(GradingAttempt.number.desc()).limit(1))
    moment = started or s.updated_at
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat()
