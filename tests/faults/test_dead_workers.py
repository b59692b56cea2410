"""kill -9 of a grading worker: its grading starts again within 30 s, not after the lease.

Proves: with the default heartbeat (5 s), misses (3) and sweep interval (5 s), and the default
lease (270 s), a worker killed in the middle of a real sandboxed MNIST grading — its pool child
(the grading process), its main process (the child is orphaned and finishes), or the whole
group — has that grading running again (or finished) within 30 s of the kill, on another worker
as a supervisor would start it. The sweeper runs as its own process (`camp sweeper`). Every
submission ends `scored` once; every interrupted attempt is closed `abandoned` with the reason.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.faults.kit import children, slow_predict, start_sweeper, student_tokens, worker_ready
from tests.support.stacks import wait_for
from tests.support.web import make_client

GOAL_SECONDS = 30
GRADING_SECONDS = 8
URL = "/api/v1/courses/dl-bootcamp/assignments/6-2/submissions"


def running_attempt(fs, sid: int) -> tuple[int, float] | None:
    """(attempt number, seconds into it) of the submission's open attempt."""
    rows = fs.rows("SELECT a.number, extract(epoch FROM now() - a.started_at) FROM grading_attempts a"
                   " JOIN submissions s ON s.id = a.submission_id AND s.attempts = a.number"
                   " WHERE s.id = %s AND s.status = 'running' AND a.outcome IS NULL", sid)
    return (rows[0][0], float(rows[0][1])) if rows else None


def recovered_after(fs, sid: int, killed_at: object) -> float | None:
    """Seconds from the kill to a new attempt's start or to the verdict, whichever came first."""
    rows = fs.rows("SELECT extract(epoch FROM least("
                   " (SELECT min(started_at) FROM grading_attempts WHERE submission_id = %s AND started_at > %s),"
                   " (SELECT graded_at FROM submissions WHERE id = %s AND status = 'scored')) - %s)",
                   sid, killed_at, sid, killed_at)
    return None if rows[0][0] is None else float(rows[0][0])


@pytest.mark.slow
def test_a_killed_worker_grading_restarts_within_30_seconds(make_stack) -> None:
    with make_stack() as fs, make_client() as client:
        stack = fs.stack
        start_sweeper(stack)
        grader = stack.start_worker("-Q", "gpu", "-c", "1")
        worker_ready(stack, grader)
        students = student_tokens(3)
        package = {"files": ("predict.zip", slow_predict(GRADING_SECONDS))}
        delays: dict[str, float] = {}
        ids = []
        for mode, headers in zip(("child", "main", "group"), students, strict=True):
            created = client.post(URL, data={"text": "作业6-2：慢"}, files=package, headers=headers)
            assert created.status_code == 201, created.text
            sid = created.json()["id"]
            ids.append(sid)
            wait_for(lambda sid=sid: (running_attempt(fs, sid) or (0, 0.0))[1] > 1.0, timeout=120)
            killed_at = fs.rows("SELECT now()")[0][0]
            if mode == "child":
                for pid in children(grader.pid):
                    os.kill(pid, signal.SIGKILL)
            else:
                if mode == "main":
                    os.kill(grader.pid, signal.SIGKILL)  # the pool child is orphaned, keeps grading
                else:
                    os.killpg(grader.pid, signal.SIGKILL)  # main, pool child and sandbox at once
                grader.wait()
                grader = stack.start_worker("-Q", "gpu", "-c", "1")  # as a supervisor would
                worker_ready(stack, grader)
            started = time.monotonic()
            wait_for(lambda sid=sid, at=killed_at: recovered_after(fs, sid, at) is not None, timeout=120)
            delays[mode] = round(recovered_after(fs, sid, killed_at) or 0.0, 1)
            assert time.monotonic() - started < 120
        final = fs.wait_final(ids, timeout=180)

        assert set(final.values()) == {"scored"}
        assert set(fs.scored_attempts(ids).values()) == {1}
        outcomes = fs.rows("SELECT outcome, error FROM grading_attempts WHERE submission_id = ANY(%s)"
                           " AND outcome <> 'scored'", ids)
        assert all(outcome == "abandoned" and "stopped beating" in error for outcome, error in outcomes), outcomes
        assert len(outcomes) >= 2  # the child's and the group's gradings died with them
        assert all(delay <= GOAL_SECONDS for delay in delays.values()), delays
        print(f"\nkill -9 to grading again (or done): {delays} s; lease 270 s; attempts not scored: {len(outcomes)}")
