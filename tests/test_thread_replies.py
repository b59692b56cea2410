"""Replies routed by their prefixes, through the API and the pages, on both stacks."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.grader.graderkit import zip_bytes
from tests.support.seed_replies import SEED_5, SEED_7, SEED_8_1
from tests.support.stacks import Stack
from tests.support.thread import account, make_course, png_with_gps
from tests.support.web import csrf_of, register

REPLIES = "/api/v1/courses/{slug}/replies"
HOMEWORK = "/api/v1/courses/{slug}/assignments/{code}/submissions"


def counts() -> tuple[int, int]:
    from app.db import session_scope
    from app.models import CoursePost, Submission

    with session_scope() as session:
        return (session.scalar(select(func.count()).select_from(Submission)) or 0,
                session.scalar(select(func.count()).select_from(CoursePost)) or 0)


def test_a_course_reply_is_split_filed_and_kept(client: TestClient, stack: Stack) -> None:
    _, auth = account(stack)
    text = "老师好，这是我的作业。\n" + SEED_7 + "\n作业99：这个作业不存在"
    r = client.post(REPLIES.format(slug="dl-bootcamp"), data={"text": text}, headers=auth)
    assert r.status_code == 201, r.text
    body = r.json()
    assert [(p["assignment"], p["flag"]) for p in body["parts"]] == [("7-1", None), ("7-2", None)]
    assert body["unrouted"] == "老师好，这是我的作业。\n\n作业99：这个作业不存在"
    assert body["unknown"] == ["99"]
    assert "99" in body["notices"][0] and "7-1, 7-2, 8" in body["notices"][0]
    for part in body["parts"]:
        sub = client.get(f"/api/v1/submissions/{part['submission_id']}", headers=auth).json()
        assert sub["assignment"] == part["assignment"] and sub["floor"] == part["floor"]
        assert sub["text"].startswith(f"作业{part['assignment']}:")
        assert part["url"].endswith(f"#floor-{part['floor']}")
    posts = client.get("/api/v1/courses/dl-bootcamp/posts?limit=5").json()
    mine = next(p for p in posts if p["id"] == body["post_id"])
    assert mine["text"] == body["unrouted"]
    assert [p["submission_id"] for p in mine["parts"]] == [p["submission_id"] for p in body["parts"]]


def test_homework_8_1_is_filed_under_8_and_flagged(client: TestClient, stack: Stack) -> None:
    _, auth = account(stack)
    body = client.post(REPLIES.format(slug="dl-bootcamp"), data={"text": SEED_8_1}, headers=auth).json()
    [part] = body["parts"]
    assert part["assignment"] == "8" and part["flag"] == "filed_under_parent" and part["written"] == ["8-1"]
    assert "8-1" in part["note"] and "8" in part["note"]
    sub = client.get(f"/api/v1/submissions/{part['submission_id']}", headers=auth).json()
    assert sub["route_flag"] == "filed_under_parent" and sub["text"].startswith("作业8:sigmoid")
    page = client.get(part["url"].split("#")[0])
    reply = page.text.split(f'id="floor-{part["floor"]}"')[1].split("</li>")[0]
    assert "写作 作业8-1" in reply and "归入作业 8" in reply


def test_the_preview_says_what_the_post_does(client: TestClient, stack: Stack) -> None:
    _, auth = account(stack)
    text = "作业6-1：曲线见 loss.png\n作业6-2：LeNet 基线"
    names = ["loss.png", "model.zip", "acc.png"]
    preview = client.post(REPLIES.format(slug="dl-bootcamp") + "/preview",
                          data={"text": text, "filenames": names}, headers=auth)
    assert preview.status_code == 200, preview.text
    planned = [(p["assignment"], p["files"], p["state"]) for p in preview.json()["parts"]]
    assert planned == [("6-1", ["loss.png", "acc.png"], "open"), ("6-2", ["model.zip"], "open")]
    assert all(p["submission_id"] is None for p in preview.json()["parts"])

    image = png_with_gps()
    package = zip_bytes({"predict.py": "def predict(images):\n    return [0] * len(images)\n"})
    files = [("files", ("loss.png", image, "image/png")), ("files", ("model.zip", package)),
             ("files", ("acc.png", png_with_gps(color=(0, 0, 200)), "image/png"))]
    posted = client.post(REPLIES.format(slug="dl-bootcamp"), data={"text": text}, files=files, headers=auth)
    assert posted.status_code == 201, posted.text
    assert [(p["assignment"], p["files"], p["state"]) for p in posted.json()["parts"]] == planned


def test_files_need_a_homework_part(client: TestClient, stack: Stack) -> None:
    _, auth = account(stack)
    before = counts()
    r = client.post(REPLIES.format(slug="dl-bootcamp"), data={"text": "大家好，附上截图"},
                    files={"files": ("a.png", png_with_gps(), "image/png")}, headers=auth)
    assert r.status_code == 422 and "作业6-2：" in r.json()["detail"]
    assert counts() == before


def test_a_homework_reply_naming_other_homework_is_split(client: TestClient, stack: Stack) -> None:
    _, auth = account(stack)
    r = client.post(HOMEWORK.format(slug="dl-bootcamp", code="5-1"), data={"text": SEED_5}, headers=auth)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["assignment"] == "5-1" and body["text"] == "作业5-1:\nadam算法,准确率0.99"
    assert [p["assignment"] for p in body["parts"]] == ["5-1", "5-2", "5-3"]
    assert body["parts"][0]["submission_id"] == body["id"]


def test_a_late_part_refuses_the_whole_reply(client: TestClient, stack: Stack) -> None:
    from app.models import utcnow

    now = utcnow()
    slug = make_course(
        {"code": "1", "opens": now - timedelta(days=3), "due": now + timedelta(days=3)},
        {"code": "2", "opens": now - timedelta(days=3), "due": now - timedelta(days=1), "late_policy": "refuse"},
    )
    _, auth = account(stack)
    before = counts()
    r = client.post(REPLIES.format(slug=slug), data={"text": "作业1：a\n作业2：b"}, headers=auth)
    assert r.status_code == 403 and "2" in r.json()["detail"]
    assert counts() == before
    preview = client.post(REPLIES.format(slug=slug) + "/preview", data={"text": "作业1：a\n作业2：b"},
                          headers=auth).json()
    assert [p["state"] for p in preview["parts"]] == ["open", "closed"]


def test_course_page_form_posts_and_shows_where_parts_went(client: TestClient) -> None:
    register(client)
    token = csrf_of(client, "/courses/dl-bootcamp")
    r = client.post("/courses/dl-bootcamp/replies", data={"text": "先说一句\n" + SEED_7, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    post_id = int(re.search(r"posted=(\d+)", r.headers["location"])[1])
    page = client.get(r.headers["location"].split("#")[0])
    post = page.text.split(f'id="post-{post_id}"')[1].split("</li>\n  <li class=\"post")[0]
    assert "先说一句" in post and "刚刚发布" in post
    assert re.search(r"作业 7-1 #\d+", post) and re.search(r"作业 7-2 #\d+", post)


def test_preview_without_javascript_stores_nothing(client: TestClient) -> None:
    register(client)
    token = csrf_of(client, "/courses/dl-bootcamp")
    before = counts()
    r = client.post("/courses/dl-bootcamp/replies",
                    data={"text": "作业8-1：relu\n作业42：?", "csrf_token": token, "action": "preview"})
    assert r.status_code == 200
    box = r.text.split('data-role="preview"')[1].split("</div>")[0]
    assert "作业 8 · LeNet" in box and "本课程没有作业 8-1" in box and "本课程没有作业 42" in box
    assert "作业8-1：relu" in r.text  # the draft is kept
    assert counts() == before


def test_homework_page_form_lists_every_part_after_posting(client: TestClient) -> None:
    register(client)
    token = csrf_of(client, "/courses/dl-bootcamp/assignments/7-1")
    r = client.post("/courses/dl-bootcamp/assignments/7-1/replies",
                    data={"text": SEED_7, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    assert "/assignments/7-1?" in location and re.search(r"posted=\d+,\d+", location)
    notice = client.get(location.split("#")[0]).text.split('class="notice"')[1].split("</div>")[0]
    assert re.search(r"作业 7-1 #\d+", notice) and re.search(r"作业 7-2 #\d+", notice)
