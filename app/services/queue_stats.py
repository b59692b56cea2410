"""How the grading queue is doing, from the database (the truth) and the workers' heartbeats.

Read by `/metrics` (Prometheus) and the staff's `GET /api/v1/admin/queue`. "Waiting" means
`queued` or `running`; its age counts from `queued_at`, when the current round began.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.models import Assignment, Status, Submission, WorkerHeartbeat, utcnow
from app.queue import QUEUES

#: workers not seen for this long are left out of the listing
LIST_WORKERS_SEEN_WITHIN_SECONDS = 3600


@dataclass(frozen=True)
class QueueLine:
    queue: str
    queued: int
    running: int
    #: seconds since the oldest waiting submission began waiting (0 when none waits)
    oldest_waiting_seconds: float
    #: running claims whose lease ran out (the sweep will send them again)
    expired_leases: int


@dataclass(frozen=True)
class WorkerLine:
    hostname: str
    pid: int
    queues: str
    concurrency: int
    active: int
    started_at: datetime
    seen_at: datetime
    seen_seconds_ago: float
    alive: bool
    stopped: bool
    #: the worker's own line about its sandbox: "ok (cgroup v1)", "warning: ...", "refusing work: ..."
    sandbox: str = ""

    @property
    def refusing(self) -> bool:
        return self.sandbox.startswith("refusing")

    @property
    def without_cgroups(self) -> bool:
        return self.sandbox.startswith("warning: no cgroups")


@dataclass(frozen=True)
class QueueStats:
    at: datetime
    queues: list[QueueLine]
    failed: int
    workers: list[WorkerLine]

    @property
    def workers_alive(self) -> int:
        return sum(w.alive for w in self.workers)


def collect(session: Session, now: datetime | None = None) -> QueueStats:
    now = now or utcnow()
    return QueueStats(at=now, queues=_queues(session, now), failed=_failed(session),
                      workers=_workers(session, now))


def _queues(session: Session, now: datetime) -> list[QueueLine]:
    waiting = (Status.queued.value, Status.running.value)
    rows = session.execute(
        select(
            Assignment.queue,
            func.count().filter(Submission.status == Status.queued.value),
            func.count().filter(Submission.status == Status.running.value),
            func.min(Submission.queued_at),
            func.sum(case((Submission.lease_until < now, 1), else_=0)),
        )
        .join(Assignment, Submission.assignment_id == Assignment.id)
        .where(Submission.status.in_(waiting))
        .group_by(Assignment.queue)
    ).all()
    found = {queue: (queued, running, oldest, expired) for queue, queued, running, oldest, expired in rows}
    lines = []
    for name in sorted(set(QUEUES) | set(found)):
        queued, running, oldest, expired = found.get(name, (0, 0, None, 0))
        age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        lines.append(QueueLine(name, queued, running, round(age, 3), int(expired or 0)))
    return lines


def _failed(session: Session) -> int:
    return session.scalar(select(func.count()).where(Submission.status == Status.failed.value)) or 0


def _workers(session: Session, now: datetime) -> list[WorkerLine]:
    settings = get_settings()
    alive_within = settings.worker_heartbeat_seconds * settings.worker_heartbeat_misses
    rows = session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.hostname, WorkerHeartbeat.pid))
    lines = []
    for row in rows:
        ago = max(0.0, (now - row.seen_at).total_seconds())
        if ago > LIST_WORKERS_SEEN_WITHIN_SECONDS:
            continue
        stopped = row.stopped_at is not None
        lines.append(WorkerLine(
            hostname=row.hostname, pid=row.pid, queues=row.queues, concurrency=row.concurrency,
            active=row.active, started_at=row.started_at, seen_at=row.seen_at,
            seen_seconds_ago=round(ago, 3), alive=not stopped and ago <= alive_within, stopped=stopped,
            sandbox=row.sandbox or "",
        ))
    return lines


def live_workers(session: Session, since: datetime) -> int:
    """Workers running and heard from since `since`."""
    return session.scalar(select(func.count()).select_from(WorkerHeartbeat).where(
        WorkerHeartbeat.stopped_at.is_(None), WorkerHeartbeat.seen_at >= since)) or 0
