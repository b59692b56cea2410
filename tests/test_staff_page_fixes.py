"""Staff pages as an instructor walked them: "Details" is a page (not the API's JSON), saving a
review says so, the automatic score (0–1) and the review score (0–100) are named apart, the
student's own list shows the review, CSV times are in the course's zone, aborting asks first."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient

from tests.support.homework import Reply, add_replies
from tests.support.stacks import Stack
from tests.support.staff import post_form, staff_client
from tests.support.thread import at, make_course, user_id
from tests.support.web import add_user

HTML = {"accept": "text/html"}


def _shanghai_homework(stack: Stack) -> tuple[str, str, list[int]]:
    slug = make_course({"code": "8", "opens": at("2020-01-01 00:00"), "due": at("2030-01-01 00:00"),
                        "grading": {"kind": "reply_format"}})
    student = add_user(stack)
    ids = add_replies(slug, "8", [Reply(user_id(student), score=0.75)])
    return slug, student, ids


def test_details_is_a_page_with_both_scores_named(embedded_client: TestClient, embedded: Stack) -> None:
    slug, student, [sid] = _shanghai_homework(embedded)
    staff_client(embedded_client, embedded)
    dashboard = embedded_client.get(f"/staff/courses/{slug}/assignments/8").text
    assert f'href="/staff/submissions/{sid}"' in dashboard and "/api/v1/submissions/" not in dashboard
    assert "自动评分（0–1）" in dashboard and "人工评分（0–100）" in dashboard
    page = embedded_client.get(f"/staff/submissions/{sid}", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    auto = re.search(r'data-role="auto-score">([^<]*)<', page.text)
    assert auto and auto.group(1) == "0.75" and student in page.text
    embedded_client.cookies.clear()
    from tests.support.thread import log_in

    log_in(embedded_client, student)
    assert embedded_client.get(f"/staff/submissions/{sid}", headers=HTML).status_code == 403


def test_saving_a_review_is_confirmed_and_the_student_sees_it(
        embedded_client: TestClient, embedded: Stack) -> None:
    slug, student, [sid] = _shanghai_homework(embedded)
    staff_client(embedded_client, embedded)
    queue = f"/courses/{slug}/assignments/8/reviews"
    saved = post_form(embedded_client, f"/submissions/{sid}/review",
                      {"score": "88", "comment": "图画得清楚", "next": f"{queue}?state=unreviewed"},
                      token_from=queue)
    assert saved.status_code == 303 and "saved=" in saved.headers["location"]
    saved = embedded_client.get(saved.headers["location"])
    notice = re.search(r'data-role="review-saved">(.*?)</p>', saved.text, re.S)
    assert notice and "已保存" in notice.group(1) and "88" in notice.group(1), saved.text[-3000:]
    embedded_client.cookies.clear()
    from tests.support.thread import log_in

    log_in(embedded_client, student)
    mine = embedded_client.get("/me/submissions").text
    review = re.search(r'<td data-role="review"[^>]*>(.*?)</td>', mine, re.S)
    assert review and "88" in review.group(1) and "图画得清楚" in review.group(1)
    assert "自动评分（0–1）" in mine


def test_the_csv_speaks_the_course_zone(embedded_client: TestClient, embedded: Stack) -> None:
    slug, _, _ = _shanghai_homework(embedded)
    staff_client(embedded_client, embedded)
    exported = embedded_client.get(f"/staff/courses/{slug}/assignments/8/submissions.csv")
    [row] = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert row["submitted_at"].endswith("+08:00"), row


def test_draw_form_errors_speak_the_course_zone_and_aborting_asks_first(
        embedded_client: TestClient, embedded: Stack) -> None:
    from tests.support.thread import log_in
    from tests.support.web import csrf_of

    slug = make_course({"code": "7-1", "opens": at("2020-01-01 00:00"), "due": at("2030-01-01 00:00"),
                        "rewards": [{"kind": "lottery", "k": 2, "text": "抽取2人"}]})
    log_in(embedded_client, add_user(embedded, "admin"))
    base = f"/courses/{slug}/assignments/7-1/draws"
    token = csrf_of(embedded_client, base)
    early = embedded_client.post(base, data={"rule_index": "0", "freeze_at": "2021-01-01 08:00", "prize": "",
                                             "csrf_token": token}, headers=HTML)
    assert early.status_code == 422
    error = re.search(r'class="error"[^>]*>(.*?)</p>', early.text, re.S)
    assert error, early.text[-2000:]
    # 08:00 in Shanghai, not the record's 00:00Z
    assert "2021-01-01 08:00:00 (Asia/Shanghai)" in error.group(1), error.group(1)
    assert not re.search(r"\d{2}:\d{2}:\d{2}Z", error.group(1))

    committed = embedded_client.post(base, data={"rule_index": "0", "freeze_at": "", "prize": "",
                                                 "csrf_token": token}, follow_redirects=False)
    assert committed.status_code == 303, committed.text
    page = embedded_client.get(committed.headers["location"]).text
    abort = re.search(r'<details class="confirm" data-role="abort">(.*?)</details>', page, re.S)
    assert abort and re.search(r'<input type="checkbox" name="confirm" value="yes" required>', abort.group(1))
    # a step refused on the draw's own page: freezing before the announced time needs a reason
    draw_url = committed.headers["location"]
    early_freeze = embedded_client.post(f"{draw_url}/freeze", data={"csrf_token": token}, headers=HTML)
    assert early_freeze.status_code == 422, early_freeze.text[-1500:]
    said = re.search(r'class="error"[^>]*>(.*?)</p>', early_freeze.text, re.S)
    assert said and "(Asia/Shanghai)" in said.group(1) and not re.search(r"\d{2}:\d{2}:\d{2}Z", said.group(1))
