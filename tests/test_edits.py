"""Edits keep the floor and the history and grade text homework again; deletion and staff
hiding keep the floor number taken and show a placeholder; both are audited."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.support.stacks import Stack, wait_for
from tests.support.thread import account, at, audit_actions, insert_students, log_in, make_course, post_as
from tests.support.web import add_user, csrf_of, register

URL = "/api/v1/courses/dl-bootcamp/assignments/{code}/submissions"


def final(client: TestClient, sid: int, headers: dict[str, str]) -> dict:
    def done() -> dict | None:
        body = client.get(f"/api/v1/submissions/{sid}", headers=headers).json()
        return body if body["status"] in ("scored", "failed", "rejected") else None

    return wait_for(done, timeout=90)  # type: ignore[return-value]


def test_an_edit_keeps_the_floor_and_history_and_grades_again(client: TestClient, running_worker: Stack) -> None:
    _, auth = account(running_worker)
    created = client.post(URL.format(code="1-1"), data={"text": "我跑通了"}, headers=auth).json()
    assert final(client, created["id"], auth)["verdict"] == "format_error"
    edited = client.patch(f"/api/v1/submissions/{created['id']}", json={"text": "作业1-1：已跑通"}, headers=auth)
    assert edited.status_code == 200 and edited.json()["status"] == "queued"
    assert edited.json()["floor"] == created["floor"] and edited.json()["edited_at"]
    regraded = final(client, created["id"], auth)
    assert regraded["verdict"] == "accepted" and regraded["text"] == "作业1-1：已跑通"
    history = client.get(f"/api/v1/submissions/{created['id']}/edits", headers=auth).json()
    assert [h["text"] for h in history] == ["我跑通了"]
    _, other = account(running_worker)
    assert client.get(f"/api/v1/submissions/{created['id']}/edits", headers=other).status_code == 403
    assert client.patch(f"/api/v1/submissions/{created['id']}", json={"text": "作业1-1：我改的"},
                        headers=other).status_code == 403
    page = client.get(f"/courses/dl-bootcamp/assignments/1-1?page={-(-created['floor'] // 50)}", headers=auth)
    reply = page.text.split(f'id="floor-{created["floor"]}"')[1].split("</li>")[0]
    assert "已编辑" in reply and "以前的版本（1）" in reply and "我跑通了" in reply


def test_code_graded_homework_keeps_its_verdict_after_a_text_edit(stack: Stack) -> None:
    from app.db import session_scope
    from app.models import Submission, User
    from app.services.edits import edit_text

    slug = make_course({"code": "6-2", "opens": at("2020-01-01 00:00"), "due": at("2099-01-01 00:00"),
                        "grading": {"kind": "mnist"}})
    [student] = insert_students(1)
    sid = post_as(student, slug, "作业6-2：代码", at("2020-01-10 09:00"))
    with session_scope() as session:
        s = session.get(Submission, sid)
        s.status, s.verdict, s.score = "scored", "accepted", 0.99  # type: ignore[union-attr]
    with session_scope() as session:
        s = session.get(Submission, sid)
        edit_text(session, s, session.get(User, student), "作业6-2：代码（改了说明）")  # type: ignore[arg-type]
        assert (s.status, s.verdict, s.score) == ("scored", "accepted", 0.99)  # type: ignore[union-attr]


def test_deletion_hides_and_never_renumbers(client: TestClient, stack: Stack) -> None:
    _, auth = account(stack)
    _, other = account(stack)
    floors, ids = [], []
    for i in range(3):
        body = client.post(URL.format(code="9-2"), data={"text": f"作业9-2：第{i}条"}, headers=auth).json()
        floors.append(body["floor"])
        ids.append(body["id"])
    assert client.delete(f"/api/v1/submissions/{ids[1]}", headers=other).status_code == 403
    assert client.delete(f"/api/v1/submissions/{ids[1]}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/submissions/{ids[1]}", headers=other).status_code == 403
    assert client.get(f"/api/v1/submissions/{ids[1]}", headers=auth).json()["hidden"] is True
    after = client.post(URL.format(code="9-2"), data={"text": "作业9-2：再来"}, headers=auth).json()
    assert after["floor"] == floors[2] + 1
    page = client.get(f"/courses/dl-bootcamp/assignments/9-2?page={-(-floors[1] // 50)}", headers=other).text
    gone = page.split(f'id="floor-{floors[1]}"')[1].split("</li>")[0]
    assert "该回复已被作者删除" in gone and "第1条" not in gone
    assert f'id="floor-{floors[0]}"' in page and f'id="floor-{floors[2]}"' in page
    assert audit_actions(f"submission:{ids[1]}")[-1][0] == "submission.delete"
    assert client.patch(f"/api/v1/submissions/{ids[1]}", json={"text": "作业9-2：复活"},
                        headers=auth).status_code == 404


def test_staff_hide_abusive_posts_with_a_reason_and_can_show_them_again(client: TestClient, stack: Stack) -> None:
    _, auth = account(stack)
    _, staff = account(stack, "instructor")
    body = client.post(URL.format(code="9-2"), data={"text": "作业9-2：广告 加我微信"}, headers=auth).json()
    sid, floor = body["id"], body["floor"]
    assert client.post(f"/api/v1/submissions/{sid}/hide", json={"reason": "spam"}, headers=auth).status_code == 403
    no_reason = client.post(f"/api/v1/submissions/{sid}/hide", json={"reason": " "}, headers=staff)
    assert no_reason.status_code == 422 and no_reason.json()["detail"] == "请说明隐藏这条回复的原因"
    assert client.post(f"/api/v1/submissions/{sid}/hide", json={"reason": "广告"}, headers=staff).json()["hidden"]
    page_url = f"/courses/dl-bootcamp/assignments/9-2?page={-(-floor // 50)}"
    public = client.get(page_url).text.split(f'id="floor-{floor}"')[1].split("</li>")[0]
    assert "该回复已被工作人员隐藏" in public and "加我微信" not in public
    staff_view = client.get(page_url, headers=staff).text.split(f'id="floor-{floor}"')[1].split("</li>")[0]
    assert "加我微信" in staff_view and "重新显示" in staff_view
    assert client.post(f"/api/v1/submissions/{sid}/unhide", headers=staff).json()["hidden"] is False
    actions = audit_actions(f"submission:{sid}")
    assert [a for a, _ in actions] == ["submission.hide", "submission.unhide"]
    assert actions[0][1]["reason"] == "广告"


def test_editing_and_deleting_through_the_pages(client: TestClient) -> None:
    register(client)
    token = csrf_of(client, "/courses/dl-bootcamp/assignments/8")
    r = client.post("/courses/dl-bootcamp/assignments/8/replies", data={"text": "作业8：初稿", "csrf_token": token},
                    follow_redirects=False)
    sid = int(re.search(r"posted=(\d+)", r.headers["location"])[1])
    form = client.get(f"/submissions/{sid}/edit")
    assert form.status_code == 200 and "作业8：初稿" in form.text
    saved = client.post(f"/submissions/{sid}/edit", data={"text": "作业8：终稿", "csrf_token": token},
                        follow_redirects=False)
    assert saved.status_code == 303 and "#floor-" in saved.headers["location"]
    assert "作业8：终稿" in client.get(saved.headers["location"].split("#")[0]).text
    deleted = client.post(f"/submissions/{sid}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert deleted.status_code == 303
    assert "该回复已被作者删除" in client.get(deleted.headers["location"].split("#")[0]).text


def test_course_posts_can_be_deleted_by_their_author_and_hidden_by_staff(client: TestClient, stack: Stack) -> None:
    name = register(client)
    token = csrf_of(client, "/courses/dl-bootcamp")
    r = client.post("/courses/dl-bootcamp/replies", data={"text": "大家好，我是新同学", "csrf_token": token},
                    follow_redirects=False)
    post_id = int(re.search(r"posted=(\d+)", r.headers["location"])[1])
    assert client.post(f"/posts/{post_id}/hide", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    page = client.get("/courses/dl-bootcamp").text.split(f'id="post-{post_id}"')[1].split("</li>")[0]
    assert "该回复已被作者删除" in page and "新同学" not in page
    assert audit_actions(f"course_post:{post_id}")[0][0] == "course_post.delete"
    assert name
    # staff hide someone else's post with a reason
    r = client.post("/courses/dl-bootcamp/replies", data={"text": "广告帖", "csrf_token": token},
                    follow_redirects=False)
    spam = int(re.search(r"posted=(\d+)", r.headers["location"])[1])
    client.post("/logout", data={"csrf_token": token})
    log_in(client, add_user(stack, "instructor"))
    staff_token = csrf_of(client, "/courses/dl-bootcamp")
    r = client.post(f"/posts/{spam}/hide", data={"csrf_token": staff_token, "reason": "广告"}, follow_redirects=False)
    assert r.status_code == 303
    assert audit_actions(f"course_post:{spam}") == [("course_post.hide", {"reason": "广告"})]
