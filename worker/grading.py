"""The glue between a submission row and `grader.grade`: claim, build plain data, store the verdict.

Every step is idempotent (docs/pipeline.md):

* A claim is a conditional UPDATE (`status = 'queued'`, or a running claim whose lease ran out,
  and tries left in this round) that bumps `attempts`; the new value names the attempt. A
  redelivered message for work that is running or done therefore changes nothing.
* A result is stored by another conditional UPDATE that matches only while the attempt that
  produced it still holds the claim (`status = 'running' AND attempts = n`), so at most one
  attempt per round ever writes a verdict, however many deliveries there were.
* A round (the submission, or a rejudge) has `grading_max_attempts` tries, lost workers
  included; then the submission is `failed` with a message for the staff.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Row,
    Table,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

import grader
from app import storage
from app.config import get_settings
from app.models import Assignment, Attachment, GradingAttempt, Status, Submission, utcnow
from app.services import grading_order, notifications
from app.services.homework_settings import grades_code
from grader.sandbox import SandboxConfig
from grader.sandbox import configure as configure_sandbox
from grader.sandbox.capture import printable
from worker import identity

log = logging.getLogger(__name__)

ABANDONED = "abandoned"
ABANDONED_ERROR = "the claim's lease ran out: the worker was lost or the grading hit its time limit"
WORKER_LOST_ERROR = "the worker holding the claim stopped beating, or its grading process was killed"


class ClaimRef(Protocol):
    """What storing a result needs of a claim: the submission and the attempt that holds it."""

    @property
    def submission_id(self) -> int: ...

    @property
    def attempt(self) -> int: ...


@dataclass(frozen=True)
class Claim:
    submission_id: int
    attempt: int
    #: `attempts` when this round began: `attempt - base` is the try number within the round
    base: int
    queue: str
    task: str
    assignment: str
    text: str
    config: dict[str, Any]
    student: str
    files: dict[str, bytes] = field(default_factory=dict)
    author_id: int = 0

    @property
    def try_number(self) -> int:
        return self.attempt - self.base


def tries_left() -> ColumnElement[bool]:
    """SQL: the current round has not used up its attempts."""
    return Submission.attempts - Submission.attempt_base < get_settings().grading_max_attempts


def claim(session: Session, submission_id: int) -> Claim | None:
    """Take the submission for grading, or return None when someone else has it or it is done."""
    now = utcnow()
    settings = get_settings()
    row = session.execute(_claim_statement(), {
        "submission_id": submission_id, "now": now, "max_attempts": settings.grading_max_attempts,
        "lease_until": now + timedelta(seconds=settings.lease_seconds)}).one_or_none()
    if row is None:
        return None
    attempt, base, author_id, assignment_id, text = row
    if attempt > 1:  # a first attempt has nothing to close
        close_unfinished(session, submission_id, ABANDONED, ABANDONED_ERROR, now)
    me = identity.current()
    session.execute(_attempt_statement(), {
        "submission_id": submission_id, "number": attempt, "worker": socket.gethostname(),
        "worker_node": me.hostname if me else None, "worker_pid": me.pid if me else None,
        "grading_pid": os.getpid(), "started_at": now})
    assignment = session.get(Assignment, assignment_id)
    assert assignment is not None
    grading_order.take_turn(session, assignment.queue, author_id, now)
    files = {}
    if grades_code(assignment):  # only code is handed to the grader: no attachment look-up otherwise
        files = {a.filename: storage.get(a.sha256) for a in session.scalars(
            select(Attachment).where(Attachment.submission_id == submission_id, Attachment.kind == "code")
            .order_by(Attachment.id))}
    return Claim(
        submission_id=submission_id,
        attempt=attempt,
        base=base,
        queue=assignment.queue,
        task=assignment.grading_kind,
        assignment=assignment.code,
        text=text,
        config=task_config(assignment),
        student=_student_key(author_id),
        files=files,
        author_id=author_id,
    )


@lru_cache(maxsize=1)
def _claim_statement() -> Any:
    """`claim`'s conditional UPDATE, built once with bound parameters."""
    now: BindParameter[datetime] = bindparam("now")
    # on the table, not the mapped class: the ORM's DML path costs twice the CPU of the
    # statement itself, and nothing here needs the session to know of the change
    table = cast(Table, Submission.__table__)
    c = table.c
    return (
        update(table)
        .where(c.id == bindparam("submission_id"), grading_order.waiting(now),
               c.attempts - c.attempt_base < bindparam("max_attempts", type_=Integer))
        .values(status=Status.running.value, attempts=c.attempts + 1, lease_until=bindparam("lease_until"))
        .returning(c.attempts, c.attempt_base, c.author_id, c.assignment_id, c.text)
    )


