"""Leaderboards on both stacks: what counts, order and ties, best/last, hidden until the
deadline, the public/private split, CSV for staff, the page, and one query for 10,000 rows."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support.homework import Reply, add_replies, make_course, make_users, now
from tests.support.queries import statements
from tests.support.stacks import Stack
from tests.support.web import add_user, api_token, register

MNIST = {"kind": "mnist", "dataset": "demo"}
#: course, homework, the ranked rows (none when cached), the viewer: never one per row
PAGE_STATEMENTS = 4


def board_url(slug: str, code: str = "6-2") -> str:
    return f"/api/v1/courses/{slug}/assignments/{code}/leaderboard"


def bearer(stack: Stack, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(stack, add_user(stack, role))}"}


def rows_of(body: dict[str, Any]) -> list[tuple[int | None, int, float]]:
    return [(r["rank"], r["submission_id"], r["score"]) for r in body["rows"]]


def scenario(grading: dict[str, Any]) -> tuple[str, list[int]]:
    """b ties a at 0.95 but was earlier; c's format error and the noise do not count."""
    slug = make_course({"code": "6-2", "grading": grading})
    a, b, c, d, e = make_users(5)
    teacher = make_users(1, role="instructor", prefix="t")[0]
    late = now() + timedelta(days=8)
    ids = add_replies(slug, "6-2", [
        Reply(a, score=0.9),                                # 0
        Reply(b, score=0.95),                               # 1  best of b
        Reply(c, score=0.8),                                # 2  best of c
        Reply(teacher, score=1.0),                          # 3  staff: off the board
        Reply(a, score=0.95),                               # 4  best of a (tie with b, later)
        Reply(c, verdict="format_error", score=0.0),        # 5  not measured
        Reply(d, score=0.99, at=late),                      # 6  late
        Reply(d, score=0.98, hidden=True),                  # 7  hidden
        Reply(e, verdict="runtime_error", score=0.0),       # 8  not measured
        Reply(e, status="failed"),                          # 9  platform failure
        Reply(a, score=0.7),                                # 10 last of a
    ])
    return slug, ids


def test_best_score_per_student_ties_go_to_the_earlier(client: TestClient, stack: Stack) -> None:
    slug, ids = scenario(MNIST)
    body = client.get(board_url(slug)).json()
    assert body["mode"] == "best" and body["phase"] == "public" and body["total"] == 3
    assert rows_of(body) == [(1, ids[1], 0.95), (2, ids[4], 0.95), (3, ids[2], 0.8)]
    assert [r["attempts"] for r in body["rows"]] == [1, 3, 1]
    assert body["me"] is None and body["split"] is False
    paged = client.get(board_url(slug), params={"offset": 1, "limit": 1}).json()
    assert rows_of(paged) == [(2, ids[4], 0.95)] and paged["total"] == 3


def test_last_mode_counts_the_last_scored_submission(client: TestClient, stack: Stack) -> None:
    slug, ids = scenario({**MNIST, "leaderboard": "last"})
    body = client.get(board_url(slug)).json()
    assert body["mode"] == "last"
    assert rows_of(body) == [(1, ids[1], 0.95), (2, ids[2], 0.8), (3, ids[10], 0.7)]


def test_hidden_until_the_deadline(client: TestClient, stack: Stack) -> None:
    grading = {**MNIST, "leaderboard_hidden_until_due": True}
    slug = make_course({"code": "6-2", "grading": grading})
    name = add_user(stack)
    student = {"Authorization": f"Bearer {api_token(stack, name)}"}
    from app.db import session_scope
    from app.services.accounts import get_user_by_name

    with session_scope() as session:
        me = get_user_by_name(session, name).id
    others = make_users(2)
    ids = add_replies(slug, "6-2", [Reply(others[0], score=0.9), Reply(me, score=0.5),
                                    Reply(others[1], score=0.7)])
    mine = client.get(board_url(slug), headers=student).json()
    assert mine["hidden"] is True and rows_of(mine) == [(None, ids[1], 0.5)]
    assert mine["me"]["submission_id"] == ids[1] and mine["me"]["rank"] is None
    assert client.get(board_url(slug)).json()["rows"] == []
    staff = client.get(board_url(slug), headers=bearer(stack, "instructor")).json()
    assert staff["hidden"] is False and [r[1] for r in rows_of(staff)] == [ids[0], ids[2], ids[1]]

    past = make_course({"code": "6-2", "grading": grading}, opens=now() - timedelta(days=9),
                       due=now() - timedelta(days=1))
    old = add_replies(past, "6-2", [Reply(others[0], score=0.9, at=now() - timedelta(days=2)),
                                    Reply(me, score=0.5, at=now() - timedelta(days=2))])
    after = client.get(board_url(past), headers=student).json()
    assert after["hidden"] is False and rows_of(after) == [(1, old[0], 0.9), (2, old[1], 0.5)]
    assert after["me"]["rank"] == 2


