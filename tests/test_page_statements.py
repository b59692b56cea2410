"""Every list page costs the same number of SQL statements for 5 rows as for 50 (a per-row lazy
load or count would add one statement per row). Counted, not timed; requests after a warm-up,
on both stacks: the homework page for a student, for the staff and anonymously, the course
page's thread, the course posts API and the student's own submissions page (the leaderboard's
are counted in tests/test_leaderboard.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.support import feed
from tests.support.homework import Reply, add_replies, decorate_replies, make_course, make_users
from tests.support.queries import statements
from tests.support.stacks import Stack
from tests.support.thread import log_in, user_id
from tests.support.web import add_user, api_token, make_client

HOMEWORK = {"code": "1", "grading": {"kind": "reply_format"}}


def homework_with(n: int, reader: int | None = None) -> str:
    """A homework whose thread holds `n` replies by `n` students (two of them `reader`'s)."""
    slug = make_course(HOMEWORK)
    authors = make_users(n)
    if reader is not None:
        authors[1] = authors[n // 2] = reader
    ids = add_replies(slug, "1", [Reply(a) for a in authors])
    decorate_replies(ids, make_users(2))
    return slug


def count(client: TestClient, path: str, headers: dict[str, str] | None = None) -> int:
    """Statements of one request after a warm-up, the fewest of three tries: on SQLite any
    commit elsewhere (a worker's heartbeat) invalidates the page caches between the warm-up and
    the counted request, which then renders afresh; a per-row load shows in every try."""
    client.get(path, headers=headers)  # warm: the first request fills per-process caches
    counts = []
    for _ in range(3):
        with statements() as sent:
            response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        counts.append(len(sent))
    return min(counts)


def same_for_5_and_50(measure: Callable[[int], int]) -> list[int]:
    counts = [measure(5), measure(50)]
    assert counts[0] == counts[1], counts
    return counts


def test_the_homework_page_for_a_student(stack: Stack) -> None:
    name = add_user(stack)
    me = user_id(name)
    with make_client() as client:
        log_in(client, name)
        same_for_5_and_50(lambda n: count(client, f"/courses/{homework_with(n, me)}/assignments/1"))


def test_the_homework_page_for_the_staff(stack: Stack) -> None:
    name = add_user(stack, "instructor")
    with make_client() as client:
        log_in(client, name)
        same_for_5_and_50(lambda n: count(client, f"/courses/{homework_with(n)}/assignments/1"))


def test_the_homework_page_anonymously(client: TestClient) -> None:
    def first_render(n: int) -> int:
        slug = homework_with(n)
        with statements() as sent:
            assert client.get(f"/courses/{slug}/assignments/1").status_code == 200
        return len(sent)

    same_for_5_and_50(first_render)


@pytest.mark.parametrize("path", ["/courses/{slug}", "/api/v1/courses/{slug}/posts?limit=50"])
def test_the_course_thread(client: TestClient, stack: Stack, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # one account posts the 55 posts in a burst: lift its reply rate for this test only
    feed.settings(monkeypatch, replies_per_minute="1000", replies_per_hour="1000")
    headers = {"Authorization": f"Bearer {api_token(stack, add_user(stack))}"}

    def measure(n: int) -> int:
        slug = make_course(HOMEWORK)
        for i in range(n):  # course posts, half of them split into a homework reply
            prefix = "作业1：答案\n" if i % 2 else ""
            posted = client.post(f"/api/v1/courses/{slug}/replies", headers=headers,
                                 data={"text": f"{prefix}第{i}条"})
            assert posted.status_code == 201, posted.text
        return count(client, path.format(slug=slug), headers)

    same_for_5_and_50(measure)


def test_my_submissions_page(stack: Stack) -> None:
    def measure(n: int) -> int:
        name = add_user(stack)
        slug = make_course(HOMEWORK, {"code": "2", "grading": {"kind": "reply_format"}})
        me = user_id(name)
        ids = add_replies(slug, "1", [Reply(me) for _ in range(n // 2)])
        ids += add_replies(slug, "2", [Reply(me) for _ in range(n - n // 2)])
        decorate_replies(ids, make_users(1))
        with make_client() as client:
            log_in(client, name)
            return count(client, "/me/submissions")

    same_for_5_and_50(measure)
