"""A retried submission POST files one reply: the `Idempotency-Key` header (API) and the hidden
form token (browser forms) on both stacks. The daily code limit counts the reply once; the same
key on a different request is refused; without a key nothing changes.

tests/faults/test_web_restart.py replays the real case: a server killed between commit and answer."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.support.homework import make_course
from tests.support.stacks import Stack
from tests.support.thread import account
from tests.support.web import csrf_of, register

PY = ("predict.py", b"def predict(images):\n    return [0] * len(images)\n", "text/x-python")


def code_homework(limit: int = 1) -> str:
    return make_course({"code": "6-2", "grading": {"kind": "reply_format", "daily_code_limit": limit}})


def rows(slug: str) -> list[tuple[int, int]]:
    """(id, floor) of every reply to the course's homework."""
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Assignment, Course, Submission

    with session_scope() as session:
        return [(i, f) for i, f in session.execute(
            select(Submission.id, Submission.floor).join(Assignment).join(Course)
            .where(Course.slug == slug).order_by(Submission.floor))]


def test_a_retried_post_returns_the_same_submission_and_counts_once(stack: Stack, client: TestClient) -> None:
    slug = code_homework(limit=1)
    _name, auth = account(stack)
    url = f"/api/v1/courses/{slug}/assignments/6-2/submissions"
    post = {"data": {"text": "作业6-2：代码"}, "files": {"files": PY}}
    first = client.post(url, headers=auth | {"Idempotency-Key": "retry-1"}, **post)
    again = client.post(url, headers=auth | {"Idempotency-Key": "retry-1"}, **post)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert rows(slug) == [(first.json()["id"], 1)]
    # the limit of one code reply a day was used once, by that reply: a new key is refused
    other = client.post(url, headers=auth | {"Idempotency-Key": "retry-2"}, **post)
    assert other.status_code == 429 and len(rows(slug)) == 1


def test_the_same_key_on_another_request_is_refused(stack: Stack, client: TestClient) -> None:
    slug = code_homework()
    _name, auth = account(stack)
    url = f"/api/v1/courses/{slug}/assignments/6-2/submissions"
    assert client.post(url, data={"text": "作业6-2：一"}, headers=auth | {"Idempotency-Key": "k"}).status_code == 201
    changed = client.post(url, data={"text": "作业6-2：二"}, headers=auth | {"Idempotency-Key": "k",
                                                                           "Accept-Language": "zh-CN"})
    assert changed.status_code == 409 and changed.json()["code"] == "conflict"
    assert "Idempotency-Key 已用于另一个不同的请求" in changed.json()["detail"]
    too_long = client.post(url, data={"text": "作业6-2：三"}, headers=auth | {"Idempotency-Key": "x" * 256})
    assert too_long.status_code == 422 and len(rows(slug)) == 1
    # keys belong to their account: another student may use the same one
    _other, other_auth = account(stack)
    assert client.post(url, data={"text": "作业6-2：二"}, headers=other_auth | {"Idempotency-Key": "k"}
                       ).status_code == 201
    # and without a key every POST files a reply, as before
    for _ in range(2):
        assert client.post(url, data={"text": "作业6-2：四"}, headers=auth).status_code == 201
    assert len(rows(slug)) == 4


def test_a_course_thread_reply_is_idempotent_too(stack: Stack, client: TestClient) -> None:
    slug = code_homework()
    _name, auth = account(stack)
    url = f"/api/v1/courses/{slug}/replies"
    answers = [client.post(url, data={"text": "前言 作业6-2：答案"}, headers=auth | {"Idempotency-Key": "t"})
               for _ in range(3)]
    assert {a.status_code for a in answers} == {201}
    assert len({a.text for a in answers}) == 1 and len(rows(slug)) == 1


def test_a_browser_form_posted_twice_files_one_reply(stack: Stack, client: TestClient) -> None:
    slug = code_homework(limit=1)
    register(client)
    page = client.get(f"/courses/{slug}/assignments/6-2").text
    token = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert token, "the reply form carries a one-time token"
    form = {"text": "作业6-2：代码", "csrf_token": csrf_of(client, f"/courses/{slug}/assignments/6-2"),
            "idempotency_key": token.group(1)}
    posts = [client.post(f"/courses/{slug}/assignments/6-2/replies", data=form, files={"files": PY},
                         follow_redirects=False) for _ in range(2)]
    assert [p.status_code for p in posts] == [303, 303]
    assert posts[0].headers["location"] == posts[1].headers["location"]
    assert len(rows(slug)) == 1
    fresh = re.search(r'name="idempotency_key" value="([^"]+)"', client.get(f"/courses/{slug}/assignments/6-2").text)
    assert fresh and fresh.group(1) != token.group(1)  # every rendering has its own
