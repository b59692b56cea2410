"""Staff rejudge one submission or a whole homework (through a real worker, on both stacks):
the old results stay in the attempt history, the leaderboard follows the new ones, every
rejudge is in the audit log. Also: who may rejudge, and the queue numbers staff and Prometheus
see (/api/v1/admin/queue, /metrics)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.support.homework import Reply, add_replies, make_course, make_users, now
from tests.support.stacks import Stack, wait_for
from tests.support.web import add_user, api_token, csrf_of

SEED_ANSWER = "作业7-1：乘法867041280,加法867041280"
CONV = {"kind": "conv_opcount", "input": [10, 3, 224, 224], "out_channels": 64, "kernel": [3, 3],
        "padding": 1, "bias": "count"}


def bearer(stack: Stack, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(stack, add_user(stack, role))}"}


def final(client: TestClient, sid: int, headers: dict[str, str], after: int = 0) -> dict:
    """The submission once it is graded with more than `after` attempts behind it."""
    def done() -> dict | None:
        body = client.get(f"/api/v1/submissions/{sid}/attempts", headers=headers).json()
        finished = [a for a in body["attempts"] if a["outcome"] == "scored"]
        return body if body["status"] == "scored" and len(finished) > after else None

    wait_for(done, timeout=90)
    return client.get(f"/api/v1/submissions/{sid}", headers=headers).json()


def set_out_channels(slug: str, channels: int) -> None:
    from app.db import session_scope
    from app.models import Assignment, Course

    with session_scope() as session:
        course_id = session.scalar(select(Course.id).where(Course.slug == slug))
        session.execute(update(Assignment).where(Assignment.course_id == course_id)
                        .values(grading_config={**{k: v for k, v in CONV.items() if k != "kind"},
                                                "out_channels": channels, "answers": "open"}))


def test_rejudge_keeps_the_history_and_the_leaderboard_follows(
    client: TestClient, running_worker: Stack
) -> None:
    stack = running_worker
    # a wrong config; answers open, so the board is public before the deadline (docs/integrity.md)
    slug = make_course({"code": "7-1", "grading": {**CONV, "out_channels": 32, "answers": "open"}})
    staff = bearer(stack, "instructor")
    students = [bearer(stack, "student") for _ in range(2)]
    url = f"/api/v1/courses/{slug}/assignments/7-1"
    ids = [client.post(url + "/submissions", data={"text": SEED_ANSWER}, headers=h).json()["id"]
           for h in students]
    assert [final(client, sid, staff)["verdict"] for sid in ids] == ["wrong", "wrong"]
    # which worker process graded it: its node name and pids (the sweep matches them to heartbeats)
    [attempt] = client.get(f"/api/v1/submissions/{ids[0]}/attempts", headers=staff).json()["attempts"]
    assert attempt["worker_node"].startswith("celery@") and attempt["grading_pid"], attempt
    assert attempt["worker_pid"] in {p.pid for p in stack.workers}, attempt
    assert [r["score"] for r in client.get(url + "/leaderboard", headers=staff).json()["rows"]] == [0.0, 0.0]

    set_out_channels(slug, 64)  # the staff fix the homework, then rejudge one reply
    response = client.post(f"/api/v1/submissions/{ids[0]}/rejudge", headers=staff)
    assert response.status_code == 202 and response.json() == {"id": ids[0], "status": "queued",
                                                                 "rejudged": True}
    assert final(client, ids[0], staff, after=1)["verdict"] == "accepted"
    board = client.get(url + "/leaderboard", headers=staff).json()["rows"]
    assert [(r["submission_id"], r["score"]) for r in board] == [(ids[0], 1.0), (ids[1], 0.0)]

    history = client.get(f"/api/v1/submissions/{ids[0]}/attempts", headers=staff).json()["attempts"]
    assert [(a["number"], a["outcome"], a["verdict"], a["score"]) for a in history] == [
        (1, "scored", "wrong", 0.0), (2, "scored", "accepted", 1.0)]

    everything = client.post(url + "/rejudge", headers=staff)
    assert everything.status_code == 202
    assert everything.json()["rejudged"] == 2 and sorted(everything.json()["ids"]) == sorted(ids)
    assert [final(client, sid, staff, after=n)["verdict"] for sid, n in zip(ids, (2, 1), strict=True)] == [
        "accepted", "accepted"]
    assert [r["score"] for r in client.get(url + "/leaderboard", headers=staff).json()["rows"]] == [1.0, 1.0]

    from app.db import session_scope
    from app.models import AuditEntry

    with session_scope() as session:
        actions = session.execute(select(AuditEntry.action, AuditEntry.subject).where(
            AuditEntry.subject.in_([f"submission:{ids[0]}", f"assignment:{slug}/7-1"]))).all()
    assert sorted(actions) == [("assignment.rejudge", f"assignment:{slug}/7-1"),
                               ("submission.rejudge", f"submission:{ids[0]}")]


def test_only_staff_rejudge_and_cookies_need_csrf(
    client: TestClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import rejudge

    monkeypatch.setattr(rejudge, "enqueue_grading", lambda sid, queue: None)  # keep it waiting
    slug = make_course({"code": "7-1", "grading": CONV})
    [author] = make_users(1)
    [sid] = add_replies(slug, "7-1", [Reply(author, verdict="wrong", score=0.0)])
    one, everything = f"/api/v1/submissions/{sid}/rejudge", f"/api/v1/courses/{slug}/assignments/7-1/rejudge"
    for url in (one, everything):
        assert client.post(url).status_code == 403  # neither a token nor a CSRF-checked session
        assert client.post(url, headers=bearer(stack, "student")).status_code == 403
    assert client.get(f"/api/v1/submissions/{sid}/attempts", headers=bearer(stack, "student")).status_code == 403

    name = add_user(stack, "instructor")
    client.post("/login", data={"name": name, "password": "correct horse", "csrf_token": csrf_of(client)})
    assert client.post(one).status_code == 403  # the session cookie alone is not enough
    csrf = csrf_of(client, f"/courses/{slug}/assignments/7-1")
    assert client.post(one, headers={"x-csrf-token": csrf}).status_code == 202
    again = client.post(one, headers={"x-csrf-token": csrf}).json()
    assert again["rejudged"] is False and again["status"] == "queued"  # already waiting: unchanged
    assert client.post("/api/v1/submissions/999999999/rejudge", headers={"x-csrf-token": csrf}).status_code == 404


def test_queue_numbers_for_staff_and_prometheus(client: TestClient, running_worker: Stack) -> None:
    from app.config import get_settings
    from app.db import session_scope
    from app.main import create_app
    from app.models import Submission

    slug = make_course({"code": "7-1", "grading": CONV})
    [author] = make_users(1)
    [sid] = add_replies(slug, "7-1", [Reply(author, status="queued", verdict=None, score=None)])
    with session_scope() as session:  # waiting for 100 s, never sent to the broker
        session.execute(update(Submission).where(Submission.id == sid).values(
            queued_at=now() - timedelta(seconds=100), attempts=0))
    try:
        staff = bearer(running_worker, "instructor")
        assert client.get("/api/v1/admin/queue", headers=bearer(running_worker, "student")).status_code == 403
        body = wait_for(lambda: (b := client.get("/api/v1/admin/queue", headers=staff).json())["workers_alive"]
                        and b, timeout=30)
        cpu = next(q for q in body["queues"] if q["queue"] == "cpu")
        assert cpu["queued"] >= 1 and cpu["oldest_waiting_seconds"] >= 100
        assert {q["queue"] for q in body["queues"]} >= {"cpu", "gpu"}
        worker = next(w for w in body["workers"] if w["alive"])  # stopped ones are listed too
        assert worker["seen_seconds_ago"] < 30 and "cpu" in worker["queues"] and not worker["stopped"]

        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
        values = dict(line.rsplit(" ", 1) for line in metrics.text.splitlines() if not line.startswith("#"))
        assert float(values['camp_queue_submissions{queue="cpu",status="queued"}']) >= 1
        assert float(values['camp_queue_oldest_waiting_seconds{queue="cpu"}']) >= 100
        assert float(values["camp_workers_alive"]) >= 1
        assert "# TYPE camp_queue_length gauge" in metrics.text

        locked = create_app(get_settings().model_copy(update={"metrics_token": "m" * 32}))
        with TestClient(locked) as other:
            assert other.get("/metrics").status_code == 401
            assert other.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32}).status_code == 200
    finally:
        with session_scope() as session:
            session.execute(update(Submission).where(Submission.id == sid).values(status="rejected"))
