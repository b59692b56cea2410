"""Celery tasks. Thin: they carry ids, open a unit of work, and call `worker.grading`."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select

import grader
from app.db import session_scope
from app.models import Assignment, Status, Submission, utcnow
from app.queue import GRADE_TASK, REQUEUE_TASK, enqueue_grading
from worker import grading
from worker.celery_app import celery_app

log = logging.getLogger(__name__)

#: a queued submission older than this with no worker on it is sent again
STALE_QUEUED = timedelta(seconds=60)
RETRY_DELAY_SECONDS = 5
SWEEP_BATCH = 500


@celery_app.task(name=GRADE_TASK, acks_late=True)
def grade_submission(submission_id: int) -> str:
    with session_scope() as session:
        claimed = grading.claim(session, submission_id)
    if claimed is None:
        return "skipped"  # already graded, or another worker holds a live claim
    try:
        report = grading.run(claimed)
    except (grader.InfrastructureError, KeyError) as exc:
        # A homework configured wrongly (or naming an unknown task) fails the same way every time.
        retry = not isinstance(exc, grader.ConfigError | KeyError)
        log.warning("infrastructure failure grading %s: %s", submission_id, exc)
        with session_scope() as session:
            again = grading.store_infrastructure_failure(
                session, claimed, f"{type(exc).__name__}: {exc}", retry=retry
            )
        if again:
            celery_app.send_task(
                GRADE_TASK, args=[submission_id], queue=claimed.queue, countdown=RETRY_DELAY_SECONDS
            )
        return "infrastructure_error"
    with session_scope() as session:
        stored = grading.store_verdict(session, claimed, report)
    return "scored" if stored else "lost_claim"


@celery_app.task(name=REQUEUE_TASK)
def requeue_stale() -> int:
    """The sweep: resend queued work nobody picked up, and work whose claim lease expired."""
    now = utcnow()
    with session_scope() as session:
        rows = session.execute(
            select(Submission, Assignment.queue)
            .join(Assignment, Submission.assignment_id == Assignment.id)
            .where(
                or_(
                    (Submission.status == Status.queued.value) & (Submission.queued_at < now - STALE_QUEUED),
                    (Submission.status == Status.running.value) & (Submission.lease_until < now),
                )
            )
            .limit(SWEEP_BATCH)
        ).all()
        found = [(submission.id, queue) for submission, queue in rows]
        for submission, _queue in rows:
            submission.queued_at = now
    for submission_id, queue in found:
        enqueue_grading(submission_id, queue)
    return len(found)