@lru_cache(maxsize=1)
def _attempt_statement() -> Any:
    """The claim's attempt row, a plain INSERT built once (the ORM's unit of work for one row
    cost more CPU than the statement)."""
    columns = ("submission_id", "number", "worker", "worker_node", "worker_pid", "grading_pid", "started_at")
    return insert(cast(Table, GradingAttempt.__table__)).values({name: bindparam(name) for name in columns})


@lru_cache(maxsize=1)
def _pick_lock_statement() -> Any:
    """PostgreSQL: the hint's homework and its queue's pick lock, in one round trip."""
    return (
        select(Assignment).select_from(Submission)
        .join(Assignment, Assignment.id == Submission.assignment_id).where(Submission.id == bindparam("hint"))
        .add_columns(func.pg_advisory_xact_lock(func.hashtext(literal("camp-queue:") + Assignment.queue)))
    )


def claim_next(session: Session, hint_id: int) -> Claim | None:
    """Claim the submission that is next in the fair order of `hint_id`'s queue.

    The broker's message only says "a submission of this queue waits" (its id is a hint): the
    order is the database's (app/services/grading_order.py). None when nothing can be claimed:
    everything waiting belongs to students with a grading in flight, who wake the next one
    when it ends (`wake_next`).
    """
    if session.get_bind().dialect.name == "postgresql":
        # one pick at a time per queue, so two workers cannot both start the same student (the
        # queue's name and its lock in one round trip; the hint's homework comes along, so the
        # claim usually finds the homework it grades in the session already)
        found = session.scalar(_pick_lock_statement(), {"hint": hint_id})
        queue = found.queue if found is not None else None
    else:
        queue = grading_order.queue_of(session, hint_id)
    if queue is None:
        return None
    for submission_id in grading_order.next_ids(session, queue):
        claimed = claim(session, submission_id)
        if claimed is not None:
            return claimed
    return None


def is_waiting(session: Session, submission_id: int) -> bool:
    return session.scalar(_is_waiting_statement(), {"sid": submission_id, "now": utcnow()}) is not None


@lru_cache(maxsize=1)
def _is_waiting_statement() -> Any:
    now: BindParameter[datetime] = bindparam("now")
    return select(Submission.id).where(Submission.id == bindparam("sid"), grading_order.waiting(now))


def next_of_student(session: Session, claimed: Claim) -> int | None:
    """A waiting submission of the same student and queue, to send now that theirs has ended."""
    return grading_order.has_waiting(session, claimed.queue, claimed.author_id)


def close_unfinished(session: Session, submission_id: int, outcome: str, error: str, now: datetime) -> None:
    """Give attempts that never finished (their worker died, or a rejudge overtook them) an end."""
    session.execute(
        update(GradingAttempt)
        .where(GradingAttempt.submission_id == submission_id, GradingAttempt.outcome.is_(None))
        .values(outcome=outcome, finished_at=now, error=error)
    )


def task_config(assignment: Assignment) -> dict[str, Any]:
    """The homework's grading config, plus the course's secret seed for tasks whose hidden data
    is perturbed (`perturb: false` in the course file turns it off)."""
    config = dict(assignment.grading_config)
    config.pop("perturb_seed", None)  # only ever the server's, never the course file's
    if assignment.grading_kind == "mnist" and config.get("perturb", True) is not False:
        secret = get_settings().secret_key.encode()
        message = b"mnist-perturb:" + assignment.course.slug.encode()
        config["perturb_seed"] = hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]
    return config


def _student_key(author_id: int) -> str:
    """A stable opaque key per student (per-student variants); not reversible to the account."""
    secret = get_settings().secret_key.encode()
    return hashlib.sha256(secret + b"student:" + str(author_id).encode()).hexdigest()[:32]


def limits() -> grader.Limits:
    """The worker's limits, from settings: the grader never reads the environment itself."""
    settings = get_settings()
    return grader.Limits(
        wall_seconds=settings.grading_wall_seconds,
        cpu_seconds=int(settings.grading_wall_seconds),
        memory_bytes=settings.grading_memory_mb * 1024 * 1024,
        gpu=settings.gpu or None,
    )


def sandbox_config() -> SandboxConfig:
    """Where this machine's sandboxes live (uid range, cgroup name), from settings."""
    settings = get_settings()
    return SandboxConfig(uid_first=settings.sandbox_uid_first, uid_count=settings.sandbox_uid_count,
                         cgroup_name=settings.sandbox_cgroup_name, cgroups=settings.sandbox_cgroups)


