"""The glue between a submission row and `grader.grade`: claim, build plain data, store the verdict.

Every step is idempotent. A claim is a conditional UPDATE (`status = 'queued'`, or a running
claim whose lease expired), so a redelivered message for work already done changes nothing,
and a result is stored only while the attempt that produced it still holds the claim.
"""

from __future__ import annotations

import hashlib
import logging
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

import grader
from app import storage
from app.config import get_settings
from app.models import Assignment, GradingAttempt, Status, Submission, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=30)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Claim:
    submission_id: int
    attempt: int
    queue: str
    task: str
    assignment: str
    text: str
    config: dict[str, Any]
    student: str
    files: dict[str, bytes] = field(default_factory=dict)


def claim(session: Session, submission_id: int) -> Claim | None:
    """Take the submission for grading, or return None when someone else has it or it is done."""
    now = utcnow()
    attempt = session.execute(
        update(Submission)
        .where(
            Submission.id == submission_id,
            or_(
                Submission.status == Status.queued.value,
                (Submission.status == Status.running.value) & (Submission.lease_until < now),
            ),
        )
        .values(status=Status.running.value, attempts=Submission.attempts + 1, lease_until=now + LEASE)
        .returning(Submission.attempts)
    ).scalar_one_or_none()
    if attempt is None:
        return None
    submission = session.get(Submission, submission_id)
    assert submission is not None
    session.add(GradingAttempt(submission_id=submission_id, number=attempt, worker=socket.gethostname()))
    assignment: Assignment = submission.assignment
    return Claim(
        submission_id=submission_id,
        attempt=attempt,
        queue=assignment.queue,
        task=assignment.grading_kind,
        assignment=assignment.code,
        text=submission.text,
        config=dict(assignment.grading_config),
        student=_student_key(submission.author_id),
        files={a.filename: storage.get(a.sha256) for a in submission.attachments if a.kind == "code"},
    )


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


def run(claimed: Claim) -> grader.Report:
    return grader.grade(
        claimed.task,
        assignment=claimed.assignment,
        text=claimed.text,
        files=claimed.files,
        config=claimed.config,
        student=claimed.student,
        limits=limits(),
    )


def _still_ours(session: Session, claimed: Claim) -> Submission | None:
    return session.scalar(
        select(Submission)
        .where(
            Submission.id == claimed.submission_id,
            Submission.status == Status.running.value,
            Submission.attempts == claimed.attempt,
        )
        .with_for_update()
    )


def _attempt(session: Session, claimed: Claim) -> GradingAttempt | None:
    return session.scalar(
        select(GradingAttempt).where(
            GradingAttempt.submission_id == claimed.submission_id,
            GradingAttempt.number == claimed.attempt,
        )
    )


def store_verdict(session: Session, claimed: Claim, report: grader.Report) -> bool:
    """Record the verdict once; False when the claim was lost (e.g. the lease expired meanwhile)."""
    submission = _still_ours(session, claimed)
    if submission is None:
        return False
    now = utcnow()
    data = report.to_dict()
    submission.status = Status.scored.value
    submission.verdict, submission.score = report.verdict, report.score
    submission.messages, submission.detail, submission.log = report.messages, report.detail, report.log
    submission.error, submission.graded_at, submission.lease_until = None, now, None
    attempt = _attempt(session, claimed)
    if attempt is not None:
        attempt.finished_at, attempt.outcome = now, "scored"
        attempt.verdict, attempt.score, attempt.detail = report.verdict, report.score, data["detail"]
    return True


def store_infrastructure_failure(session: Session, claimed: Claim, error: str, retry: bool = True) -> bool:
    """Not the student's fault: requeue while attempts remain, then mark `failed` for the staff.

    `retry=False` for failures another try cannot fix (a homework configured wrongly).
    Returns True when the submission should be sent to the queue again.
    """
    submission = _still_ours(session, claimed)
    if submission is None:
        return False
    now = utcnow()
    attempt = _attempt(session, claimed)
    if attempt is not None:
        attempt.finished_at, attempt.outcome, attempt.error = now, "infrastructure_error", error[:4000]
    submission.lease_until = None
    if retry and claimed.attempt < MAX_ATTEMPTS:
        submission.status, submission.queued_at = Status.queued.value, now
        return True
    submission.status = Status.failed.value
    submission.error = f"grading failed {claimed.attempt} times; last error: {error}"[:4000]
    submission.graded_at = now
    return False
