"""Others' new replies pushed to an open homework page (server-sent events): rendered on the
server for the viewer (a sealed answer arrives sealed), resumed from the last floor sent, under
the same per-address cap as the grading streams. A waiting stream is woken by the reply's
announcement (app/live.py), on both stacks: counted, not timed, with the fallback read pushed a
minute out; with every announcement lost the fallback still brings the reply; a rolled-back
reply announces nothing; streams on two server processes hear a reply filed by a third."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.feed import (
    delivered,
    first_event,
    listening,
    post,
    push_kind,
    reading,
    replies_of,
    settings,
)
from tests.support.homework import Reply, add_replies, make_course, now, own_queue
from tests.support.live import Live
from tests.support.stacks import Stack
from tests.support.thread import log_in, user_id
from tests.support.web import add_user

SEALED = {"code": "7-1", "grading": {"kind": "conv_opcount"}}
OPEN = {"code": "8", "grading": {"kind": "reply_format", "answers": "open"}}


def texts(slug: str, code: str, bodies: list[str]) -> None:
    from sqlalchemy import select, update

    from app.db import session_scope
    from app.models import Assignment, Course, Submission

    with session_scope() as session:
        aid = session.scalar(select(Assignment.id).join(Course).where(Course.slug == slug, Assignment.code == code))
        for floor, body in enumerate(bodies, 1):
            session.execute(update(Submission).where(Submission.assignment_id == aid, Submission.floor == floor)
                            .values(text=body))


def test_new_replies_rendered_for_the_viewer(embedded: Stack, live: Live) -> None:
    slug = make_course(SEALED, OPEN, due=now() + timedelta(days=1))
    author_name = add_user(embedded)
    author = user_id(author_name)
    add_replies(slug, "8", [Reply(author), Reply(author, hidden=True)])
    texts(slug, "8", ["作业8：公开的 OPEN-TEXT", "作业8：HIDDEN-TEXT"])
    add_replies(slug, "7-1", [Reply(author)])
    texts(slug, "7-1", ["作业7-1：乘法867041280"])
    with live(embedded) as url, httpx.Client(base_url=url, timeout=30) as other, \
            httpx.Client(base_url=url, timeout=30) as own:
        log_in(other, add_user(embedded))
        log_in(own, author_name)
        base = f"/courses/{slug}/assignments"
        got = first_event(other, f"{base}/8/replies/events?after=0")
        assert got["keys"] == [1, 2]
        assert "OPEN-TEXT" in got["html"][0] and 'id="floor-1"' in got["html"][0]
        assert "HIDDEN-TEXT" not in got["html"][1] and "已被作者删除" not in got["html"][1]
        assert "已被工作人员隐藏" in got["html"][1]
        sealed = first_event(other, f"{base}/7-1/replies/events?after=0")
        assert "867041280" not in sealed["html"][0] and 'data-role="sealed"' in sealed["html"][0]
        assert "867041280" in first_event(own, f"{base}/7-1/replies/events?after=0")["html"][0]
        # a reconnecting browser names the last floor it got; the stream starts after it
        assert first_event(other, f"{base}/8/replies/events?after=0", **{"last-event-id": "1"})["keys"] == [2]
        assert other.get(f"{base}/nope/replies/events").status_code == 404
        assert other.get(f"{base}/8/replies/events?after=-1").status_code == 422


def test_reply_streams_share_the_cap(embedded: Stack, live: Live) -> None:
    from app.config import get_settings

    slug = make_course(OPEN)
    with live(embedded) as url, httpx.Client(base_url=url, timeout=30) as client:
        events = f"/courses/{slug}/assignments/8/replies/events?after=0"  # nothing new: stays open
        with contextlib.ExitStack() as open_streams:
            for _ in range(get_settings().streams_per_client):
                assert open_streams.enter_context(client.stream("GET", events)).status_code == 200
            refused = client.get(events)
            assert refused.status_code == 429 and refused.json()["code"] == "too_many"
            assert client.get("/submissions/1/events").status_code == 429  # one cap for both kinds


def test_new_course_posts_for_the_course_page(embedded: Stack, live: Live) -> None:
    from app.db import session_scope
    from app.models import CoursePost
    from app.services.courses import get_course

    slug = make_course(OPEN)
    author = user_id(add_user(embedded))
    with session_scope() as session:
        course_id = get_course(session, slug).id
        session.add_all([CoursePost(course_id=course_id, author_id=author, text="大家好，POST-TEXT"),
                         CoursePost(course_id=course_id, author_id=author, text="GONE-TEXT", hidden=True,
                                    hidden_by="author")])
    with live(embedded) as url, httpx.Client(base_url=url, timeout=30) as client:
        got = first_event(client, f"/courses/{slug}/posts/events?after=0")
        assert len(got["keys"]) == 2 and got["keys"][0] < got["keys"][1]
        assert "POST-TEXT" in got["html"][0] and f'id="post-{got["keys"][0]}"' in got["html"][0]
        assert "GONE-TEXT" not in got["html"][1] and "已被作者删除" in got["html"][1]
        assert first_event(client, f"/courses/{slug}/posts/events?after={got['keys'][0]}")["keys"] == got["keys"][1:]
        assert client.get("/courses/nope/posts/events").status_code == 404


def test_a_new_reply_wakes_a_waiting_stream_and_arrives_sealed(
        client: TestClient, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    settings(monkeypatch, live_fallback_seconds="60")  # a fallback read would take a minute
    slug = make_course(SEALED, due=now() + timedelta(days=1))
    own_queue(slug)  # no worker grades it meanwhile
    author = user_id(add_user(stack))
    log_in(client, add_user(stack))
    reads = reading(monkeypatch, "new_replies", lambda: post(slug, author, "作业7-1：乘法867041280", "7-1"))
    kind = push_kind("homework")
    listening(client)
    before = delivered().get(kind, 0)
    got = first_event(client, f"/courses/{slug}/assignments/7-1/replies/events?after=0")
    assert got["keys"] == [1]
    assert "867041280" not in got["html"][0] and 'data-role="sealed"' in got["html"][0]
    # woken through the feed, not by the clock: the read after the wake-up found it
    assert delivered().get(kind, 0) > before
    assert len(reads) == 2


def test_a_new_course_post_wakes_the_course_page(
        client: TestClient, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    settings(monkeypatch, live_fallback_seconds="60")
    slug = make_course(OPEN)
    author = user_id(add_user(stack))
    reads = reading(monkeypatch, "new_posts", lambda: post(slug, author, "大家好，NEW-POST-TEXT"))
    kind = push_kind("course")
    listening(client)
    before = delivered().get(kind, 0)
    got = first_event(client, f"/courses/{slug}/posts/events?after=0")
    assert len(got["keys"]) == 1 and "NEW-POST-TEXT" in got["html"][0]
    assert delivered().get(kind, 0) > before
    assert len(reads) == 2


def test_a_lost_announcement_costs_the_fallback_not_the_reply(
        client: TestClient, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.live import FEED

    settings(monkeypatch, live_fallback_seconds="0.3")
    monkeypatch.setattr(FEED, "wake", lambda key: None)  # every message lost on the way
    monkeypatch.setattr(FEED, "wake_all", lambda: None)
    slug = make_course(OPEN)
    own_queue(slug)
    author = user_id(add_user(stack))
    reads = reading(monkeypatch, "new_replies", lambda: post(slug, author, "作业8：FOUND-LATER", "8"))
    before = delivered()
    got = first_event(client, f"/courses/{slug}/assignments/8/replies/events?after=0")
    assert got["keys"] == [1] and "FOUND-LATER" in got["html"][0]
    assert delivered() == before and len(reads) == 2  # found by the fallback read


def test_a_reply_announces_its_threads_after_the_commit_only(
        embedded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import live
    from app.db import session_scope
    from app.services.courses import get_assignment

    sent: list[tuple[list[int], list[int], list[int]]] = []

    def record(ids: Iterable[int] = (), queues: Iterable[str] = (), *, homework: Iterable[int] = (),
               courses: Iterable[int] = ()) -> None:
        sent.append((list(ids), list(homework), list(courses)))

    monkeypatch.setattr(live, "announce", record)
    slug = make_course(OPEN)
    own_queue(slug)
    author = user_id(add_user(embedded))
    with session_scope() as session:
        homework = get_assignment(session, slug, "8")
        homework_id, course_id = homework.id, homework.course_id
    post(slug, author, "作业8：ROLLED-BACK", "8", commit=False)
    assert sent == []
    post(slug, author, "作业8：KEPT", "8")
    assert sent == [([], [homework_id], [])]
    # on the course thread: the post itself, and the homework one of its parts went to
    post(slug, author, "大家好\n作业8：A PART")
    assert sent[1:] == [([], [homework_id], [course_id])]


@pytest.mark.redis
def test_streams_on_two_web_processes_hear_a_reply_filed_by_a_third(pg_stack: Stack, live: Live) -> None:
    """The Redis path between processes: with the fallback read a minute out, a reply filed by
    this process reaches the streams open on two server processes (the client gives up long
    before a fallback read would find it)."""
    with pg_stack.active():
        slug = make_course(OPEN)
        own_queue(slug)
        author = user_id(add_user(pg_stack))
        with live(pg_stack, workers=2, CAMP_LIVE_FALLBACK_SECONDS="60") as url, \
                httpx.Client(base_url=url, timeout=20) as client, contextlib.ExitStack() as streams:
            events = f"/courses/{slug}/assignments/8/replies/events?after=0"
            # separate connections, which the kernel spreads over both processes
            opened = [streams.enter_context(client.stream("GET", events)) for _ in range(4)]
            post(slug, author, "作业8：FROM-ELSEWHERE", "8")
            for response in opened:
                got = replies_of(response)
                assert got["keys"] == [1] and "FROM-ELSEWHERE" in got["html"][0]
