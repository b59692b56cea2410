"""The sweeper is stopped for two minutes while work gets stuck, then comes back: nothing is missed.

Proves: with two sweepers (`camp sweeper` twice, as a second replica would run), one killed
(-9) and the other frozen (SIGSTOP) for two minutes, during which a grading worker is killed
mid-grading (its claim stays `running`, its message unacknowledged in Redis) and replies are
committed whose ids never reach the broker (a web process that died between commit and send),
a new sweeper and the thawed one free the dead claim and send every stuck id again — each id
exactly once between the two of them (SKIP LOCKED) — and every reply is graded once. The
sweeper runs in a process of its own, so nothing the workers do can delay it.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter

import pytest

from tests.faults.kit import FaultStack, log_of, slow_predict, start_sweeper, student_tokens, worker_ready
from tests.support.homework import make_course
from tests.support.stacks import wait_for
from tests.support.web import make_client

PAUSE_SECONDS = 120
LOST_SENDS = 5
SETTINGS = {"CAMP_WORKER_HEARTBEAT_SECONDS": "1", "CAMP_SWEEP_INTERVAL_SECONDS": "1",
            "CAMP_SWEEP_STALE_QUEUED_SECONDS": "20"}


def commit_without_sending(slug: str, author_id: int, n: int) -> list[int]:
    """Replies committed while their ids never reach the broker (the after-commit send is lost)."""
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Assignment, Course, User
    from app.services.submissions import submit

    ids = []
    for i in range(n):
        with session_scope() as session:
            assignment = session.scalar(select(Assignment).join(Course).where(Course.slug == slug))
            ids.append(submit(session, assignment, session.get(User, author_id), f"作业1-1：{i}", []).id)
            session.info.pop("after_commit")  # the process "died" after the commit, before the send
    return ids


def resent(fs: FaultStack, sweepers: list) -> Counter[int]:
    sent: Counter[int] = Counter()
    for proc in sweepers:
        for ids in re.findall(rb"sent again \[([\d, ]*)\]", log_of(fs.stack, proc)):
            sent.update(int(i) for i in ids.split(b",") if i.strip())
    return sent


@pytest.mark.slow
def test_sweepers_stopped_for_two_minutes_miss_nothing(make_stack) -> None:
    with make_stack(**SETTINGS) as fs, make_client() as client:
        stack = fs.stack
        first, second = start_sweeper(stack), start_sweeper(stack)
        worker_ready(stack, stack.start_worker("-Q", "cpu", "-c", "1"))
        grader = stack.start_worker("-Q", "gpu", "-c", "1")
        worker_ready(stack, grader)
        slug = make_course({"code": "1-1", "grading": {"kind": "reply_format"}})
        [headers] = student_tokens(1)
        author = fs.rows("SELECT max(id) FROM users")[0][0]

        first.send_signal(signal.SIGKILL)
        first.wait()
        second.send_signal(signal.SIGSTOP)
        paused = time.monotonic()
        created = client.post("/api/v1/courses/dl-bootcamp/assignments/6-2/submissions", headers=headers,
                              data={"text": "作业6-2：慢"}, files={"files": ("p.zip", slow_predict(20))})
        assert created.status_code == 201, created.text
        killed = created.json()["id"]
        wait_for(lambda: fs.statuses([killed])[killed] == "running", timeout=120)
        time.sleep(1)
        os.killpg(grader.pid, signal.SIGKILL)  # the grading dies; its message stays unacked in Redis
        grader.wait()
        worker_ready(stack, stack.start_worker("-Q", "gpu", "-c", "1"))  # a supervisor restarts it
        lost = commit_without_sending(slug, author, LOST_SENDS)
        time.sleep(max(0.0, PAUSE_SECONDS - (time.monotonic() - paused)))
        stuck = fs.statuses([killed, *lost])
        assert stuck == {killed: "running"} | {i: "queued" for i in lost}, stuck  # nobody else recovers them

        third = start_sweeper(stack)
        second.send_signal(signal.SIGCONT)
        back = time.monotonic()
        final = fs.wait_final([killed, *lost], timeout=120)
        recovered = round(time.monotonic() - back, 1)

        assert set(final.values()) == {"scored"}
        assert set(fs.scored_attempts([killed, *lost]).values()) == {1}
        assert fs.rows("SELECT outcome FROM grading_attempts WHERE submission_id = %s ORDER BY number",
                       killed) == [("abandoned",), ("scored",)]
        sent = resent(fs, [second, third])
        assert {i: sent[i] for i in [killed, *lost]} == {i: 1 for i in [killed, *lost]}, sent
        print(f"\nsweepers back after {PAUSE_SECONDS}s: {len(lost) + 1} stuck replies all graded once within "
              f"{recovered}s, each sent again once by two sweepers ({dict(sent)})")