def test_public_before_the_deadline_private_after(client: TestClient, stack: Stack) -> None:
    def course(due_in: timedelta) -> tuple[str, list[int]]:
        slug = make_course({"code": "6-2", "grading": MNIST}, opens=now() - timedelta(days=9),
                           due=now() + due_in)
        a, b, c, d = make_users(4)
        at = now() - timedelta(days=3)
        return slug, add_replies(slug, "6-2", [
            Reply(a, score=0.9, at=at, detail={"public_accuracy": 0.99, "private_accuracy": 0.90}),
            Reply(b, score=0.9, at=at, detail={"public_accuracy": 0.95, "private_accuracy": 0.97}),
            # the generic keys win over the accuracy ones; a string is no number
            Reply(c, score=0.5, at=at, detail={"public_score": 0.96, "public_accuracy": 0.1,
                                                "private_score": 0.80}),
            Reply(d, score=0.6, at=at, detail={"public_accuracy": "n/a", "private_accuracy": None}),
        ])

    slug, ids = course(timedelta(days=1))
    before = client.get(board_url(slug)).json()
    assert before["phase"] == "public" and before["split"] is True
    assert rows_of(before) == [(1, ids[0], 0.99), (2, ids[2], 0.96), (3, ids[1], 0.95), (4, ids[3], 0.6)]
    assert all(r["private_score"] is None and r["grader_score"] is None for r in before["rows"])
    staff = client.get(board_url(slug), headers=bearer(stack, "admin")).json()
    assert [r["private_score"] for r in staff["rows"]] == [0.90, 0.80, 0.97, None]

    slug, ids = course(-timedelta(days=1))
    after = client.get(board_url(slug)).json()
    assert after["phase"] == "private"
    assert rows_of(after) == [(1, ids[1], 0.97), (2, ids[0], 0.90), (3, ids[2], 0.80), (4, ids[3], 0.6)]
    assert after["rows"][0]["public_score"] == 0.95 and after["rows"][0]["grader_score"] == 0.9


def test_csv_is_for_staff_only(client: TestClient, stack: Stack) -> None:
    slug, ids = scenario(MNIST)
    url = board_url(slug) + ".csv"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(stack, "student")).status_code == 403
    response = client.get(url, headers=bearer(stack, "instructor"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["rank"], r["submission_id"], r["score"]) for r in table] == [
        ("1", str(ids[1]), "0.95"), ("2", str(ids[4]), "0.95"), ("3", str(ids[2]), "0.8")]
    assert table[0]["submitted_at"].endswith("Z")


def test_page_highlights_my_row_and_draws_the_chart(client: TestClient, stack: Stack) -> None:
    from app.db import session_scope
    from app.services.accounts import get_user_by_name

    slug = make_course({"code": "6-2", "grading": MNIST})
    name = register(client)
    with session_scope() as session:
        me = get_user_by_name(session, name).id
    others = make_users(150)
    add_replies(slug, "6-2", [Reply(u, score=0.5 + i / 1000) for i, u in enumerate(others)]
                + [Reply(me, score=0.42)])
    page = client.get(f"/courses/{slug}/assignments/6-2/leaderboard")
    assert page.status_code == 200
    assert '<svg class="chart"' in page.text and "<rect" in page.text and 'class="mine"' in page.text
    assert 'id="me"' in page.text and "第 151 名，共 151 名" in page.text  # on page 2, shown anyway
    assert "下载 CSV" not in page.text
    homework = client.get(f"/courses/{slug}/assignments/6-2")
    assert f"/courses/{slug}/assignments/6-2/leaderboard" in homework.text


@pytest.mark.slow
def test_ten_thousand_submissions_take_one_query(client: TestClient, stack: Stack) -> None:
    from app.db import get_sessionmaker
    from app.models import Assignment, Course
    from app.services.leaderboard import view

    slug = make_course({"code": "6-2", "grading": MNIST})
    students = make_users(2000)
    replies = [Reply(students[i % 2000], score=((i * 7919) % 10007) / 10007) for i in range(10_000)]
    add_replies(slug, "6-2", replies)

    with get_sessionmaker()() as session:
        assignment = session.scalar(select(Assignment).join(Course).where(
            Course.slug == slug, Assignment.code == "6-2"))
        assert assignment is not None
        with statements() as sent:
            board = view(session, assignment, None)
    assert len(sent) == 1, sent
    assert board.total == 2000
    values = [r.value for r in board.rows]
    assert values == sorted(values, reverse=True)
    with statements() as sent:  # a thousand rows on one page: still a handful of statements
        assert client.get(board_url(slug), params={"limit": 1000}).status_code == 200
    assert len(sent) <= PAGE_STATEMENTS, [s[:60] for s in sent]
