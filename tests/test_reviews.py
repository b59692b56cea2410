"""Staff reviews: score, comment and featured mark; who sees what; the review queue and its filters."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.support.stacks import Stack
from tests.support.thread import account, audit_actions, log_in, make_course
from tests.support.web import csrf_of

HOMEWORK = "/api/v1/courses/{slug}/assignments/{code}"


def test_a_review_is_seen_whole_by_its_author_and_marked_for_all(client: TestClient, stack: Stack) -> None:
    _, author = account(stack)
    _, other = account(stack)
    _, staff = account(stack, "instructor")
    created = client.post(HOMEWORK.format(slug="dl-bootcamp", code="8") + "/submissions",
                          data={"text": "作业8：ReLU 不会梯度消失"}, headers=author).json()
    r = client.put(f"/api/v1/submissions/{created['id']}/review",
                   json={"score": 88, "comment": "思路清晰，可以补充实验曲线", "featured": True}, headers=staff)
    assert r.status_code == 200, r.text
    mine = client.get(f"/api/v1/submissions/{created['id']}", headers=author).json()
    assert mine["review"]["score"] == 88 and mine["review"]["comment"] == "思路清晰，可以补充实验曲线"
    assert mine["featured"] is True
    theirs = client.get(f"/api/v1/submissions/{created['id']}", headers=other).json()
    assert theirs["review"] is None and theirs["featured"] is True
    page_url = f"/courses/dl-bootcamp/assignments/8?page={-(-created['floor'] // 50)}"
    for headers, sees_comment in ((author, True), (other, False)):
        reply = client.get(page_url, headers=headers).text.split(f'id="floor-{created["floor"]}"')[1]
        reply = reply.split("</li>")[0]
        assert "精选" in reply
        assert ("思路清晰" in reply) is sees_comment and ("助教点评" in reply) is sees_comment
    assert audit_actions(f"submission:{created['id']}")[-1][0] == "submission.review"


def test_students_cannot_review_and_scores_are_checked(client: TestClient, stack: Stack) -> None:
    _, author = account(stack)
    _, staff = account(stack, "instructor")
    sid = client.post(HOMEWORK.format(slug="dl-bootcamp", code="8") + "/submissions",
                      data={"text": "作业8：答案"}, headers=author).json()["id"]
    assert client.put(f"/api/v1/submissions/{sid}/review", json={"score": 100}, headers=author).status_code == 403
    r = client.put(f"/api/v1/submissions/{sid}/review", json={"score": 101}, headers=staff)
    assert r.status_code == 422 and r.json()["detail"] == "点评分数是 0 到 100 之间的数字"


def test_the_queue_lists_unreviewed_student_replies_with_filters(client: TestClient, stack: Stack) -> None:
    from app.models import utcnow

    now = utcnow()
    slug = make_course({"code": "4-2", "opens": now - timedelta(days=5), "due": now - timedelta(minutes=1),
                        "grading": {"kind": "reply_format", "review": True}})
    names, heads = zip(*(account(stack) for _ in range(3)), strict=True)
    _, staff = account(stack, "instructor")
    url = HOMEWORK.format(slug=slug, code="4-2")

    def post(headers: dict[str, str], text: str) -> int:
        r = client.post(f"{url}/submissions", data={"text": text}, headers=headers)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    a = post(heads[0], "作业4-2：飞桨更简洁")
    b = post(heads[1], "作业4-2：训练更快")
    c = post(heads[2], "作业4-2：迟交的回答")
    post(staff, "作业4-2：助教的示例")  # staff replies are not reviewed
    hidden = post(heads[2], "作业4-2：删掉了")
    assert client.delete(f"/api/v1/submissions/{hidden}", headers=heads[2]).status_code == 204

    def queue(**params: object) -> list[int]:
        r = client.get(f"{url}/reviews", params=params, headers=staff)
        assert r.status_code == 200, r.text
        assert r.json()["total"] == len(r.json()["items"])
        return [item["id"] for item in r.json()["items"]]

    assert queue() == [a, b, c]  # the homework closed a minute ago: all three are late
    client.put(f"/api/v1/submissions/{b}/review", json={"score": 90, "featured": True}, headers=staff)
    client.put(f"/api/v1/submissions/{c}/review", json={"comment": "再想想"}, headers=staff)
    assert queue() == [a]
    assert queue(state="reviewed") == [b, c]
    assert queue(state="featured") == [b]
    assert queue(state="all", newest_first=True) == [c, b, a]
    assert queue(state="all", author=names[1][2:]) == [b]
    assert queue(state="all", timing="late") == [a, b, c]
    assert queue(state="all", timing="on_time") == []
    assert client.get(f"{url}/reviews", headers=heads[0]).status_code == 403


def test_the_review_page_and_its_form(client: TestClient, stack: Stack) -> None:
    from tests.support.web import add_user

    _, author = account(stack)
    sid = client.post(HOMEWORK.format(slug="dl-bootcamp", code="1-2") + "/submissions",
                      data={"text": "作业1-2：**监督学习**可以预测房价"}, headers=author).json()["id"]
    log_in(client, add_user(stack, "instructor"))
    page = client.get("/courses/dl-bootcamp/assignments/1-2/reviews?state=all&newest_first=true")
    assert page.status_code == 200 and f'id="review-{sid}"' in page.text
    assert "<strong>监督学习</strong>" in page.text
    here = re.search(r'name="next" value="([^"]+)"', page.text)[1].replace("&amp;", "&")
    r = client.post(f"/submissions/{sid}/review",
                    data={"score": "75", "comment": "不错", "featured": "true", "next": here,
                          "csrf_token": csrf_of(client, "/courses/dl-bootcamp/assignments/1-2/reviews")},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(f"#review-{sid}")
    reviewed = client.get(f"/api/v1/submissions/{sid}", headers=author).json()
    assert reviewed["review"]["score"] == 75 and reviewed["featured"] is True
    evil = client.post(f"/submissions/{sid}/review",
                       data={"score": "70", "next": "https://evil.example/", "csrf_token": csrf_of(client, "/")},
                       follow_redirects=False)
    assert evil.headers["location"].startswith("/?saved=")  # a local path, with the confirmation
