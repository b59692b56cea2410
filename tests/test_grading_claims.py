"""The grading state machine, called as plain functions on both stacks (no broker, no worker):
claims, leases, results stored once per round, capped tries, the sweep, and rejudges.

The fault tests in tests/faults/ drive the same code through real processes; these pin down
each rule on its own, quickly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.support.grading import (
    attempts,
    claim,
    expire_lease,
    queue_of,
    queued_submission,
    row,
    store,
    sweep,
)
from tests.support.homework import make_users, now
from tests.support.stacks import Stack


@pytest.fixture
def settings_env(stack: Stack, monkeypatch: pytest.MonkeyPatch):
    """Change pipeline settings for one test (the stack's other settings stay)."""
    from tests.support.stacks import reset_caches

    def apply(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        reset_caches()

    yield apply
    monkeypatch.undo()
    reset_caches()


def test_a_claim_is_exclusive_and_a_finished_submission_cannot_be_claimed(stack: Stack) -> None:
    sid = queued_submission()
    first = claim(sid)
    assert first is not None and first.attempt == 1 and first.try_number == 1
    assert claim(sid) is None  # a second delivery while the lease is live
    assert store(first) is True
    assert claim(sid) is None  # a redelivery after the verdict: a no-op
    assert row(sid).status == "scored" and attempts(sid) == [(1, "scored")]


def test_an_expired_claim_is_taken_over_and_the_old_result_is_not_stored(stack: Stack) -> None:
    sid = queued_submission()
    old = claim(sid)
    expire_lease(sid)
    new = claim(sid)
    assert new is not None and new.attempt == 2
    assert store(old) is False  # the first worker came back too late
    assert store(new) is True
    assert attempts(sid) == [(1, "abandoned"), (2, "scored")]
    assert row(sid).status == "scored"


def test_the_sweep_requeues_expired_leases_then_gives_up_for_the_staff(stack: Stack, settings_env) -> None:
    settings_env(CAMP_GRADING_MAX_ATTEMPTS="2")
    sid = queued_submission()
    for number in (1, 2):
        assert claim(sid).attempt == number
        expire_lease(sid)
        swept = sweep()
        assert sid in [i for i, _queue in swept.resend] or number == 2
    submission = row(sid)
    assert submission.status == "failed" and "interrupted 2 times" in submission.error
    assert attempts(sid) == [(1, "abandoned"), (2, "abandoned")]
    assert claim(sid) is None


def test_the_sweep_resends_stale_queued_work_backing_off(stack: Stack) -> None:
    from app.config import get_settings
    from app.db import session_scope
    from app.models import Submission

    sid = queued_submission()
    waiting_since = now() - timedelta(seconds=get_settings().sweep_stale_queued_seconds + 5)
    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == sid).values(queued_at=waiting_since))
    assert (sid, queue_of(sid)) in sweep().resend
    assert sid not in [i for i, _ in sweep().resend]  # just sent: not again for a while
    submission = row(sid)
    assert abs((submission.queued_at - waiting_since).total_seconds()) < 1e-3  # still "waiting since"
    waited = (now() - waiting_since).total_seconds()
    # the next resend waits as long as the submission has waited so far
    assert waited - 2 < (submission.resend_at - now()).total_seconds() <= waited + 1

    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:  # time passes: due again
        session.execute(update(Submission).where(Submission.id == sid).values(
            resend_at=now() - timedelta(seconds=1)))
    assert (sid, queue_of(sid)) in sweep().resend


def test_infrastructure_failures_are_retried_then_failed(stack: Stack) -> None:
    from app.db import session_scope
    from worker import grading

    sid = queued_submission()
    outcomes = []
    for _ in range(3):
        claimed = claim(sid)
        with session_scope() as session:
            outcomes.append(grading.store_infrastructure_failure(session, claimed, "sandbox broke"))
    assert outcomes == [True, True, False]
    submission = row(sid)
    assert submission.status == "failed" and submission.error.startswith("grading failed 3 times")
    assert [o for _n, o in attempts(sid)] == ["infrastructure_error"] * 3


def test_a_rejudge_overtakes_a_running_grading_and_gets_fresh_tries(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.db import session_scope
    from app.models import Submission, User
    from app.services import rejudge

    sent: list[int] = []
    monkeypatch.setattr(rejudge, "enqueue_grading", lambda sid, queue: sent.append(sid))  # no worker here

    sid = queued_submission()
    running = claim(sid)
    [teacher_id] = make_users(1, role="instructor", prefix="t")
    with session_scope() as session:
        assert rejudge.rejudge_submission(session, session.get(Submission, sid), session.get(User, teacher_id))
    assert sent == [sid]  # after the commit
    assert store(running) is False  # overtaken: its result is not the new round's
    again = claim(sid)
    assert again.attempt == 2 and again.try_number == 1
    assert store(again) is True
    assert attempts(sid) == [(1, "superseded"), (2, "scored")]


def test_time_bounds_must_be_in_order() -> None:
    """wall < soft limit < hard limit < lease, or no lease expiry could mean "the worker is gone"."""
    from pydantic import ValidationError

    from app.config import Settings

    defaults = Settings()
    assert defaults.grading_wall_seconds < defaults.soft_time_limit < defaults.time_limit < defaults.lease_seconds
    assert defaults.lease_seconds < 30 * 60
    with pytest.raises(ValidationError, match=r"CAMP_GRADING_TIME_LIMIT_SECONDS .* less than CAMP_GRADING_LEASE"):
        Settings(grading_time_limit_seconds=600, grading_lease_seconds=300)
