"""Attack replays: an instructor of one course reading another course's staff-only data.

Every instructor used to be staff of every course: one who teaches course A could open course
B's dashboards and CSV exports, read B's hidden replies, private scores and staff logs (pages,
API). A course that names its instructors is now staff business of them and the admins only
(`course_staff`, `visibility`); a course that names none stays open to every instructor."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.support.homework import Reply, add_replies, make_course, make_users
from tests.support.stacks import Stack
from tests.support.staff import log_in, staff_client
from tests.support.web import add_user, api_token

HIDDEN_TEXT = "作业1-1：1"
STAFF_LOG = "hidden digits: 7 2 1"
SPLIT = {"public_score": 0.5, "private_score": 0.25}


def _course(teacher: str | None) -> tuple[str, int, int]:
    """A course (naming `teacher` when given) with an open-answers homework: a reply with a
    private split and a staff log, and a reply the staff hid."""
    from app.db import session_scope
    from app.models import Submission
    from app.services.courses import get_course, set_instructors

    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format", "answers": "open"}})
    if teacher is not None:
        with session_scope() as session:
            set_instructors(session, get_course(session, slug), [teacher])
    a, b = make_users(2)
    split, hidden = add_replies(slug, "1-1", [Reply(a, score=0.25, detail=SPLIT), Reply(b, hidden=True)])
    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == split).values(staff_log=STAFF_LOG))
        session.execute(update(Submission).where(Submission.id == hidden).values(hidden_by="staff"))
    return slug, split, hidden


def _staff_urls(slug: str, split: int) -> list[str]:
    hw = f"/courses/{slug}/assignments/1-1"
    return [f"/staff/courses/{slug}", f"/staff{hw}", f"/staff{hw}/submissions.csv", f"/staff/submissions/{split}",
            f"{hw}/reviews", f"{hw}/integrity"]


def _api_urls(slug: str, split: int) -> list[str]:
    hw = f"/api/v1/courses/{slug}/assignments/1-1"
    return [f"{hw}/leaderboard.csv", f"/api/v1/submissions/{split}/attempts", f"{hw}/reviews",
            f"{hw}/similar", f"{hw}/like-clusters", f"{hw}/entries"]


def test_an_instructor_of_another_course_reads_it_as_a_student(stack: Stack, client: TestClient) -> None:
    owner = add_user(stack, "instructor")
    slug, split, hidden = _course(owner)
    stranger = staff_client(client, stack, "instructor")
    mine, _, _ = _course(stranger)  # the stranger teaches a course of their own
    token = {"Authorization": f"Bearer {api_token(stack, stranger)}"}

    # staff pages and CSV exports of the other course: refused, as for a student
    for url in _staff_urls(slug, split):
        assert client.get(url).status_code == 403, url
    for url in _api_urls(slug, split):
        assert client.get(url, headers=token).status_code == 403, url
    # the staff dashboard lists only their own course
    home = client.get("/staff")
    assert home.status_code == 200 and mine in home.text and slug not in home.text
    # the hidden reply: refused by the API, a placeholder on the page, no staff buttons
    assert client.get(f"/api/v1/submissions/{hidden}", headers=token).status_code == 403
    page = client.get(f"/courses/{slug}/assignments/1-1")
    assert page.status_code == 200
    assert HIDDEN_TEXT not in page.text and "Show the hidden text" not in page.text
    assert f"/submissions/{split}/hide" not in page.text and "/reviews" not in page.text
    # the private split and the staff log: absent from the API reply
    seen = client.get(f"/api/v1/submissions/{split}", headers=token).json()
    assert seen["score"] == 0.5 and seen.get("staff_log") is None
    assert "private_score" not in (seen.get("detail") or {})
    found = client.get(f"/api/v1/courses/{slug}/search", params={"q": "作业"}, headers=token).json()
    assert [h["hidden"] for h in found["hits"]] == [False]  # the hidden reply is not searched
    board = client.get(f"/api/v1/courses/{slug}/assignments/1-1/leaderboard", headers=token).json()
    assert all(r["private_score"] is None and r["grader_score"] is None for r in board["rows"])

    # their own course: staff, as before
    for url in _staff_urls(mine, 0)[:3]:
        assert client.get(url).status_code == 200, url

    # the course's own instructor sees it all
    log_in(client, owner)
    for url in _staff_urls(slug, split):
        assert client.get(url).status_code == 200, url
    own = {"Authorization": f"Bearer {api_token(stack, owner)}"}
    seen = client.get(f"/api/v1/submissions/{split}", headers=own).json()
    assert seen["score"] == 0.25 and seen["staff_log"] == STAFF_LOG
    assert client.get(f"/api/v1/submissions/{hidden}", headers=own).status_code == 200
    found = client.get(f"/api/v1/courses/{slug}/search", params={"q": "作业"}, headers=own).json()
    assert sorted(h["hidden"] for h in found["hits"]) == [False, True]
    page = client.get(f"/courses/{slug}/assignments/1-1")
    assert HIDDEN_TEXT in page.text and f"/submissions/{split}/hide" in page.text


def test_admins_and_courses_naming_no_instructor_stay_open(embedded: Stack, embedded_client: TestClient) -> None:
    client = embedded_client
    owner = add_user(embedded, "instructor")
    listed, split, hidden = _course(owner)
    open_slug, open_split, open_hidden = _course(None)
    # any instructor is staff of a course that names none
    somebody = staff_client(client, embedded, "instructor")
    for url in _staff_urls(open_slug, open_split):
        assert client.get(url).status_code == 200, url
    token = {"Authorization": f"Bearer {api_token(embedded, somebody)}"}
    seen = client.get(f"/api/v1/submissions/{open_split}", headers=token).json()
    assert seen["score"] == 0.25 and seen["staff_log"] == STAFF_LOG
    assert client.get(f"/api/v1/submissions/{open_hidden}", headers=token).status_code == 200
    assert open_slug in client.get("/staff").text
    # an admin is staff of every course
    admin = staff_client(client, embedded, "admin")
    for url in _staff_urls(listed, split):
        assert client.get(url).status_code == 200, url
    token = {"Authorization": f"Bearer {api_token(embedded, admin)}"}
    for url in _api_urls(listed, split):
        # (the homework has no reward rule to preview: past the staff check, a 404 for it)
        expected = 404 if url.endswith("/entries") else 200
        assert client.get(url, headers=token).status_code == expected, url
    assert client.get(f"/api/v1/submissions/{hidden}", headers=token).status_code == 200
    home = client.get("/staff").text
    assert listed in home and open_slug in home
