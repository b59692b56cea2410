"""Likes: one per account, none on one's own reply, undo allowed, closed with the homework;
counts replayed from the like events; correct under 50 concurrent likers on PostgreSQL."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, NotFound
from tests.support.live import Live
from tests.support.stacks import Stack
from tests.support.thread import account, at, insert_students, make_course, post_as, tokens_for

DUE = at("2020-01-13 12:00")


def homework(**grading: object) -> str:
    return make_course({"code": "8", "opens": at("2020-01-07 00:00"), "due": DUE,
                        "grading": {"kind": "reply_format", **grading}})


def act(fn_name: str, submission_id: int, user_id: int, when: datetime) -> int:
    from app.db import session_scope
    from app.models import Submission, User
    from app.services import likes

    with session_scope() as session:
        fn = getattr(likes, fn_name)
        return fn(session, session.get(Submission, submission_id), session.get(User, user_id), when)


def replay(submission_id: int, when: datetime) -> int:
    from app.db import session_scope
    from app.services.likes import likes_at

    with session_scope() as session:
        return likes_at(session, submission_id, when)


def test_double_like_self_like_and_undo_through_the_api(client: TestClient, stack: Stack) -> None:
    _, author = account(stack)
    _, fan = account(stack)
    sid = client.post("/api/v1/courses/dl-bootcamp/assignments/8/submissions", data={"text": "作业8：好"},
                      headers=author).json()["id"]
    url = f"/api/v1/submissions/{sid}/like"
    assert client.post(url, headers=fan).json() == {"submission_id": sid, "likes": 1, "liked": True, "at": None}
    again = client.post(url, headers=fan)
    assert again.status_code == 409 and again.json()["detail"] == "你已经赞过这条回复了"
    own = client.post(url, headers=author)
    assert own.status_code == 403 and own.json()["detail"] == "不能给自己的回复点赞"
    assert client.get(f"/api/v1/submissions/{sid}/likes", headers=fan).json()["liked"] is True
    assert client.delete(url, headers=fan).json()["likes"] == 0
    twice = client.delete(url, headers={**fan, "Accept-Language": "en"})
    assert twice.status_code == 409 and twice.json()["detail"] == "You have not liked this reply"
    assert client.post(url, headers=fan).json()["likes"] == 1
    assert client.get(f"/api/v1/submissions/{sid}", headers=fan).json()["likes"] == 1


def test_likes_close_at_the_deadline_by_default(stack: Stack) -> None:
    slug = homework()
    author, fan, late_fan = insert_students(3)
    sid = post_as(author, slug, "作业8：答案", at("2020-01-10 09:00"))
    assert act("like", sid, fan, at("2020-01-13 11:59")) == 1
    with pytest.raises(Forbidden) as closed:
        act("like", sid, late_fan, at("2020-01-13 12:00"))
    assert closed.value.message == "Likes for homework {code} closed at {time} ({zone})"
    assert closed.value.params == {"code": "8", "time": "2020-01-13 12:00", "zone": "Asia/Shanghai"}
    with pytest.raises(Forbidden):  # an undo after the close would change a frozen count
        act("unlike", sid, fan, at("2020-01-14 08:00"))


def test_like_after_close_is_refused_with_a_message_through_the_api(client: TestClient, stack: Stack) -> None:
    from app.models import utcnow

    now = utcnow()
    slug = make_course({"code": "8", "opens": now - timedelta(days=5), "due": now - timedelta(hours=1)})
    _, author = account(stack)
    _, fan = account(stack)
    sid = client.post(f"/api/v1/courses/{slug}/replies", data={"text": "作业8：迟到的答案"},
                      headers=author).json()["parts"][0]["submission_id"]
    r = client.post(f"/api/v1/submissions/{sid}/like", headers=fan)
    assert r.status_code == 403 and r.json()["detail"].startswith("作业 8 的点赞已于")
    assert "（Asia/Shanghai）截止" in r.json()["detail"]


@pytest.mark.parametrize(("setting", "open_after_due"), [("never", True), ("2020-01-20T12:00", True),
                                                         ("2020-01-12T12:00", False)])
def test_likes_close_is_a_per_homework_setting(stack: Stack, setting: str, open_after_due: bool) -> None:
    slug = homework(likes_close=setting)
    author, fan = insert_students(2)
    sid = post_as(author, slug, "作业8：答案", at("2020-01-10 09:00"))
    if open_after_due:
        assert act("like", sid, fan, at("2020-01-15 00:00")) == 1
    else:
        with pytest.raises(Forbidden):
            act("like", sid, fan, at("2020-01-12 12:00"))


def test_hidden_replies_cannot_be_liked(stack: Stack) -> None:
    from app.db import session_scope
    from app.models import Submission

    slug = homework(likes_close="never")
    author, fan = insert_students(2)
    sid = post_as(author, slug, "作业8：答案", at("2020-01-10 09:00"))
    with session_scope() as session:
        session.get(Submission, sid).hidden = True  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        act("like", sid, fan, at("2020-01-10 10:00"))


def test_the_count_at_any_moment_is_replayed_from_the_events(stack: Stack) -> None:
    slug = homework()
    author, a, b, c = insert_students(4)
    sid = post_as(author, slug, "作业8：答案", at("2020-01-10 09:00"))
    act("like", sid, a, at("2020-01-10 10:00"))
    act("like", sid, b, at("2020-01-10 11:00"))
    act("unlike", sid, a, at("2020-01-10 12:00"))
    act("like", sid, c, at("2020-01-10 13:00"))
    act("like", sid, a, at("2020-01-10 14:00"))
    expected = {"09:30": 0, "10:00": 1, "10:30": 1, "11:00": 2, "12:00": 1, "13:30": 2, "14:00": 3, "23:00": 3}
    assert {t: replay(sid, at(f"2020-01-10 {t}")) for t in expected} == expected
    with pytest.raises(Conflict):
        act("like", sid, b, at("2020-01-10 15:00"))
    assert replay(sid, at("2020-01-10 23:00")) == 3  # a refused like leaves no event


@pytest.mark.postgres
def test_50_concurrent_likers_are_all_counted_once(pg_stack: Stack, live: Live) -> None:
    """50 accounts like one reply at once, each in its own HTTP request to a real server, while
    one more account fires 10 likes at once: 51 likes, 51 events, and the replay agrees."""
    from app.db import session_scope
    from app.models import Like, LikeEvent
    from app.models import utcnow as now

    with pg_stack.active():
        slug = homework(likes_close="never")
        author, *likers = insert_students(52)
        sid = post_as(author, slug, "作业8：人气回复", at("2020-01-10 09:00"))
        tokens = tokens_for(likers)
    eager, racer = tokens[:50], tokens[50]
    start = threading.Barrier(60)

    def like(token: str) -> int:
        request = urllib.request.Request(f"{url}/api/v1/submissions/{sid}/like", method="POST",
                                         headers={"Authorization": f"Bearer {token}"})
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as refused:
            return refused.code

    with live(pg_stack) as url, ThreadPoolExecutor(60) as pool:
        statuses = list(pool.map(like, eager + [racer] * 10))
    assert statuses[:50] == [200] * 50
    assert sorted(statuses[50:]) == [200] + [409] * 9
    with pg_stack.active(), session_scope() as session:
        assert session.scalar(select(func.count()).where(Like.submission_id == sid)) == 51
        assert session.scalar(select(func.count()).where(LikeEvent.submission_id == sid)) == 51
    with pg_stack.active():
        assert replay(sid, now()) == 51
        assert replay(sid, at("2020-01-10 09:00")) == 0
