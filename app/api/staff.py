"""Staff tools for grading: rejudge, the attempt history of a submission, the queue's health."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from app.deps import CsrfChecked, SessionDep, StaffUser
from app.models import GradingAttempt
from app.services import queue_stats, rejudge
from app.services.course_staff import require_course_staff
from app.services.courses import get_assignment
from app.services.submissions import get_submission

router = APIRouter(tags=["staff"])


class RejudgeOut(BaseModel):
    id: int
    status: str
    rejudged: bool


class RejudgeAllOut(BaseModel):
    course: str
    assignment: str
    rejudged: int
    already_queued: int
    ids: list[int]


class AttemptOut(BaseModel):
    number: int
    worker: str
    #: the Celery node name and main-process pid that took the claim, and the grading process's pid
    worker_node: str | None
    worker_pid: int | None
    grading_pid: int | None
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    verdict: str | None
    score: float | None
    detail: dict[str, Any]
    error: str | None

    @classmethod
    def of(cls, a: GradingAttempt) -> AttemptOut:
        return cls(number=a.number, worker=a.worker, worker_node=a.worker_node, worker_pid=a.worker_pid,
                   grading_pid=a.grading_pid, started_at=a.started_at, finished_at=a.finished_at,
                   outcome=a.outcome, verdict=a.verdict, score=a.score, detail=a.detail or {},
                   error=a.error)


class AttemptsOut(BaseModel):
    id: int
    status: str
    attempts: list[AttemptOut]


class QueueLineOut(BaseModel):
    queue: str
    queued: int
    running: int
    oldest_waiting_seconds: float
    expired_leases: int


class QueueOut(BaseModel):
    at: datetime
    queues: list[QueueLineOut]
    failed: int
    workers_alive: int
    workers: list[queue_stats.WorkerLine]  # a dataclass: pydantic serialises it as it is


@router.post("/submissions/{submission_id}/rejudge", status_code=202, dependencies=[CsrfChecked])
def rejudge_one(submission_id: int, session: SessionDep, staff: StaffUser) -> RejudgeOut:
    submission = get_submission(session, submission_id)
    done = rejudge.rejudge_submission(session, submission, staff)
    return RejudgeOut(id=submission.id, status=submission.status, rejudged=done)


@router.post("/courses/{slug}/assignments/{code}/rejudge", status_code=202, dependencies=[CsrfChecked])
def rejudge_all(slug: str, code: str, session: SessionDep, staff: StaffUser) -> RejudgeAllOut:
    assignment = get_assignment(session, slug, code)
    result = rejudge.rejudge_assignment(session, assignment, staff)
    return RejudgeAllOut(course=slug, assignment=assignment.code, rejudged=len(result.ids),
                         already_queued=result.already_queued, ids=result.ids)


@router.get("/submissions/{submission_id}/attempts")
def attempts(submission_id: int, session: SessionDep, staff: StaffUser) -> AttemptsOut:
    submission = get_submission(session, submission_id)
    require_course_staff(session, staff, submission.assignment.course)
    history = rejudge.attempts_of(session, submission)
    return AttemptsOut(id=submission.id, status=submission.status,
                       attempts=[AttemptOut.of(a) for a in history])


@router.get("/admin/queue")
def queue(session: SessionDep, staff: StaffUser) -> QueueOut:
    stats = queue_stats.collect(session)
    return QueueOut(
        at=stats.at,
        queues=[QueueLineOut(**vars(line)) for line in stats.queues],
        failed=stats.failed,
        workers_alive=stats.workers_alive,
        workers=stats.workers,
    )
