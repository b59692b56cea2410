"""The grading state machine's steps as plain calls, for tests that drive it without a broker or
a worker (tests/test_grading_claims.py, tests/test_dead_workers.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from tests.support.homework import Reply, add_replies, make_course, make_users, now, own_queue


def queued_submission(code: str = "7-1", grading: dict | None = None) -> int:
    """A fresh `queued` conv_opcount reply inserted directly (nothing is sent to a broker), on a
    queue of its own: a worker another test started in this process takes the next waiting row
    of the queues it serves (the fair order), and must not take this one."""
    from app.db import session_scope
    from app.models import Submission

    slug = make_course({"code": code, "grading": grading or {
        "kind": "conv_opcount", "input": [10, 3, 224, 224], "out_channels": 64, "kernel": [3, 3],
        "padding": 1, "bias": "count"}})
    own_queue(slug)
    [author] = make_users(1)
    [sid] = add_replies(slug, code, [Reply(author, status="queued", verdict=None, score=None)])
    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == sid).values(
            attempts=0, queued_at=now(), text="作业7-1：乘法867041280,加法867041280"))
    return sid


def claim(sid: int):
    from app.db import session_scope
    from worker import grading

    with session_scope() as session:
        return grading.claim(session, sid)


def store(claimed) -> bool:
    from app.db import session_scope
    from worker import grading

    report = grading.run(claimed)
    with session_scope() as session:
        return grading.store_verdict(session, claimed, report)


def expire_lease(sid: int) -> None:
    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == sid)
                        .values(lease_until=now() - timedelta(seconds=1)))


def row(sid: int):
    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        return session.get(Submission, sid)


def queue_of(sid: int) -> str:
    from app.db import session_scope
    from app.models import Assignment, Submission

    with session_scope() as session:
        return session.scalar(select(Assignment.queue).join(Submission).where(Submission.id == sid))


def attempts(sid: int) -> list[tuple[int, str | None]]:
    from app.db import session_scope
    from app.models import GradingAttempt

    with session_scope() as session:
        return [(a.number, a.outcome) for a in session.scalars(
            select(GradingAttempt).where(GradingAttempt.submission_id == sid).order_by(GradingAttempt.number))]


def sweep():
    from app.db import session_scope
    from worker.sweep import sweep as run_sweep

    with session_scope() as session:
        return run_sweep(session, now())
