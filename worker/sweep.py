"""The reaper: find work that is stuck and put it back in the queue (or give up on it for the staff).

Two kinds of stuck, both decided from the database alone (the broker may have lost everything):

* `running`, held by a dead worker: its heartbeat row is older than `worker_heartbeat_misses`
  beats (kill -9, a lost machine), it stopped, or a fresh row no longer lists the submission
  (its pool process was killed). Noticed within a few beats, not a lease.
* `running` with an expired lease: the worker died (or hit the hard time limit) mid-grading.
  The lease is longer than the hard time limit, so no live grading holds an expired claim.
  Either way the attempt is marked `abandoned`; the submission goes back to `queued` and is
  sent at once while its round has tries left, else to `failed` with a message for the staff.
  Claims are only freed when the caller says so (`free_claims`): the sweeper waits a few beats
  after the database comes back, so live workers can beat and store what they finished.
* `queued` past its `resend_at` (or `sweep_stale_queued_seconds` after `queued_at` when never
  resent): the id may never have reached the broker (the web process died after the commit,
  the broker was down, or restarted empty), or it is simply waiting behind a long queue. An
  extra delivery cannot claim twice, so sending it again is safe; to keep a long backlog from
  filling the broker with copies, the next resend waits as long as the submission has already
  waited (at least the staleness threshold): a submission waiting an hour is sent about
  log2(60) times, not 60.

The caller sends the returned ids to the broker after committing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, select, tuple_, update
from sqlalchemy.orm import Session

from app.config import get_settings
from app.models import Assignment, GradingAttempt, Status, Submission, WorkerHeartbeat
from worker.grading import ABANDONED, ABANDONED_ERROR, WORKER_LOST_ERROR, close_unfinished, tries_left

SWEEP_BATCH = 500


@dataclass
class Swept:
    #: (submission id, queue) to send to the broker once the transaction is committed
    resend: list[tuple[int, str]] = field(default_factory=list)
    abandoned: int = 0
    failed: int = 0


def sweep(session: Session, now: datetime, free_claims: bool = True) -> Swept:
    swept = Swept()
    if free_claims:
        _dead_workers(session, now, swept)
        _expired_leases(session, now, swept)
    _stale_queued(session, now, swept)
    return swept


def dead_claims(session: Session, now: datetime) -> list[tuple[int, int]]:
    """(submission id, attempt) of running claims whose worker is gone, from the heartbeats."""
    settings = get_settings()
    beat = timedelta(seconds=settings.worker_heartbeat_seconds)
    silent = beat * settings.worker_heartbeat_misses
    rows = session.execute(
        select(Submission.id, Submission.attempts, GradingAttempt.started_at, WorkerHeartbeat.seen_at,
               WorkerHeartbeat.stopped_at, WorkerHeartbeat.grading)
        .join(GradingAttempt, (GradingAttempt.submission_id == Submission.id)
              & (GradingAttempt.number == Submission.attempts))
        .outerjoin(WorkerHeartbeat, (WorkerHeartbeat.hostname == GradingAttempt.worker_node)
                   & (WorkerHeartbeat.pid == GradingAttempt.worker_pid))
        .where(Submission.status == Status.running.value, GradingAttempt.worker_node.is_not(None))
    )
    dead = []
    for submission_id, attempt, started_at, seen_at, stopped_at, grading in rows:
        if seen_at is None:  # never beat (or forgotten): give a starting worker its first beats
            gone = started_at < now - silent
        elif stopped_at is not None or seen_at < now - silent:
            gone = True
        else:  # alive; a beat well after the claim must list it, or its pool process died
            gone = seen_at > started_at + 2 * beat and str(submission_id) not in grading.split(",")
        if gone:
            dead.append((submission_id, attempt))
    return dead


def _locked(session: Session, query: Select[int, datetime, str]) -> list[tuple[int, datetime, str]]:
    """Candidates (id, queued_at, queue), locked so that two sweeps at once do not both take them."""
    # Rows unpack like tuples (Result.tuples() is deprecated since SQLAlchemy 2.1).
    return list(session.execute(query.limit(SWEEP_BATCH).with_for_update(skip_locked=True, of=Submission)))


def _candidates(where: ColumnElement[bool]) -> Select[int, datetime, str]:
    return (select(Submission.id, Submission.queued_at, Assignment.queue)
            .join(Assignment, Submission.assignment_id == Assignment.id)
            .where(where).order_by(Submission.queued_at))


def _schedule_resend(session: Session, rows: list[tuple[int, datetime, str]], now: datetime,
                     swept: Swept) -> None:
    """Send these ids again now, and not again before they have waited as long once more."""
    if not rows:
        return
    stale = get_settings().sweep_stale_queued_seconds
    session.execute(update(Submission), [
        {"id": sid, "resend_at": now + max(timedelta(seconds=stale), now - queued_at)}
        for sid, queued_at, _queue in rows
    ])
    swept.resend += [(sid, queue) for sid, _queued_at, queue in rows]


def _dead_workers(session: Session, now: datetime, swept: Swept) -> None:
    pairs = dead_claims(session, now)
    if pairs:
        held = tuple_(Submission.id, Submission.attempts).in_(pairs)
        _abandon(session, (Submission.status == Status.running.value) & held, now, swept, WORKER_LOST_ERROR)


def _expired_leases(session: Session, now: datetime, swept: Swept) -> None:
    expired = (Submission.status == Status.running.value) & (Submission.lease_until < now)
    _abandon(session, expired, now, swept, ABANDONED_ERROR)


def _abandon(session: Session, stuck: ColumnElement[bool], now: datetime, swept: Swept, error: str) -> None:
    """Close the claims matching `stuck` as abandoned; queue and resend them, or give up."""
    rows = _locked(session, _candidates(stuck))
    if not rows:
        return
    ids = [sid for sid, _queued_at, _queue in rows]
    for submission_id in ids:
        close_unfinished(session, submission_id, ABANDONED, error, now)
    swept.abandoned += len(ids)
    requeued = set(session.scalars(
        update(Submission).where(Submission.id.in_(ids), stuck, tries_left())
        .values(status=Status.queued.value, lease_until=None).returning(Submission.id)
    ))
    _schedule_resend(session, [r for r in rows if r[0] in requeued], now, swept)
    swept.failed += _give_up(session, ids, stuck, now)


def _stale_queued(session: Session, now: datetime, swept: Swept) -> None:
    threshold = now - timedelta(seconds=get_settings().sweep_stale_queued_seconds)
    due = (Submission.status == Status.queued.value) & (
        (Submission.resend_at.is_(None) & (Submission.queued_at < threshold)) | (Submission.resend_at < now)
    )
    rows = _locked(session, _candidates(due))
    if not rows:
        return
    ids = [sid for sid, _queued_at, _queue in rows]
    swept.failed += _give_up(session, ids, due, now)
    resend = set(session.scalars(select(Submission.id).where(Submission.id.in_(ids), due)))
    _schedule_resend(session, [r for r in rows if r[0] in resend], now, swept)


def _give_up(session: Session, ids: list[int], still: ColumnElement[bool], now: datetime) -> int:
    """The round used every try: `failed`, with a message only the staff see."""
    rows = session.execute(
        select(Submission.id, Submission.attempts - Submission.attempt_base)
        .where(Submission.id.in_(ids), still, ~tries_left())
    ).all()
    limit = get_settings().time_limit
    for submission_id, tries in rows:
        message = (f"grading was interrupted {tries} times: {ABANDONED_ERROR} "
                   f"(hard time limit {limit:g} s); see the attempt history")
        session.execute(
            update(Submission).where(Submission.id == submission_id, still)
            .values(status=Status.failed.value, lease_until=None, graded_at=now, error=message)
        )
    return len(rows)