def run(claimed: Claim) -> grader.Report:
    configure_sandbox(sandbox_config())
    return grader.grade(
        claimed.task,
        assignment=claimed.assignment,
        text=claimed.text,
        files=claimed.files,
        config=claimed.config,
        student=claimed.student,
        limits=limits(),
    )


def _finish(session: Session, claimed: ClaimRef, **values: Any) -> Row[Any] | None:
    """Update the submission only while this attempt still holds the claim; the row returned
    carries what the author's notice needs (`notifications.graded_columns`), None when the
    claim was lost."""
    params = {f"v_{name}": value for name, value in values.items()}
    params.update(sid=claimed.submission_id, attempt=claimed.attempt)
    return session.execute(_finish_statement(tuple(sorted(values))), params).one_or_none()


@lru_cache(maxsize=8)
def _finish_statement(names: tuple[str, ...]) -> Any:
    """`_finish`'s conditional UPDATE for these columns, built once with bound parameters."""
    table = cast(Table, Submission.__table__)
    return (
        update(table)
        .where(table.c.id == bindparam("sid"), table.c.status == Status.running.value,
               table.c.attempts == bindparam("attempt"))
        .values({**{name: bindparam(f"v_{name}", type_=table.c[name].type) for name in names},
                 "lease_until": None})
        .returning(*notifications.graded_columns())
    )


def _close_attempt(session: Session, claimed: ClaimRef, **values: Any) -> None:
    params = {f"v_{name}": value for name, value in values.items()}
    params.update(sid=claimed.submission_id, attempt=claimed.attempt, v_finished_at=utcnow())
    session.execute(_close_statement(tuple(sorted([*values, "finished_at"]))), params)


@lru_cache(maxsize=8)
def _close_statement(names: tuple[str, ...]) -> Any:
    table = cast(Table, GradingAttempt.__table__)
    return (
        update(table)
        .where(table.c.submission_id == bindparam("sid"), table.c.number == bindparam("attempt"))
        .values({name: bindparam(f"v_{name}", type_=table.c[name].type) for name in names})
    )


def retry_delay(try_number: int) -> float:
    """Seconds before an infrastructure failure is tried again: 10 s, 1 min, 6 min, then 15 min,
    so a broken host does not burn every try of a submission (or bury its neighbours) at once."""
    return float(min(10 * 6 ** (max(try_number, 1) - 1), 900))


def db_safe(value: Any) -> Any:
    """Text the database accepts: PostgreSQL refuses NUL in text and in JSON strings."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {db_safe(k): db_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [db_safe(v) for v in value]
    return value


def store_verdict(session: Session, claimed: ClaimRef, report: grader.Report) -> bool:
    """Record the verdict once; False when the claim was lost (e.g. the lease expired meanwhile).
    The student's log and the staff-only log of the hidden run are stored apart."""
    detail = db_safe(report.detail)
    stored = _finish(
        session, claimed, status=Status.scored.value, verdict=report.verdict, score=report.score,
        messages=db_safe(report.messages), detail=detail, log=db_safe(report.log),
        staff_log=db_safe(report.staff_log), error=None, graded_at=utcnow(),
    )
    if stored is None:
        return False
    _close_attempt(session, claimed, outcome="scored", verdict=report.verdict, score=report.score,
                   detail=detail)
    # in the same transaction as the verdict, keyed by the attempt: made exactly once
    notifications.graded(session, stored, claimed.attempt)
    return True


def store_infrastructure_failure(session: Session, claimed: Claim, error: str, retry: bool = True) -> bool:
    """Not the student's fault: requeue while the round has tries left, then `failed` for the staff.

    `retry=False` for failures another try cannot fix (a homework configured wrongly).
    Returns True when the submission should be sent to the queue again.
    """
    error = db_safe(error)
    again = retry and claimed.try_number < get_settings().grading_max_attempts
    if again:  # the delayed message comes first; the sweep is the safety net after it
        wait = retry_delay(claimed.try_number) + get_settings().sweep_stale_queued_seconds
        resend_at = utcnow() + timedelta(seconds=wait)
        stored = _finish(session, claimed, status=Status.queued.value, resend_at=resend_at)
    else:
        message = f"grading failed {claimed.try_number} times; last error: {error}"
        stored = _finish(session, claimed, status=Status.failed.value, error=message[:4000],
                         graded_at=utcnow())
    if stored is None:
        return False
    _close_attempt(session, claimed, outcome="infrastructure_error", error=error[:4000])
    if not again:  # failed for good: the author hears of it (the staff see it on their pages)
        notifications.graded(session, stored, claimed.attempt)
    return again
