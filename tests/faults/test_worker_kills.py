"""kill -9 of grading workers in the middle of real, slow, sandboxed gradings.

Proves: with a stream of MNIST submissions whose `predict` sleeps (a real grading in the real
sandbox, ~3 s), killing the grading worker with SIGKILL over and over, in turn its main process,
its pool child (the process running the grading, whose sandbox dies with it) or both, never
loses a submission and never stores two verdicts: every submission ends `scored` with exactly
one attempt that stored a verdict, every interrupted attempt is closed as `abandoned`, and a
monitor sampling the database twice a second never sees a claim left `running` past its lease
plus the sweep interval (plus slack), nor a queued id left unsent past the staleness threshold.

The killed worker serves the `gpu` queue (where 6-2 goes); a `cpu` worker started with `--beat`
runs a sweeper beside it and is not killed. tests/faults/test_dead_workers.py measures how soon
a killed grading starts again with the default heartbeat and lease.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import pytest

from tests.faults.kit import FaultStack, children, elapsed, slow_predict, student_tokens, worker_ready
from tests.support.web import make_client

KILLS = 20
GRADING_SECONDS = 2.5
QUEUE_DEPTH = 2
SETTINGS = {
    "CAMP_GRADING_WALL_SECONDS": "8",
    "CAMP_GRADING_SOFT_TIME_LIMIT_SECONDS": "10",
    "CAMP_GRADING_TIME_LIMIT_SECONDS": "12",
    "CAMP_GRADING_LEASE_SECONDS": "14",
    "CAMP_SWEEP_INTERVAL_SECONDS": "1",
    "CAMP_SWEEP_STALE_QUEUED_SECONDS": "30",
    "CAMP_WORKER_HEARTBEAT_SECONDS": "1",
}
LEASE, SWEEP, STALE = 14.0, 1.0, 30.0
SLACK = 4.0  # a sweep is one Celery task among others on a busy 2-core machine
URL = "/api/v1/courses/dl-bootcamp/assignments/6-2/submissions"


class Monitor(threading.Thread):
    """Samples the database: claims running past lease + sweep, queued ids unsent past staleness."""

    def __init__(self, fs: FaultStack) -> None:
        super().__init__(daemon=True)
        self.fs, self.stop, self.violations = fs, threading.Event(), []

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.violations += self.fs.rows(
                "SELECT id, status, now() FROM submissions WHERE"
                " (status = 'running' AND lease_until < now() - make_interval(secs => %s))"
                " OR (status = 'queued' AND (resend_at < now() - make_interval(secs => %s)"
                " OR (resend_at IS NULL AND queued_at < now() - make_interval(secs => %s))))",
                SWEEP + SLACK, SWEEP + SLACK, STALE + SWEEP + SLACK)


def fresh_claim(fs: FaultStack, ids: list[int], since: object) -> tuple[int, float, int] | None:
    """(submission, seconds into its grading, try in round) of a claim taken after `since`."""
    rows = fs.rows(
        "SELECT s.id, extract(epoch FROM now() - a.started_at), s.attempts - s.attempt_base"
        " FROM grading_attempts a JOIN submissions s ON s.id = a.submission_id"
        " WHERE a.outcome IS NULL AND s.status = 'running' AND s.attempts = a.number"
        " AND s.id = ANY(%s) AND a.started_at > %s ORDER BY a.started_at DESC LIMIT 1", ids, since)
    return (rows[0][0], float(rows[0][1]), rows[0][2]) if rows else None


@pytest.mark.slow
def test_kill_9_of_grading_workers_loses_nothing_and_grades_once(make_stack) -> None:
    rng = random.Random(5)
    with make_stack(**SETTINGS) as fs, make_client() as client:
        stack = fs.stack
        worker_ready(stack, stack.start_worker("-Q", "cpu", "--beat"))
        grader = stack.start_worker("-Q", "gpu", "-c", "1")
        worker_ready(stack, grader)
        since = fs.rows("SELECT now()")[0][0]
        students = student_tokens(40)
        package = {"files": ("predict.zip", slow_predict(GRADING_SECONDS))}
        ids: list[int] = []

        def top_up() -> None:
            waiting = sum(1 for s in fs.statuses(ids).values() if s == "queued") if ids else 0
            for _ in range(QUEUE_DEPTH - waiting):
                created = client.post(URL, data={"text": "作业6-2：慢"}, files=package,
                                      headers=students[len(ids) % len(students)])
                assert created.status_code == 201, created.text
                ids.append(created.json()["id"])

        monitor = Monitor(fs)
        monitor.start()
        started, kills = time.monotonic(), []
        while len(kills) < KILLS:
            top_up()
            target = fresh_claim(fs, ids, since)
            if target is None or target[1] < 0.8 or target[2] >= 3:  # the 3rd try is left alone
                time.sleep(0.1)
                assert time.monotonic() - started < 400, stack.worker_log()[-5000:]
                continue
            time.sleep(rng.uniform(0.0, 1.2))  # somewhere in the middle of the grading
            mode = ("child", "main", "group")[len(kills) % 3]
            if mode == "child":
                for pid in children(grader.pid):
                    os.kill(pid, signal.SIGKILL)
            else:
                if mode == "group":
                    os.killpg(grader.pid, signal.SIGKILL)  # main, pool child and sandbox at once
                else:
                    os.kill(grader.pid, signal.SIGKILL)  # the pool child is orphaned, keeps grading
                grader.wait()
                grader = stack.start_worker("-Q", "gpu", "-c", "1")  # as a supervisor would
                worker_ready(stack, grader)
            kills.append((target[0], mode))
            since = fs.rows("SELECT now()")[0][0]
        kill_time = elapsed(started)

        final = fs.wait_final(ids, timeout=LEASE + SWEEP + 4 * (GRADING_SECONDS + 3) + 60)
        monitor.stop.set()
        monitor.join()
        total = elapsed(started)

        assert set(final.values()) == {"scored"}, final
        assert set(fs.scored_attempts(ids).values()) == {1}
        outcomes = dict(fs.rows("SELECT outcome, count(*) FROM grading_attempts WHERE submission_id = ANY(%s)"
                                " GROUP BY outcome", ids))
        assert None not in outcomes and outcomes["scored"] == len(ids)
        lost = sum(1 for _sid, mode in kills if mode != "main")  # main-only kills may finish in the orphan
        assert outcomes.get("abandoned", 0) >= lost
        assert monitor.violations == [], monitor.violations[:5]
        longest = fs.rows("SELECT max(extract(epoch FROM graded_at - created_at)) FROM submissions"
                          " WHERE id = ANY(%s)", ids)[0][0]
        print(f"\n{len(kills)} kills ({', '.join(m for _s, m in kills)}) in {kill_time}s on {len(ids)} "
              f"submissions; all scored once after {total}s; attempts {outcomes}; "
              f"longest submit-to-verdict {float(longest):.1f}s")
