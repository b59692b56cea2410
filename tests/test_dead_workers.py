"""Recovery rules as plain function calls on both stacks: the claims of a dead worker (or of a
killed pool process) are freed within a few heartbeats, live ones are not, results kept while
the database was away are stored later, and orphan uploads are removed while committed ones stay.

tests/faults/test_recovery.py drives the same code through real processes."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.support.grading import attempts, claim, queued_submission, row, store
from tests.support.stacks import Stack

HEARTBEAT = 5.0  # the default worker_heartbeat_seconds
PIDS = itertools.count(4000)


@pytest.fixture
def worker_identity() -> Iterator[object]:
    """Pretend to be a worker's pool process: its node name and main pid are known (a pid of its
    own per test: the stack's database is shared by the module's tests)."""
    from worker import identity

    me = identity.Identity("celery@test-node", next(PIDS), "cpu", 1)
    identity.remember(me)
    yield me
    identity._current = None


def beat(me: object, grading: list[int], ago: float = 0.0, stopped: bool = False) -> None:
    """Write the worker's heartbeat row as it was `ago` seconds ago."""
    from app.db import session_scope
    from app.models import WorkerHeartbeat, utcnow
    from worker.heartbeat import write

    with session_scope() as session:
        write(session, me, grading, stopped)  # type: ignore[arg-type]
        session.execute(update(WorkerHeartbeat).values(seen_at=utcnow() - timedelta(seconds=ago)))


def claimed_ago(sid: int, seconds: float) -> None:
    from app.db import session_scope
    from app.models import GradingAttempt, utcnow

    with session_scope() as session:
        session.execute(update(GradingAttempt).where(GradingAttempt.submission_id == sid)
                        .values(started_at=utcnow() - timedelta(seconds=seconds)))


def freed(free_claims: bool = True) -> set[int]:
    """Sweep; the ids sent again (other tests' leftovers on the shared stack included)."""
    from app.db import session_scope
    from app.models import utcnow
    from worker.sweep import sweep

    with session_scope() as session:
        return {i for i, _queue in sweep(session, utcnow(), free_claims=free_claims).resend}


def test_an_attempt_records_the_worker_node_and_pids(stack: Stack, worker_identity) -> None:
    from app.db import session_scope
    from app.models import GradingAttempt

    sid = queued_submission()
    claim(sid)
    with session_scope() as session:
        attempt = session.query(GradingAttempt).filter_by(submission_id=sid).one()
        assert (attempt.worker_node, attempt.worker_pid, attempt.grading_pid) == (
            "celery@test-node", worker_identity.pid, os.getpid())


def test_a_silent_worker_loses_its_claims_at_once_not_after_the_lease(stack: Stack, worker_identity) -> None:
    sid = queued_submission()
    claim(sid)
    claimed_ago(sid, 30)
    beat(worker_identity, [sid], ago=2 * HEARTBEAT)  # two beats missed: not yet dead
    assert sid not in freed() and row(sid).status == "running"
    beat(worker_identity, [sid], ago=3 * HEARTBEAT + 1)  # three missed: dead (the lease is 270 s)
    assert sid in freed()
    assert row(sid).status == "queued" and attempts(sid) == [(1, "abandoned")]
    again = claim(sid)
    assert again is not None and again.attempt == 2 and store(again)


def test_a_killed_pool_process_is_noticed_by_its_live_workers_beat(stack: Stack, worker_identity) -> None:
    sid = queued_submission()
    claim(sid)
    claimed_ago(sid, 1)
    beat(worker_identity, [])  # a beat just after the claim may not list it yet
    assert sid not in freed()
    claimed_ago(sid, 2 * HEARTBEAT + 1)
    beat(worker_identity, [sid])  # listed: grading
    assert sid not in freed() and row(sid).status == "running"
    beat(worker_identity, [])  # the worker is alive but no longer grades it: its process died
    assert sid in freed() and row(sid).status == "queued"


def test_a_stopped_worker_or_one_that_never_beat_loses_its_claims(stack: Stack, worker_identity) -> None:
    sid = queued_submission()
    claim(sid)
    claimed_ago(sid, 3 * HEARTBEAT - 1)
    assert sid not in freed()  # no heartbeat row yet: a starting worker gets its first beats
    claimed_ago(sid, 3 * HEARTBEAT + 1)
    assert sid in freed()
    again = claim(sid)
    assert again is not None
    beat(worker_identity, [sid], stopped=True)  # shut down while its claim is still open
    assert sid in freed()


