"""The per-account reply rate (app/services/reply_rate.py), with the app's default limits (10 a
minute, 100 an hour): a script's burst is refused after the limit with 429 and Retry-After and
nothing of the refused replies is written; the form keeps the text; the course's staff are
exempt; the windows end (time moved by the service's `now`, never slept); two replies at once
on PostgreSQL, to different homework, cannot both take the last place; a burst spread over
several web processes is counted exactly."""

from __future__ import annotations

import html
import re
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.support import feed
from tests.support.homework import make_course, make_users, now
from tests.support.live import Live
from tests.support.stacks import Stack
from tests.support.thread import log_in, post_as, user_id
from tests.support.web import add_user, api_token

HOMEWORK = ({"code": "1-1", "grading": {"kind": "reply_format"}},
            {"code": "7-1", "grading": {"kind": "reply_format"}})
PER_MINUTE = 10  # the default


def _replies(slug: str) -> int:
    """Replies posted in the course: its thread's posts and the homework's own replies (the
    parts of a course post are filed as submissions too, but are one reply)."""
    from app.db import session_scope
    from app.models import Assignment, Course, CoursePost, Submission

    with session_scope() as session:
        course_id = session.scalar(select(Course.id).where(Course.slug == slug))
        filed = session.scalar(select(func.count()).select_from(Submission).join(Assignment)
                               .where(Assignment.course_id == course_id, Submission.post_id.is_(None))) or 0
        posts = session.scalar(select(func.count()).where(CoursePost.course_id == course_id)) or 0
        return filed + posts


def _next_floors(slug: str) -> list[int]:
    from app.db import session_scope
    from app.models import Assignment, Course

    with session_scope() as session:
        return list(session.scalars(select(Assignment.next_floor).join(Course)
                                    .where(Course.slug == slug).order_by(Assignment.code)))


def _counted(user: int) -> tuple[int, int] | None:
    from app.db import session_scope
    from app.models import ReplyRate

    with session_scope() as session:
        row = session.get(ReplyRate, user)
        return None if row is None else (row.minute_count, row.hour_count)


