"""The database goes away for a while under a running server and worker, then comes back.

Proves: while the stack's PostgreSQL database refuses connections (ALTER DATABASE ...
ALLOW_CONNECTIONS false, its sessions terminated; the shared server keeps running), the API
answers `503` with a clear message and a Retry-After header, /healthz says the database is
down, and nothing is half-written (no row, no floor taken by a refused reply). Replies posted
just before the outage, which the worker could not claim or store meanwhile, are graded once
it is back, and new replies work again, through the same server and worker processes.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.faults.kit import WebServer, elapsed, set_reachable, student_tokens, worker_ready
from tests.support.homework import make_course
from tests.support.stacks import wait_for

SETTINGS = {"CAMP_SWEEP_INTERVAL_SECONDS": "1", "CAMP_SWEEP_STALE_QUEUED_SECONDS": "3",
            "CAMP_WORKER_HEARTBEAT_SECONDS": "1"}
OUTAGE_SECONDS = 8
DOWN_MESSAGE = "Camp cannot reach its database right now; nothing was saved. Please try again in a minute."


@pytest.mark.slow
def test_database_outage_answers_503_and_everything_resumes(make_stack) -> None:
    with make_stack(**SETTINGS) as fs:
        stack = fs.stack
        worker = stack.start_worker("-Q", "cpu", "--beat", "-c", "1")
        worker_ready(stack, worker)
        # conv_opcount: cheap, but enough work that some replies are still waiting at the cut
        slug = make_course({"code": "7-1", "grading": {
            "kind": "conv_opcount", "input": [10, 3, 224, 224], "out_channels": 64, "kernel": [3, 3],
            "padding": 1, "bias": "count"}})
        students = student_tokens(4)
        web = WebServer(stack)
        web.start()
        url = f"{web.url}/api/v1/courses/{slug}/assignments/7-1/submissions"
        answer = {"text": "作业7-1：乘法867041280,加法867041280"}
        answered: list[int] = []
        try:
            with httpx.Client(timeout=30, headers={"Accept-Language": "en"}) as client:
                for i in range(20):
                    r = client.post(url, data=answer, headers=students[i % 4])
                    assert r.status_code == 201, r.text
                    answered.append(r.json()["id"])

                cut_at = fs.rows("SELECT now()")[0][0]
                set_reachable(fs.db_name, False)
                cut = time.monotonic()
                refused = []
                while time.monotonic() - cut < OUTAGE_SECONDS:
                    r = client.post(url, data=answer, headers=students[0])
                    refused.append(r)
                    time.sleep(0.3)
                health = client.get(f"{web.url}/healthz")
                poll = client.get(f"{web.url}/api/v1/submissions/{answered[-1]}", headers=students[0])
                set_reachable(fs.db_name, True)
                back = time.monotonic()

                assert {r.status_code for r in refused} == {503}
                assert {r.json()["detail"] for r in refused} == {DOWN_MESSAGE}
                assert all(r.json()["code"] == "unavailable" and r.headers["retry-after"] for r in refused)
                assert health.status_code == 503 and health.json()["database"].startswith("error")
                assert health.json()["broker"] == "ok"
                assert poll.status_code == 503

                def posted_again() -> int | None:
                    r = client.post(url, data=answer, headers=students[1])
                    return r.json()["id"] if r.status_code == 201 else None

                answered.append(wait_for(posted_again, timeout=30))  # type: ignore[arg-type]
                resumed = elapsed(back)
        finally:
            web.stop()

        rows = dict(fs.rows("SELECT s.id, s.floor FROM submissions s JOIN assignments a ON a.id = s.assignment_id"
                            " JOIN courses c ON c.id = a.course_id WHERE c.slug = %s", slug))
        assert sorted(rows) == sorted(answered)  # not one of the refused replies left a row
        assert sorted(rows.values()) == list(range(1, len(rows) + 1))  # nor took a floor
        final = fs.wait_final(answered, timeout=60)
        assert set(final.values()) == {"scored"}
        assert set(fs.scored_attempts(answered).values()) == {1}
        assert worker.poll() is None
        waiting_at_cut = fs.rows("SELECT count(*) FROM submissions WHERE id = ANY(%s) AND graded_at > %s",
                                 answered[:-1], cut_at)[0][0]
        print(f"\n{len(refused)} replies refused with 503 during a {OUTAGE_SECONDS}s outage; posting resumed "
              f"{resumed}s after; {len(answered)} replies graded once ({waiting_at_cut} finished after the cut)")
