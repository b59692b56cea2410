"""Deadlines and the daily code limit, across the day boundary in Asia/Shanghai (UTC+8): the
local day, not the UTC day, counts. Moments are injected into the services; nothing sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.errors import Forbidden
from app.services.limits import LimitReached
from app.services.uploads import CheckedFile
from tests.support.stacks import Stack
from tests.support.thread import account, at, insert_students, make_course, post_as

CODE = CheckedFile("predict.py", b"def predict(images):\n    return [0] * len(images)\n", "code", "text/x-python")


def code_homework(limit: int = 2, **extra: object) -> str:
    return make_course({"code": "6-2", "opens": at("2020-01-01 00:00"), "due": at("2020-01-31 12:00"),
                        "grading": {"kind": "reply_format", "daily_code_limit": limit}, **extra})


def upload(slug: str, user: int, when: datetime, files: list[CheckedFile] | None = None) -> int:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Assignment, Course, User
    from app.services.submissions import submit

    with session_scope() as session:
        assignment = session.scalar(select(Assignment).join(Course).where(Course.slug == slug))
        return submit(session, assignment, session.get(User, user), "作业6-2：代码",  # type: ignore[arg-type]
                      [CODE] if files is None else files, now=when).id


def quota(slug: str, user: int, when: datetime) -> tuple[int, int | None, datetime]:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Assignment, Course
    from app.services.limits import code_quota

    with session_scope() as session:
        assignment = session.scalar(select(Assignment).join(Course).where(Course.slug == slug))
        q = code_quota(session, assignment, user, when)  # type: ignore[arg-type]
        return q.used, q.remaining, q.resets_at


def test_the_daily_limit_counts_the_local_day(stack: Stack) -> None:
    slug = code_homework(limit=2)
    [student] = insert_students(1)
    upload(slug, student, at("2020-01-10 07:59"))  # still 2020-01-09 in UTC
    upload(slug, student, at("2020-01-10 08:01"))  # 2020-01-10 in UTC: the same local day
    assert quota(slug, student, at("2020-01-10 12:00"))[:2] == (2, 0)
    with pytest.raises(LimitReached) as refused:
        upload(slug, student, at("2020-01-10 23:59:59"))
    assert refused.value.status_code == 429
    assert refused.value.params == {"code": "6-2", "limit": 2, "time": "2020-01-11 00:00", "zone": "Asia/Shanghai"}
    # local midnight is 16:00 UTC; a fresh day starts there, not at UTC midnight
    used, remaining, resets = quota(slug, student, at("2020-01-11 00:00"))
    assert (used, remaining) == (0, 2) and resets == at("2020-01-12 00:00")
    upload(slug, student, at("2020-01-11 00:00"))
    assert quota(slug, student, at("2020-01-11 23:00"))[:2] == (1, 1)


def test_text_replies_and_platform_failures_do_not_count(stack: Stack) -> None:
    from app.db import session_scope
    from app.models import Submission

    slug = code_homework(limit=1)
    [student] = insert_students(1)
    upload(slug, student, at("2020-01-10 09:00"), files=[])  # text only
    first = upload(slug, student, at("2020-01-10 10:00"))
    with pytest.raises(LimitReached):
        upload(slug, student, at("2020-01-10 11:00"))
    with session_scope() as session:  # the platform could not grade it: not the student's try
        session.execute(update(Submission).where(Submission.id == first).values(status="failed"))
    upload(slug, student, at("2020-01-10 11:00"))
    assert quota(slug, student, at("2020-01-10 12:00"))[:2] == (1, 0)


def test_deleting_does_not_give_tries_back(stack: Stack) -> None:
    from app.db import session_scope
    from app.models import Submission, User
    from app.services.edits import delete_reply

    slug = code_homework(limit=1)
    [student] = insert_students(1)
    sid = upload(slug, student, at("2020-01-10 10:00"))
    with session_scope() as session:
        delete_reply(session, session.get(Submission, sid), session.get(User, student),  # type: ignore[arg-type]
                     now=at("2020-01-10 10:30"))
    with pytest.raises(LimitReached):
        upload(slug, student, at("2020-01-10 11:00"))


def test_the_remaining_count_is_shown_before_uploading(client: TestClient, stack: Stack) -> None:
    from app.models import utcnow

    now = utcnow()
    slug = make_course({"code": "6-2", "opens": now - timedelta(days=1), "due": now + timedelta(days=3),
                        "grading": {"kind": "reply_format", "daily_code_limit": 2}})
    _, auth = account(stack)
    url = f"/api/v1/courses/{slug}/assignments/6-2"
    before = client.get(f"{url}/quota", headers=auth).json()
    assert (before["limit"], before["used"], before["remaining"]) == (2, 0, 2)
    assert before["resets_at"].endswith("T00:00:00+08:00") and before["timezone"] == "Asia/Shanghai"
    for _ in range(2):
        r = client.post(f"{url}/submissions", data={"text": "作业6-2：代码"},
                        files={"files": ("predict.py", CODE.data)}, headers=auth)
        assert r.status_code == 201, r.text
    refused = client.post(f"{url}/submissions", data={"text": "作业6-2：再来"},
                          files={"files": ("predict.py", CODE.data)}, headers=auth)
    assert refused.status_code == 429 and refused.json()["code"] == "daily_limit"
    assert refused.json()["detail"].startswith("作业 6-2 每天最多提交 2 次代码")
    assert "00:00（Asia/Shanghai）" in refused.json()["detail"]
    preview = client.post(f"/api/v1/courses/{slug}/replies/preview",
                          data={"text": "作业6-2：x", "filenames": ["predict.py"]}, headers=auth).json()
    assert preview["parts"][0]["quota"]["remaining"] == 0
    # the page says it before the form
    cookie_client_page = client.get(f"/courses/{slug}/assignments/6-2", headers=auth).text
    assert "今天还可以提交代码 0 次（每天 2 次）" in cookie_client_page
    assert "00:00（Asia/Shanghai）重新计数" in cookie_client_page


def test_deadline_boundary_in_shanghai(stack: Stack) -> None:
    from app.db import session_scope
    from app.models import Submission

    slug = make_course(
        {"code": "8", "opens": at("2020-01-07 12:00"), "due": at("2020-01-13 12:00")},
        {"code": "9-1", "opens": at("2020-01-07 12:00"), "due": at("2020-01-13 12:00"), "late_policy": "refuse"},
    )
    [student] = insert_students(1)
    with pytest.raises(Forbidden) as early:
        post_as(student, slug, "作业8：早", at("2020-01-07 11:59:59"))
    assert early.value.message == "Homework {code} is not open yet"
    on_time = post_as(student, slug, "作业8：准时", at("2020-01-13 12:00:00"))
    late = post_as(student, slug, "作业8：迟交", at("2020-01-13 12:00:01"))
    post_as(student, slug, "作业9-1：准时", at("2020-01-13 11:59:59"))
    with pytest.raises(Forbidden) as closed:
        post_as(student, slug, "作业9-1：迟交", at("2020-01-13 12:00:01"))
    assert closed.value.message == "Homework {code} is closed; late replies are not accepted"
    with session_scope() as session:
        assert session.get(Submission, on_time).is_late is False  # type: ignore[union-attr]
        assert session.get(Submission, late).is_late is True  # type: ignore[union-attr]


def test_times_are_shown_in_the_course_zone(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "8", "opens": at("2020-01-07 12:00"), "due": at("2020-01-13 12:00")})
    page = client.get(f"/courses/{slug}/assignments/8").text
    assert "2020-01-07 12:00" in page and "2020-01-13 12:00" in page and "Asia/Shanghai" in page
    assert "现在回复仍会收下，但标记为迟交" not in page  # the form is only for logged-in students
    course = client.get(f"/courses/{slug}").text
    assert "2020-01-13 12:00" in course and "Asia/Shanghai" in course


def test_a_reply_can_be_edited_until_the_deadline(stack: Stack) -> None:
    from app.db import session_scope
    from app.models import Submission, User
    from app.services.edits import edit_text

    slug = make_course({"code": "8", "opens": at("2020-01-07 12:00"), "due": at("2020-01-13 12:00")})
    [student] = insert_students(1)
    sid = post_as(student, slug, "作业8：初稿", at("2020-01-10 09:00"))
    with session_scope() as session:
        s, u = session.get(Submission, sid), session.get(User, student)
        edit_text(session, s, u, "作业8：终稿", now=at("2020-01-13 11:59"))  # type: ignore[arg-type]
        with pytest.raises(Forbidden):
            edit_text(session, s, u, "作业8：太迟了", now=at("2020-01-13 12:01"))  # type: ignore[arg-type]
        assert s.text == "作业8：终稿"  # type: ignore[union-attr]