def test_claims_wait_while_the_sweeper_settles_after_an_outage(stack: Stack, worker_identity) -> None:
    sid = queued_submission()
    claim(sid)
    claimed_ago(sid, 60)
    beat(worker_identity, [sid], ago=40)
    assert sid not in freed(free_claims=False) and row(sid).status == "running"
    assert sid in freed(free_claims=True)


def test_a_kept_result_is_stored_once_the_database_answers(stack: Stack, worker_identity) -> None:
    from app.db import get_engine
    from worker import grading, spool

    sid = queued_submission()
    claimed = claim(sid)
    report = grading.run(claimed)
    spool.keep(claimed, report)
    assert spool.held_by(worker_identity) == [sid]  # listed in the heartbeat: the claim stays
    assert spool.flush(get_engine()) == 1
    assert spool.held_by(worker_identity) == [] and row(sid).status == "scored"
    assert attempts(sid) == [(1, "scored")]


def test_a_kept_result_whose_claim_was_lost_writes_nothing(stack: Stack, worker_identity) -> None:
    from app.db import get_engine
    from tests.support.grading import expire_lease
    from worker import grading, spool

    sid = queued_submission()
    old = claim(sid)
    spool.keep(old, grading.run(old))
    expire_lease(sid)
    new = claim(sid)
    assert spool.flush(get_engine()) == 0 and spool.held_by(worker_identity) == []
    assert store(new) and attempts(sid) == [(1, "abandoned"), (2, "scored")]


def test_orphan_uploads_are_deleted_and_committed_ones_promoted(stack: Stack) -> None:
    from app import storage
    from app.db import session_scope
    from app.models import Attachment

    sid = queued_submission()
    committed, orphan = storage.stage(b"committed"), storage.stage(b"orphan")
    assert committed.path is not None and orphan.path is not None
    with session_scope() as session:  # the row committed; the process died before the rename
        session.add(Attachment(submission_id=sid, filename="a.py", sha256=committed.digest, size=9,
                               kind="code", content_type="text/x-python"))
    assert storage.get(committed.digest) == b"committed"  # readers find it meanwhile
    assert storage.stale_pending(3600) == {}  # within the grace period nothing is touched
    past = time.time() - 7200
    for path in (committed.path, orphan.path):
        os.utime(path, (past, past))
    from worker.sweeper import Sweeper

    assert set(storage.stale_pending(3600).values()) == {committed.digest, orphan.digest}
    Sweeper().once()
    assert storage.blob_path(committed.digest).read_bytes() == b"committed"
    assert not orphan.path.exists() and not storage.blob_path(orphan.digest).exists()
    assert storage.stale_pending(0) == {}


def test_the_heartbeat_reports_what_live_grading_processes_hold(stack: Stack) -> None:
    """The broker's id is only a hint (fair order): each grading process says what it claimed."""
    import subprocess
    import sys

    from worker import identity, inflight

    me = identity.Identity("celery@inflight-test", os.getpid(), "gpu", 1)  # the solo pool: main grades
    identity.remember(me)
    try:
        assert inflight.held(me) == []
        with inflight.holding(41):
            assert inflight.held(me) == [41]
        assert inflight.held(me) == []
        gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout.strip()  # a pool process that was killed mid-grading
        leftover = inflight._dir(me) / gone
        leftover.write_text("42")
        assert inflight.held(me) == [] and not leftover.exists()
    finally:
        identity._current = None


def test_two_sweepers_at_once_send_a_stale_id_once(stack: Stack) -> None:
    """PostgreSQL: SKIP LOCKED; SQLite: sweeps take turns on a lock file. Either way one resend."""
    from concurrent.futures import ThreadPoolExecutor

    from app.db import session_scope
    from app.models import Submission, utcnow
    from worker.sweeper import Sweeper

    sid = queued_submission()
    with session_scope() as session:  # waiting for ten minutes: its id never reached the broker
        session.execute(update(Submission).where(Submission.id == sid)
                        .values(queued_at=utcnow() - timedelta(minutes=10), resend_at=None))
    sweepers = [Sweeper(), Sweeper()]
    with ThreadPoolExecutor(2) as pool:
        swept = list(pool.map(lambda s: s.once(), sweepers))
    assert all(s is not None for s in swept)  # neither sweep was skipped
    assert sum(i == sid for s in swept for i, _queue in s.resend) == 1  # type: ignore[union-attr]
