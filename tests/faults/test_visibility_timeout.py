"""A Redis visibility timeout far shorter than the grading: duplicate deliveries, one result.

Proves: with the visibility timeout shrunk to 2 s and real sandboxed gradings taking ~6 s,
Redis hands each unacknowledged message to another worker process while the first is still
grading; those second deliveries find the submission claimed and return "skipped" without
writing anything. Every submission gets exactly one grading attempt and one verdict.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.faults.kit import slow_predict, student_tokens, worker_ready
from tests.support.web import make_client

SUBMISSIONS = 2
SETTINGS = {
    "CAMP_BROKER_VISIBILITY_TIMEOUT_SECONDS": "2",
    "CAMP_GRADING_WALL_SECONDS": "12",
    "CAMP_GRADING_SOFT_TIME_LIMIT_SECONDS": "14",
    "CAMP_GRADING_TIME_LIMIT_SECONDS": "16",
    "CAMP_GRADING_LEASE_SECONDS": "20",
}
URL = "/api/v1/courses/dl-bootcamp/assignments/6-2/submissions"


@pytest.mark.slow
def test_second_delivery_cannot_claim(make_stack) -> None:
    with make_stack(**SETTINGS) as fs, make_client() as client:
        stack = fs.stack
        # three pool processes, two busy grading: the third receives the redeliveries
        worker_ready(stack, stack.start_worker("-Q", "gpu", "-c", str(SUBMISSIONS + 1)))
        package = {"files": ("predict.zip", slow_predict(6))}
        ids = [client.post(URL, data={"text": "作业6-2：慢"}, files=package, headers=h).json()["id"]
               for h in student_tokens(SUBMISSIONS)]
        final = fs.wait_final(ids, timeout=60)

        log = stack.worker_log()
        received = Counter(re.findall(r"Task camp\.grade_submission\[([0-9a-f-]+)\] received", log))
        outcomes = Counter(re.findall(r"Task camp\.grade_submission\[[0-9a-f-]+\] succeeded in [\d.]+s: '(\w+)'",
                                      log))
        assert len(received) == SUBMISSIONS and all(n >= 2 for n in received.values()), received
        assert outcomes["scored"] == SUBMISSIONS and outcomes["skipped"] >= SUBMISSIONS, outcomes
        assert set(final.values()) == {"scored"}
        assert fs.rows("SELECT submission_id, count(*), count(*) FILTER (WHERE outcome = 'scored')"
                       " FROM grading_attempts WHERE submission_id = ANY(%s) GROUP BY submission_id"
                       " ORDER BY submission_id", ids) == [(i, 1, 1) for i in sorted(ids)]
        print(f"\ndeliveries per message {sorted(received.values())}; task results {dict(outcomes)}")
