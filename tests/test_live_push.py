"""The live panel's event stream wakes when the grading announces a change (app/live.py), on both
stacks, with a real worker: Redis pub/sub on PostgreSQL + Redis, the database's version on the
embedded stack. Counted, not timed: with the fallback read pushed far out, the stream reaches
the verdict through wake-ups, in a handful of reads; with every announcement lost it still gets
there through the fallback; forged or garbage messages change nothing anyone sees."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.support.feed import delivered, settings
from tests.support.homework import make_course, make_users, own_queue
from tests.support.stacks import REDIS_TEST_URL, Stack
from tests.support.web import add_user, api_token

POST = "/api/v1/courses/{slug}/assignments/1-1/submissions"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object] | None]:
    """Every snapshot the event streams of this process read from the database."""
    from app.web import events

    seen: list[dict[str, object] | None] = []
    real = events._read

    def counting(*args: object) -> tuple[dict[str, object] | None, str | None]:
        snap, queue = real(*args)  # type: ignore[arg-type]
        seen.append(snap)
        return snap, queue

    monkeypatch.setattr(events, "_read", counting)
    return seen


def waiting_reply(client: TestClient, stack: Stack) -> tuple[str, int, dict[str, str]]:
    """A reply to a homework whose queue no worker serves (it stays queued until moved)."""
    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format"}})
    own_queue(slug)
    headers = {"Authorization": f"Bearer {api_token(stack, add_user(stack))}"}
    posted = client.post(POST.format(slug=slug), data={"text": "作业1-1：已跑通"}, headers=headers)
    assert posted.status_code == 201, posted.text
    return slug, posted.json()["id"], headers


def to_the_worker(slug: str, submission_id: int) -> None:
    """Move the homework to the queue the stack's worker serves and send the id there."""
    from app.db import session_scope
    from app.models import Assignment, Course
    from app.queue import enqueue_grading

    with session_scope() as session:
        course = session.query(Course).filter_by(slug=slug).one()
        session.execute(update(Assignment).where(Assignment.course_id == course.id).values(queue="cpu"))
    enqueue_grading(submission_id, "cpu")


def follow(client: TestClient, submission_id: int, headers: dict[str, str],
           after_first: object = None) -> Iterator[dict[str, object]]:
    with client.stream("GET", f"/submissions/{submission_id}/events", headers=headers) as stream:
        first = True
        for line in stream.iter_lines():
            if line.startswith("data: "):
                snap = json.loads(line[6:])
                yield snap
                if first and after_first is not None:
                    after_first()  # type: ignore[operator]
                first = False
                if snap["final"]:
                    return


def test_the_stream_wakes_on_the_verdict_instead_of_polling(
        client: TestClient, running_worker: Stack, reads: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    settings(monkeypatch, live_fallback_seconds="60")  # a fallback read would take a minute
    slug, sid, headers = waiting_reply(client, running_worker)
    before = sum(delivered().values())
    snaps = list(follow(client, sid, headers, after_first=lambda: to_the_worker(slug, sid)))
    assert snaps[0]["status"] == "queued" and snaps[-1]["status"] == "scored"
    assert snaps[-1]["verdict"] == "accepted"
    # woken by the grading (claim and verdict), not by the clock: a few reads, each after a wake-up
    assert sum(delivered().values()) > before
    assert 2 <= len(reads) <= 5, reads


def test_lost_announcements_cost_latency_not_the_verdict(
        client: TestClient, running_worker: Stack, reads: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    from app.live import FEED

    settings(monkeypatch, live_fallback_seconds="0.3")
    monkeypatch.setattr(FEED, "wake", lambda key: None)  # every message lost on the way
    monkeypatch.setattr(FEED, "wake_all", lambda: None)
    slug, sid, headers = waiting_reply(client, running_worker)
    snaps = list(follow(client, sid, headers, after_first=lambda: to_the_worker(slug, sid)))
    assert snaps[-1]["status"] == "scored" and snaps[-1]["final"]
    assert len(reads) >= 2  # found by the fallback reads


def test_a_waiting_submission_sees_its_place_move_when_the_queue_moves(
        client: TestClient, stack: Stack, reads: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    """Another student's grading starts (a claim, announced as the worker announces it): the
    place of the one behind it drops from 1 to 0 without waiting for the fallback."""
    from app.db import session_scope
    from app.live import announce
    from tests.support.homework import Reply, add_replies
    from worker.grading import claim

    settings(monkeypatch, live_fallback_seconds="60", live_queue_refresh_seconds="0.1")
    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format"}})
    queue = own_queue(slug)
    first_author, second_author = make_users(2)
    first, second = add_replies(slug, "1-1", [Reply(first_author, status="queued", verdict=None, score=None),
                                              Reply(second_author, status="queued", verdict=None, score=None)])

    def start_first() -> None:
        with session_scope() as session:
            assert claim(session, first) is not None
        announce([first], [queue])

    places = []
    for snap in follow(client, second, {}, after_first=start_first):
        places.append(snap["queue_ahead"])
        if snap["queue_ahead"] == 0:
            break
    assert places == [1, 0]
    with session_scope() as session:  # out of every later count
        from app.models import Submission
        session.execute(update(Submission).where(Submission.id.in_([first, second])).values(status="rejected"))


@pytest.mark.redis
@pytest.mark.slow  # starts a worker of its own on the PostgreSQL stack
def test_messages_carry_ids_only_and_forged_ones_show_nothing_new(
        pg_stack: Stack, reads: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    """What goes over Redis names a submission or a queue and nothing else; a forged or garbage
    message only makes a stream read again what its reader may see anyway."""
    from app.config import get_settings
    from app.live import channel
    from tests.support.web import make_client

    with pg_stack.active():
        if not any(p.poll() is None for p in pg_stack.workers):
            pg_stack.start_worker()
        settings(monkeypatch, live_fallback_seconds="60")
        name = channel(get_settings())
        listener = redis.Redis.from_url(REDIS_TEST_URL).pubsub()
        listener.subscribe(name)
        publisher = redis.Redis.from_url(REDIS_TEST_URL)
        with make_client() as client:
            slug, sid, _author = waiting_reply(client, pg_stack)

            forged = [b"s:abc", b"x" * 5000, b"q:", b"\xff\xfe", f"s:{sid + 1}".encode(), f"s:{sid}".encode()]

            def forge_then_grade() -> None:
                for junk in forged:
                    publisher.publish(name, junk)
                to_the_worker(slug, sid)

            anonymous = list(follow(client, sid, {}, after_first=forge_then_grade))
        assert anonymous[-1]["status"] == "scored" and anonymous[-1]["verdict"] == "accepted"
        # an anonymous reader never gets the author's log, whatever woke the stream
        assert all(s["log_tail"] is None for s in anonymous)
        sent = []
        while (message := listener.get_message(timeout=1.0)) is not None:
            if message["type"] == "message":
                sent.append(message["data"])
        listener.close()
    # the reply itself told its homework's open thread pages (`h:<homework id>`)
    assert re.fullmatch(rb"h:[0-9]+", sent[0]), sent[:1]
    assert sent[1:1 + len(forged)] == forged
    announced = sent[1 + len(forged):]
    # the worker's claim (the submission and its queue) and verdict: ids and names, nothing else
    assert f"s:{sid}".encode() in announced and b"q:cpu" in announced
    assert all(re.fullmatch(rb"s:[0-9]+|q:[A-Za-z0-9_-]+", m) for m in announced), announced
