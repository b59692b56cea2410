"""The reaper: find work that is stuck and put it back in the queue (or give up on it for the staff).

Two kinds of stuck, both decided from the database alone (the broker may have lost everything):

* `running` with an expired lease: the worker died (or hit the hard time limit) mid-grading.
  The lease is longer than the hard time limit, so no live grading holds an expired claim.
  The attempt is marked `abandoned`; the submission goes back to `queued` while its round has
  tries left, else to `failed` with a message for the staff.
* `queued` and not sent for `sweep_stale_queued_seconds`: the id never reached the broker
  (the web process died after commit, the broker was down or restarted empty) or is waiting
  behind a long queue. Sending it again is safe: an extra delivery cannot claim it twice.

The caller sends the returned ids to the broker after committing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.orm import Session

from app.config import get_settings
from app.models import Assignment, Status, Submission
from worker.grading import ABANDONED, ABANDONED_ERROR, close_unfinished, tries_left

SWEEP_BATCH = 500


@dataclass
class Swept:
    #: (submission id, queue) to send to the broker once the transaction is committed
    resend: list[tuple[int, str]] = field(default_factory=list)
    abandoned: int = 0
    failed: int = 0


def sweep(session: Session, now: datetime) -> Swept:
    swept = Swept()
    _expired_leases(session, now, swept)
    _stale_queued(session, now, swept)
    return swept


def _locked_ids(session: Session, query: Select[tuple[int]]) -> list[int]:
    """Candidate ids, locked so that two sweeps at once (two beats) do not both take them."""
    return list(session.scalars(query.limit(SWEEP_BATCH).with_for_update(skip_locked=True)))


def _queue_of(session: Session, ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(Submission.id, Assignment.queue)
        .join(Assignment, Submission.assignment_id == Assignment.id)
        .where(Submission.id.in_(ids))
    )
    return dict(rows.tuples().all())


def _expired_leases(session: Session, now: datetime, swept: Swept) -> None:
    expired = (Submission.status == Status.running.value) & (Submission.lease_until < now)
    ids = _locked_ids(session, select(Submission.id).where(expired))
    if not ids:
        return
    for submission_id in ids:
        close_unfinished(session, submission_id, ABANDONED, ABANDONED_ERROR, now)
    swept.abandoned += len(ids)
    requeued = session.scalars(
        update(Submission)
        .where(Submission.id.in_(ids), expired, tries_left())
        .values(status=Status.queued.value, lease_until=None, sent_at=now)
        .returning(Submission.id)
    ).all()
    queues = _queue_of(session, list(requeued))
    swept.resend += [(i, queues[i]) for i in requeued]
    swept.failed += _give_up(session, ids, expired, now)


def _give_up(session: Session, ids: list[int], still: ColumnElement[bool], now: datetime) -> int:
    """The round used every try: `failed`, with a message only the staff see."""
    rows = session.execute(
        select(Submission.id, Submission.attempts - Submission.attempt_base)
        .where(Submission.id.in_(ids), still, ~tries_left())
    ).tuples().all()
    limit = get_settings().time_limit
    for submission_id, tries in rows:
        message = (f"grading was interrupted {tries} times: {ABANDONED_ERROR} "
                   f"(hard time limit {limit:g} s); see the attempt history")
        session.execute(
            update(Submission).where(Submission.id == submission_id, still)
            .values(status=Status.failed.value, lease_until=None, graded_at=now, error=message)
        )
    return len(rows)


def _stale_queued(session: Session, now: datetime, swept: Swept) -> None:
    threshold = now - timedelta(seconds=get_settings().sweep_stale_queued_seconds)
    stale = (Submission.status == Status.queued.value) & (
        func.coalesce(Submission.sent_at, Submission.queued_at) < threshold
    )
    ids = _locked_ids(session, select(Submission.id).where(stale).order_by(Submission.queued_at))
    if not ids:
        return
    resent = session.scalars(
        update(Submission).where(Submission.id.in_(ids), stale, tries_left())
        .values(sent_at=now).returning(Submission.id)
    ).all()
    queues = _queue_of(session, list(resent))
    swept.resend += [(i, queues[i]) for i in resent]
    swept.failed += _give_up(session, ids, stale, now)
