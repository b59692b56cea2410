"""Homework 3-1 states `回帖形式：作业3-1(1)XX(2)XX`. A reply written that way, to the homework or
in the course thread, is graded `accepted` by a real worker and counts as an entry of the
homework's lottery (before the fix it was a `format_error`, and the draw froze with 0 entries)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.stacks import Stack, wait_for
from tests.support.web import add_user, api_token


def _graded(client: TestClient, submission_id: int, headers: dict[str, str]) -> dict[str, object]:
    def done() -> dict[str, object] | None:
        body = client.get(f"/api/v1/submissions/{submission_id}", headers=headers).json()
        return body if body["status"] in ("scored", "failed", "rejected") else None

    return wait_for(done, timeout=90)  # type: ignore[return-value]


@pytest.mark.slow
def test_a_reply_in_3_1s_stated_format_is_accepted_and_an_entry(client: TestClient,
                                                                running_worker: Stack) -> None:
    from app.db import session_scope
    from app.models import utcnow
    from app.services.courses import get_assignment
    from app.services.entries import collect_entries, parse_reward

    headers = {"Authorization": f"Bearer {api_token(running_worker, add_user(running_worker))}"}
    direct = client.post("/api/v1/courses/dl-bootcamp/assignments/3-1/submissions",
                         data={"text": "作业3-1(1)预测房价：假设是线性模型(2)需求大于供给"}, headers=headers)
    assert direct.status_code == 201, direct.text
    threaded = client.post("/api/v1/courses/dl-bootcamp/replies",
                           data={"text": "作业3-1（1）用户留存预测（2）人才供不应求"}, headers=headers)
    assert threaded.status_code == 201, threaded.text
    (part,) = threaded.json()["parts"]
    assert part["assignment"] == "3-1"
    ids = [direct.json()["id"], part["submission_id"]]
    for submission_id in ids:
        result = _graded(client, submission_id, headers)
        assert (result["status"], result["verdict"]) == ("scored", "accepted"), result

    with session_scope() as session:
        homework = get_assignment(session, "dl-bootcamp", "3-1")
        spec = parse_reward(homework.reward_rules[0])
        entries = collect_entries(session, homework, spec.rule, spec.options, utcnow())
        assert ids[0] in {e.entry_id for e in entries.entries}  # one entry per student: the first reply
        assert not any(x.submission_id in ids and x.reason == "format_error" for x in entries.excluded)
