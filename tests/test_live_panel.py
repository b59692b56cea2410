"""The live submission panel's data in the event stream's snapshot: the position in its queue,
since when it runs, and the end of the log for its author only; the older keys stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.support.homework import Reply, add_replies, make_course, own_queue
from tests.support.stacks import Stack
from tests.support.thread import user_id
from tests.support.web import add_user

OLD = datetime(2000, 1, 1, tzinfo=UTC)  # older than anything else queued in the test database
KEYS = {"id", "status", "status_label", "verdict", "score", "message", "final"}


def _set(ids: list[int], **values: object) -> None:
    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id.in_(ids)).values(**values))


def test_queue_position_counts_older_queued_submissions_of_the_same_queue(stack: Stack) -> None:
    from app.web.events import _snapshot

    cpu = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    gpu = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    own_queue(cpu), own_queue(gpu)  # two queues of their own: rows other tests left waiting stay out
    me = user_id(add_user(stack))
    queued = [Reply(me, status="queued", verdict=None, score=None, at=OLD + timedelta(seconds=i))
              for i in range(3)]
    ids = add_replies(cpu, "1", queued)
    other = add_replies(gpu, "1", [Reply(me, status="queued", verdict=None, score=None,
                                         at=OLD + timedelta(seconds=10))])
    try:
        snaps = [_snapshot(i, "zh_CN") for i in ids]
        assert all(s is not None and KEYS <= s.keys() for s in snaps)
        assert [s["queue_ahead"] for s in snaps if s] == [0, 1, 2]
        assert snaps[2] and snaps[2]["queue_label"] == "排队中：前面还有 2 份提交"
        gpu_snap = _snapshot(other[0], "en")
        assert gpu_snap and gpu_snap["queue_ahead"] == 0  # another queue: the cpu ones are not ahead
        assert gpu_snap["queue_label"] == "Queued: 0 submissions ahead of yours"
        assert gpu_snap["running_since"] is None and gpu_snap["log_tail"] is None
    finally:
        _set(ids + other, status="rejected")  # out of every later queue count


def test_running_since_and_the_log_tail_for_the_author_only(client: TestClient, stack: Stack) -> None:
    from app.db import session_scope
    from app.models import GradingAttempt
    from app.web.events import LOG_TAIL_CHARS, _snapshot

    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    author = add_user(stack)
    me = user_id(author)
    running, done = add_replies(slug, "1", [Reply(me, status="running", verdict=None, score=None),
                                            Reply(me, verdict="runtime_error", score=0.0)])
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=42)
    with session_scope() as session:
        session.add(GradingAttempt(submission_id=running, number=1, worker="w", started_at=started))
    _set([done], log="x" * 5000 + "Traceback: boom")
    try:
        snap = _snapshot(running, "zh_CN", me)
        assert snap and snap["status"] == "running" and snap["queue_ahead"] is None
        assert datetime.fromisoformat(str(snap["running_since"])) == started
        assert snap["running_label"] == "评测中：已用时 {seconds} 秒"

        mine = _snapshot(done, "zh_CN", me)
        assert mine and mine["final"] and mine["log_label"] == "日志末尾"
        tail = str(mine["log_tail"])
        assert len(tail) == LOG_TAIL_CHARS and tail.endswith("Traceback: boom")
        for viewer in (None, user_id(add_user(stack))):
            other = _snapshot(done, "zh_CN", viewer)
            assert other and other["log_tail"] is None and other["log_label"] == ""
    finally:
        _set([running], status="rejected")

    # over HTTP: the stream carries the new keys, and the log only to its logged-in author
    from tests.support.thread import log_in

    body = client.get(f"/submissions/{done}/events").text
    assert '"log_tail": null' in body and '"queue_ahead": null' in body
    log_in(client, author)
    assert "Traceback: boom" in client.get(f"/submissions/{done}/events").text
