"""List endpoints load a page in batches: the number of SQL statements does not grow with the
page (a per-row lazy load or count would add one statement per row). Counted, not timed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.homework import Reply, add_replies, decorate_replies, make_course, make_users
from tests.support.queries import statements
from tests.support.stacks import Stack
from tests.support.thread import user_id
from tests.support.web import add_user, api_token


def count_for(client: TestClient, path: str, headers: dict[str, str]) -> tuple[int, list[dict]]:
    with statements() as sent:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return len(sent), response.json()


def test_my_submissions_costs_the_same_statements_for_5_and_50_rows(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}},
                       {"code": "2", "grading": {"kind": "reply_format"}})
    likers = make_users(2)
    counts, bodies = [], []
    for n in (5, 50):
        name = add_user(stack)
        me = user_id(name)
        ids = add_replies(slug, "1", [Reply(me) for _ in range(n // 2)])
        ids += add_replies(slug, "2", [Reply(me) for _ in range(n - n // 2)])
        decorate_replies(ids, likers)
        headers = {"Authorization": f"Bearer {api_token(stack, name)}"}
        count_for(client, "/api/v1/me/submissions", headers)  # warm: the first request loads caches
        sent, body = count_for(client, "/api/v1/me/submissions", headers)
        counts.append(sent)
        bodies.append(body)
    assert [len(b) for b in bodies] == [5, 50]
    assert counts[0] == counts[1], counts  # constant: nothing is loaded per row
    assert counts[1] <= 12, counts
    rows = bodies[1]
    assert all(len(r["attachments"]) == 1 for r in rows)
    assert sorted(r["likes"] for r in rows) == sorted(([2] * 17) + ([0] * 33))
    assert {r["assignment"] for r in rows} == {"1", "2"} and {r["course"] for r in rows} == {slug}


def test_review_queue_page_costs_the_same_statements_for_5_and_50_rows(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    students = make_users(50)
    ids = add_replies(slug, "1", [Reply(s) for s in students])
    decorate_replies(ids, make_users(1))
    staff = add_user(stack, "instructor")
    headers = {"Authorization": f"Bearer {api_token(stack, staff)}"}
    path = f"/api/v1/courses/{slug}/assignments/1/reviews?limit="
    count_for(client, path + "5", headers)  # warm
    counts = []
    for limit in (5, 50):
        sent, body = count_for(client, path + str(limit), headers)
        assert len(body["items"]) == limit and body["total"] == 50
        counts.append(sent)
    assert counts[0] == counts[1] and counts[1] <= 12, counts
