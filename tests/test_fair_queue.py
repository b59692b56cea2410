"""The fair grading order (app/services/grading_order.py), on both stacks: round-robin across
students, at most one grading per student in flight per queue, rejudges last, a position and an
ETA for the live panel; and a real worker that follows it.

Each test gives its homework a queue of its own, so rows other tests left waiting never mix in.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.queue import enqueue_grading
from tests.support.homework import Reply, add_replies, make_course, make_users, now, own_queue
from tests.support.stacks import Stack, wait_for

WAITING = {"status": "queued", "verdict": None, "score": None}


def burst(slug: str, plan: list[int]) -> list[int]:
    """One waiting reply per author id in `plan`, one second apart, in that order."""
    start = now() - timedelta(minutes=10)
    return add_replies(slug, "1", [Reply(a, at=start + timedelta(seconds=i), **WAITING)  # type: ignore[arg-type]
                                   for i, a in enumerate(plan)])


def order(queue: str, limit: int = 50) -> list[int]:
    from app.db import session_scope
    from app.services.grading_order import next_ids

    with session_scope() as session:
        return next_ids(session, queue, limit=limit)


def claim(submission_id: int) -> None:
    from app.db import session_scope
    from worker.grading import claim as take

    with session_scope() as session:
        assert take(session, submission_id) is not None


def finish(submission_id: int, seconds: float = 2.0) -> None:
    """As if a worker graded it (its attempt took `seconds`)."""
    from app.db import session_scope
    from app.models import GradingAttempt, Submission

    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == submission_id)
                        .values(status="scored", verdict="accepted", score=1.0, lease_until=None))
        attempt = session.scalars(select(GradingAttempt).where(GradingAttempt.submission_id == submission_id)
                                  .order_by(GradingAttempt.number.desc())).first()
        assert attempt is not None
        attempt.started_at = now() - timedelta(seconds=seconds)
        attempt.finished_at, attempt.outcome = now(), "scored"


def test_round_robin_across_students_and_one_in_flight_per_student(stack: Stack) -> None:
    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    queue = own_queue(slug)
    a, b, c = make_users(3)
    # a posts a burst of four before b and c post one each
    a1, a2, a3, a4, b1, c1 = burst(slug, [a, a, a, a, b, c])
    assert order(queue) == [a1, b1, c1, a2, a3, a4]

    claim(a1)  # a is being graded: none of a's others may start, b and c go first
    assert order(queue) == [b1, c1]
    finish(a1)
    claim(b1)
    # a was served, c never: c first, then a's next; b has one in flight
    assert order(queue) == [c1, a2, a3, a4]
    finish(b1)
    claim(c1)
    finish(c1)
    assert order(queue) == [a2, a3, a4]


def test_rejudges_wait_behind_first_gradings(stack: Stack) -> None:
    from app.db import session_scope
    from app.models import Submission, User
    from app.services.rejudge import rejudge_submission

    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    queue = own_queue(slug)
    a, b = make_users(2)
    [staff] = make_users(1, role="instructor")
    graded = add_replies(slug, "1", [Reply(a, at=now() - timedelta(hours=2))])[0]
    with session_scope() as session:
        submission = session.get(Submission, graded)
        actor = session.get(User, staff)
        assert submission is not None and actor is not None
        assert rejudge_submission(session, submission, actor)
        assert submission.low_priority
    later = burst(slug, [b])  # a first grading that came later still goes first
    assert order(queue) == [later[0], graded]


def test_position_and_eta_follow_the_fair_order(stack: Stack) -> None:
    from app.web.events import _snapshot

    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    queue = own_queue(slug)
    a, b = make_users(2)
    a1, a2, a3, b1 = burst(slug, [a, a, a, b])
    snaps = {sid: _snapshot(sid, "en") for sid in (a1, a2, a3, b1)}
    ahead = {sid: s["queue_ahead"] for sid, s in snaps.items() if s}
    assert ahead == {a1: 0, b1: 1, a2: 2, a3: 3}  # b's only reply waits behind one of a's, not three
    assert all(s and s["eta_seconds"] is None for s in snaps.values())  # nothing graded yet: no ETA

    claim(a1)
    finish(a1, seconds=4.0)  # one grading of 4 s in this queue, no live worker: one slot
    snap = _snapshot(a3, "zh_CN")
    assert snap and snap["queue_ahead"] == 2 and snap["eta_seconds"] == 12.0
    assert snap["queue_label"] == "排队中：前面还有 2 份提交，约 12 秒后出结果"
    assert order(queue) == [b1, a2, a3]


@pytest.mark.slow  # starts a worker process of its own
def test_a_worker_grades_in_the_fair_order_one_per_student(stack: Stack) -> None:
    """A real worker with two processes: a's burst of four and b's two, sent in arrival order."""
    from app.db import session_scope
    from app.models import GradingAttempt, Submission

    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    queue = own_queue(slug)
    a, b = make_users(2)
    ids = burst(slug, [a, a, a, a, b, b])
    author = dict(zip(ids, [a, a, a, a, b, b], strict=True))
    for sid in ids:
        enqueue_grading(sid, queue)
    proc = stack.start_worker("-Q", queue, "-c", "2")
    try:
        def graded() -> list[tuple[int, object, object]] | None:
            with session_scope() as session:
                done = session.scalar(select(Submission.id).where(Submission.id.in_(ids),
                                                                    Submission.status != "scored").limit(1))
                if done is not None:
                    return None
                return list(session.execute(
                    select(GradingAttempt.submission_id, GradingAttempt.started_at, GradingAttempt.finished_at)
                    .where(GradingAttempt.submission_id.in_(ids)).order_by(GradingAttempt.started_at)))

        attempts = wait_for(graded, timeout=120)
    finally:
        stack.stop_workers()
    assert proc.returncode is not None
    assert isinstance(attempts, list) and len(attempts) == len(ids)  # each graded once
    # never two of one student's gradings at once
    for i, (sid, _start, end) in enumerate(attempts):
        for other, other_start, _ in attempts[i + 1:]:
            if author[other] == author[sid]:
                assert other_start >= end, (sid, other)
    # b's first went before a's second
    started = [sid for sid, _s, _e in attempts]
    assert started.index(ids[4]) < started.index(ids[1])
