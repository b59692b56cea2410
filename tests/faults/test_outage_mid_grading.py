"""The database is away for 30 s while real gradings run and messages wait: nothing is lost,
nothing is graded again.

Proves: with a worker grading real sandboxed MNIST packages (two at a time, more waiting in
Redis) and the sweeper running, cutting the stack's PostgreSQL database for 30 s (connections
refused, sessions terminated) loses no message — claims that meet the outage retry, then
succeed — and discards no finished result: gradings that finish during the outage keep their
result (retried inside the task while its time limit allows, then kept on the worker's disk
and stored by its heartbeat thread once the database is back). Every submission ends `scored`
with exactly one attempt: 0 gradings redone. The soft time limit is set low (30 s) so that
some results outlive the task's own patience and take the kept-on-disk path.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.faults.kit import elapsed, set_reachable, slow_predict, start_sweeper, student_tokens, worker_ready
from tests.support.stacks import wait_for
from tests.support.web import make_client

OUTAGE_SECONDS = 30
SUBMISSIONS = 6
SETTINGS = {"CAMP_GRADING_WALL_SECONDS": "20", "CAMP_GRADING_SOFT_TIME_LIMIT_SECONDS": "30",
            "CAMP_GRADING_TIME_LIMIT_SECONDS": "60", "CAMP_GRADING_LEASE_SECONDS": "120",
            "CAMP_WORKER_HEARTBEAT_SECONDS": "2", "CAMP_SWEEP_INTERVAL_SECONDS": "2",
            "CAMP_SWEEP_STALE_QUEUED_SECONDS": "20"}
URL = "/api/v1/courses/dl-bootcamp/assignments/6-2/submissions"


@pytest.mark.slow
def test_a_30_second_outage_mid_grading_loses_nothing_and_redoes_nothing(make_stack) -> None:
    with make_stack(**SETTINGS) as fs, make_client() as client:
        stack = fs.stack
        start_sweeper(stack)
        worker = stack.start_worker("-Q", "gpu", "-c", "2")
        worker_ready(stack, worker)
        package = {"files": ("predict.zip", slow_predict(4))}
        ids = []
        for headers in student_tokens(SUBMISSIONS):
            created = client.post(URL, data={"text": "作业6-2：慢"}, files=package, headers=headers)
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        wait_for(lambda: list(fs.statuses(ids).values()).count("running") == 2, timeout=120)
        before = fs.statuses(ids)
        set_reachable(fs.db_name, False)
        cut = time.monotonic()
        try:
            time.sleep(OUTAGE_SECONDS)
        finally:
            set_reachable(fs.db_name, True)
        outage = elapsed(cut)
        final = fs.wait_final(ids, timeout=240)

        assert set(final.values()) == {"scored"}, final
        per_submission = dict(fs.rows("SELECT submission_id, count(*) FROM grading_attempts"
                                      " WHERE submission_id = ANY(%s) GROUP BY submission_id", ids))
        assert per_submission == {i: 1 for i in ids}, per_submission  # 0 gradings redone
        assert set(fs.scored_attempts(ids).values()) == {1}
        log = stack.worker_log()
        kept = len(re.findall(r"is kept until it can be stored", log))
        stored_later = len(re.findall(r"kept result of submission \d+ stored", log))
        retried = len(re.findall(r"database unavailable \(\w+\); retrying", log))
        assert kept == stored_later, (kept, stored_later)
        assert retried > 0 and worker.poll() is None
        print(f"\n{outage}s outage with {list(before.values()).count('running')} gradings running and "
              f"{list(before.values()).count('queued')} waiting: all {len(ids)} scored with one attempt each; "
              f"{kept} results kept on disk and stored after the outage, {retried} retried statements")
