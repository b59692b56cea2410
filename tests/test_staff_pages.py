"""Instructor pages: who may see them, the dashboard's counts, filters and CSV, rejudging."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support.homework import (
    homework_with_replies,
    now,
)
from tests.support.stacks import Stack
from tests.support.staff import log_in, post_form, staff_client
from tests.support.web import csrf_of, register

STAFF_PAGES = ["/staff", "/staff/courses/dl-bootcamp", "/staff/courses/dl-bootcamp/assignments/7-1",
               "/staff/courses/dl-bootcamp/assignments/7-1/submissions.csv"]
ADMIN_PAGES = ["/admin", "/admin/users", "/admin/courses", "/admin/rewards", "/admin/audit"]


def test_staff_and_admin_pages_are_closed_to_others(embedded_client: TestClient, embedded: Stack) -> None:
    client = embedded_client
    html = {"accept": "text/html"}
    for path in STAFF_PAGES + ADMIN_PAGES:
        assert client.get(path, headers=html).status_code == 401, path
    register(client)
    for path in STAFF_PAGES + ADMIN_PAGES:
        page = client.get(path, headers=html)
        assert page.status_code == 403, path
        assert "此页面仅供" in page.text
    assert 'href="/staff"' not in client.get("/").text
    client.cookies.clear()
    staff_client(client, embedded, "instructor")
    for path in STAFF_PAGES:
        assert client.get(path).status_code == 200, path
    for path in ADMIN_PAGES:
        assert client.get(path, headers=html).status_code == 403, path
    home = client.get("/").text
    assert 'href="/staff"' in home and 'href="/admin"' not in home


def test_dashboard_counts_failures_filters_and_csv(client: TestClient, stack: Stack) -> None:
    staff_client(client, stack)
    slug, _ids = homework_with_replies()
    url = f"/staff/courses/{slug}/assignments/7-1"
    page = client.get(url).text
    assert '<span class="n">5</span>' in page  # all submissions
    assert "2×" in page and "sandbox &lt;broke&gt;" in page  # failure reasons, escaped
    assert '<svg class="chart"' in page and "leaderboard.csv" in page
    assert page.count("<tr data-submission-id=") == 5

    failed = client.get(url, params={"status": "failed"}).text
    assert failed.count("<tr data-submission-id=") == 2
    wrong = client.get(url, params={"verdict": "wrong"}).text
    assert wrong.count("<tr data-submission-id=") == 1
    assert client.get(url, params={"late": "yes"}).text.count("<tr data-submission-id=") == 0
    named = client.get(url, params={"name": "ALICE"}).text  # case-insensitive, part of the name
    assert named.count("<tr data-submission-id=") == 5
    none = client.get(url, params={"name": "nobody%"}).text
    assert none.count("<tr data-submission-id=") == 0

    exported = client.get(f"{url}/submissions.csv", params={"status": "failed"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r["status"] for r in rows] == ["failed", "failed"] and rows[0]["error"] == "sandbox <broke>"

    overview = client.get(f"/staff/courses/{slug}").text
    assert f'/staff/courses/{slug}/assignments/7-1' in overview and "<td class=\"num\">5</td>" in overview


def test_rejudge_forms_need_csrf_and_put_work_back_in_the_queue(embedded_client: TestClient,
                                                                 embedded: Stack) -> None:
    from app.db import session_scope
    from app.models import AuditEntry, Submission

    client = embedded_client
    staff_client(client, embedded)
    slug, ids = homework_with_replies()
    url = f"/staff/courses/{slug}/assignments/7-1"
    first = now()
    refused = client.post(f"/staff/submissions/{ids[0]}/rejudge", follow_redirects=False)
    assert refused.status_code == 403
    done = post_form(client, f"/staff/submissions/{ids[0]}/rejudge", {}, url)
    assert done.status_code == 303 and "notice=rejudged" in done.headers["location"]
    assert "已重新排队" in client.get(done.headers["location"]).text
    started = now()
    everything = post_form(client, f"{url}/rejudge", {}, url)
    assert everything.status_code == 303
    with session_scope() as session:
        # a new round for every one (a worker of another test may already be grading them)
        rounds = {i: at for i, at in session.execute(
            select(Submission.id, Submission.queued_at).where(Submission.id.in_(ids)))}
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(2)).all()
    assert rounds[ids[0]] >= first  # rejudged alone first
    assert all(rounds[i] >= started for i in ids[1:4]), rounds  # ids[4] was still waiting
    assert actions == ["assignment.rejudge", "submission.rejudge"]


@pytest.mark.parametrize("path", ["/staff/courses/nope", "/staff/courses/dl-bootcamp/assignments/99"])
def test_unknown_course_or_homework_is_404(embedded_client: TestClient, embedded: Stack, path: str) -> None:
    staff_client(embedded_client, embedded)
    assert embedded_client.get(path).status_code == 404


def test_log_in_helper_keeps_csrf(embedded_client: TestClient, embedded: Stack) -> None:
    name = staff_client(embedded_client, embedded)
    embedded_client.cookies.clear()
    log_in(embedded_client, name)
    assert csrf_of(embedded_client, "/staff/courses/dl-bootcamp/assignments/7-1")
