"""The broker dies and comes back empty while 100 submissions wait in it.

Proves: with 100 replies committed and their ids waiting in Redis, a kill -9 of Redis and a
restart without persistence (everything it held is gone: a flush) loses no submission and
grades none twice. The sweeper (started beside the `cpu` worker by `--beat`) sends the
ids again from the database; the `gpu` worker grades each exactly once (one attempt per
submission). Uses a throwaway redis-server of its own, never the shared one.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.kit import RedisServer, elapsed, student_tokens, worker_ready
from tests.support.homework import make_course, send_to_queue
from tests.support.web import make_client

SUBMISSIONS = 100
SETTINGS = {
    "CAMP_SWEEP_INTERVAL_SECONDS": "1",
    "CAMP_SWEEP_STALE_QUEUED_SECONDS": "10",
    "CAMP_WORKER_HEARTBEAT_SECONDS": "1",
}


@pytest.mark.slow
def test_redis_restarted_empty_with_100_queued_loses_nothing(make_stack, tmp_path) -> None:
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        with make_stack(CAMP_BROKER_URL=redis.url, **SETTINGS) as fs, make_client() as client:
            stack = fs.stack
            prefix = stack.env["CAMP_BROKER_KEY_PREFIX"]
            sweeper = stack.start_worker("-Q", "cpu", "--beat")
            worker_ready(stack, sweeper)
            # a cheap homework on the gpu queue, where no worker listens yet: the ids wait in Redis
            slug = make_course({"code": "1-1", "grading": {"kind": "reply_format"}})
            send_to_queue(slug, "1-1", "gpu")
            url = f"/api/v1/courses/{slug}/assignments/1-1/submissions"
            students = student_tokens(10)
            started = time.monotonic()
            ids = []
            for i in range(SUBMISSIONS):
                created = client.post(url, data={"text": f"作业1-1：第{i}份"}, headers=students[i % 10])
                assert created.status_code == 201, created.text
                ids.append(created.json()["id"])
            assert redis.client().llen(prefix + "gpu") >= SUBMISSIONS  # type: ignore[attr-defined]
            assert elapsed(started) < 10, "posting took longer than the staleness threshold"

            redis.kill()
            time.sleep(1)
            redis.start()  # same port, nothing kept
            assert redis.client().llen(prefix + "gpu") == 0  # type: ignore[attr-defined]
            restarted = time.monotonic()

            worker_ready(stack, stack.start_worker("-Q", "gpu", "-c", "2"))
            final = fs.wait_final(ids, timeout=90)
            recovered = elapsed(restarted)

            assert set(final.values()) == {"scored"}
            assert set(fs.scored_attempts(ids).values()) == {1}
            assert fs.rows("SELECT count(*) FROM grading_attempts WHERE submission_id = ANY(%s)", ids) == [
                (SUBMISSIONS,)]  # nobody even started a second grading
            assert sweeper.poll() is None  # the sweeping worker rode out the outage
            beat = fs.rows("SELECT extract(epoch FROM now() - max(seen_at)) FROM worker_heartbeats"
                           " WHERE queues = 'cpu'")[0][0]
            assert float(beat) < 5
            print(f"\n{SUBMISSIONS} queued, Redis killed and restarted empty; all graded once "
                  f"{recovered}s after it came back")
    finally:
        redis.kill()