def test_a_tokens_burst_is_refused_after_the_limit_and_nothing_is_written(
        client: TestClient, stack: Stack) -> None:
    """The attack replayed: one token posting 30 replies as fast as it can, over two homework
    and the course thread (a flood across homework counts as one flood)."""
    slug = make_course(*HOMEWORK)
    name = add_user(stack)
    headers = {"Authorization": f"Bearer {api_token(stack, name)}"}
    answers = []
    for i in range(30):
        if i % 3 == 2:
            url, text = f"/api/v1/courses/{slug}/replies", f"灌水 {i}"
        else:
            url, text = f"/api/v1/courses/{slug}/assignments/{'1-1' if i % 3 else '7-1'}/submissions", f"{i}"
        answers.append(client.post(url, data={"text": text}, headers=headers))
    assert [a.status_code for a in answers] == [201] * PER_MINUTE + [429] * 20
    refused = answers[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    body = refused.json()
    assert body["code"] == "reply_rate"
    assert f"每分钟最多 {PER_MINUTE} 条" in body["detail"] and "秒后再发" in body["detail"]
    # the refused replies took nothing: no row, no floor, and the account's count stays at the limit
    assert _replies(slug) == PER_MINUTE
    assert sum(floor - 1 for floor in _next_floors(slug)) == PER_MINUTE - PER_MINUTE // 3
    assert _counted(user_id(name)) == (PER_MINUTE, PER_MINUTE)
    english = client.post(f"/api/v1/courses/{slug}/replies", data={"text": "x"},
                          headers={**headers, "Accept-Language": "en"})
    assert english.status_code == 429
    assert re.fullmatch(r"You are posting replies too fast \(at most 10 a minute\): "
                        r"you may post again in \d+ seconds\.", english.json()["detail"])


def test_the_form_keeps_the_text_and_says_when(stack: Stack, client: TestClient) -> None:
    slug = make_course(*HOMEWORK)
    name = add_user(stack)
    log_in(client, name)
    for i in range(PER_MINUTE):
        post_as(user_id(name), slug, f"作业1-1：{i}", now())
    page = f"/courses/{slug}/assignments/1-1"
    form = {field: re.search(rf'name="{field}" value="([^"]+)"', client.get(page).text).group(1)  # type: ignore[union-attr]
            for field in ("csrf_token", "idempotency_key")}
    typed = "我的第十一条回复，写了很久"
    refused = client.post(f"{page}/replies", data={**form, "text": typed}, headers={"Accept": "text/html"},
                          follow_redirects=False)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    error = re.search(r'<p class="error" role="alert">(.*?)</p>', refused.text, re.S)
    draft = re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', refused.text, re.S)
    assert error and draft, refused.text[:2000]
    assert "回复太频繁" in html.unescape(error.group(1)) and html.unescape(draft.group(1)).strip() == typed
    # the course thread's form too
    course_form = {"csrf_token": form["csrf_token"], "text": "课程讨论"}
    refused = client.post(f"/courses/{slug}/replies", data=course_form, headers={"Accept": "text/html"},
                          follow_redirects=False)
    assert refused.status_code == 429 and "retry-after" in refused.headers
    assert "课程讨论" in refused.text
    assert _replies(slug) == PER_MINUTE


@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_the_courses_staff_are_exempt(client: TestClient, stack: Stack, role: str) -> None:
    slug = make_course(*HOMEWORK)  # names no instructors: every instructor is its staff
    headers = {"Authorization": f"Bearer {api_token(stack, add_user(stack, role))}"}
    url = f"/api/v1/courses/{slug}/assignments/1-1/submissions"
    codes = {client.post(url, data={"text": f"公告 {i}"}, headers=headers).status_code
             for i in range(PER_MINUTE + 5)}
    assert codes == {201}


def test_an_instructor_the_course_does_not_name_is_counted(stack: Stack) -> None:
    from app.db import session_scope
    from app.models import Course, CourseInstructor
    from app.services.reply_rate import PostingTooFast

    slug = make_course(*HOMEWORK)
    listed, other = make_users(2, role="instructor")
    with session_scope() as session:
        course_id = session.scalar(select(Course.id).where(Course.slug == slug))
        session.add(CourseInstructor(course_id=course_id, user_id=listed))
    start = now()
    for i in range(PER_MINUTE):
        post_as(other, slug, f"作业1-1：{i}", start)
        post_as(listed, slug, f"作业1-1：{i}", start)
    post_as(listed, slug, "作业1-1：staff", start)
    with pytest.raises(PostingTooFast):
        post_as(other, slug, "作业1-1：one too many", start)


def test_the_windows_end(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services.reply_rate import PostingTooFast

    feed.settings(monkeypatch, replies_per_hour="15")
    slug = make_course(*HOMEWORK)
    [student] = make_users(1)
    start = now()
    for i in range(PER_MINUTE):
        post_as(student, slug, f"作业1-1：{i}", start)
    with pytest.raises(PostingTooFast) as minute:
        post_as(student, slug, "作业1-1：too soon", start + timedelta(seconds=20))
    assert minute.value.retry_after == 40 and minute.value.params == {"limit": PER_MINUTE, "seconds": 40}
    post_as(student, slug, "作业7-1：乘法1,加法2", start + timedelta(seconds=60))  # a new minute
    for i in range(4):
        post_as(student, slug, f"作业1-1：later {i}", start + timedelta(minutes=2))
    assert _counted(student) == (4, 15)
    with pytest.raises(PostingTooFast) as hour:  # 15 in this hour: the hour's limit
        post_as(student, slug, "作业1-1：16th", start + timedelta(minutes=30))
    assert hour.value.retry_after == 30 * 60 and hour.value.params == {"limit": 15, "minutes": 30}
    post_as(student, slug, "作业1-1：next hour", start + timedelta(hours=1))
    assert _counted(student) == (1, 1)


def test_two_replies_at_once_cannot_both_take_the_last_place(stack: Stack,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL: the first reply (its transaction still open) holds the account's row, so
    a second one to another homework waits for it, then counts after it and is refused. Both
    are this account's first reply: the row does not exist yet when they start."""
    from app.db import session_scope
    from app.models import Course, User
    from app.services.courses import get_course
    from app.services.replies import post_reply
    from app.services.reply_rate import PostingTooFast

    if stack.name != "postgres":
        pytest.skip("SQLite runs one writing transaction at a time")
    feed.settings(monkeypatch, replies_per_minute="1")
    slug = make_course(*HOMEWORK)
    [student] = make_users(1)
    outcome: list[object] = []

    def second() -> None:
        try:
            outcome.append(post_as(student, slug, "作业7-1：乘法1,加法2", now()))
        except PostingTooFast as refused:
            outcome.append(refused)

    with session_scope() as first:
        course = first.scalar(select(Course).where(Course.slug == slug))
        assert course is not None
        post_reply(first, get_course(first, slug), first.get(User, student), "作业1-1：first",  # type: ignore[arg-type]
                   [], now=now())
        racer = threading.Thread(target=second)
        racer.start()
        _wait_until_blocked(stack)
        assert not outcome  # still waiting for the first reply's row
    racer.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], PostingTooFast), outcome
    assert _replies(slug) == 1


def _wait_until_blocked(stack: Stack) -> None:
    """Until another connection waits for a row lock (polled on PostgreSQL's own view)."""
    import time

    from sqlalchemy import text

    from app.db import get_engine

    for _ in range(400):
        with get_engine().connect() as connection:
            waiting = connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"))
        if waiting:
            return
        time.sleep(0.025)
    raise AssertionError("the second reply never waited for the first")


def test_a_burst_over_several_web_processes_is_counted_exactly(pg_stack: Stack, live: Live) -> None:
    """The script sends 30 replies at once, spread over `camp serve --workers 2` and a second
    server, to two homework: exactly the minute's 10 are filed, whichever process took them."""
    import asyncio

    import httpx

    from tests.faults.kit import run_in_own_loop

    with pg_stack.active():
        slug = make_course(*HOMEWORK)
        name = add_user(pg_stack)
        bearer = {"Authorization": f"Bearer {api_token(pg_stack, name)}"}
        # one address sends them all: lift the per-address cap on bodies read at once
        wide = {"CAMP_UPLOADS_PER_CLIENT": "100"}
        with live(pg_stack, workers=2, **wide) as two, live(pg_stack, **wide) as other:

            async def post(i: int) -> httpx.Response:
                base = (two, other)[i % 2]
                code = ("1-1", "7-1")[i // 2 % 2]
                async with httpx.AsyncClient(base_url=base, timeout=30) as client:  # new connections
                    return await client.post(f"/api/v1/courses/{slug}/assignments/{code}/submissions",
                                             data={"text": f"作业{code}：{i}"}, headers=bearer)

            async def burst() -> list[httpx.Response]:
                return await asyncio.gather(*(post(i) for i in range(30)))

            answers = run_in_own_loop(burst())
        codes = sorted(a.status_code for a in answers)
        assert codes == [201] * PER_MINUTE + [429] * 20, [a.text for a in answers if a.status_code not in (201, 429)]
        assert all(a.headers["retry-after"] for a in answers if a.status_code == 429)
        assert _replies(slug) == PER_MINUTE and _counted(user_id(name)) == (PER_MINUTE, PER_MINUTE)
