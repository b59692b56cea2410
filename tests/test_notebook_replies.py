"""Notebooks in replies, through the pages and the API: accepted where files are, refused inline
with the text kept, shown rendered to those who may see code (and rendered once), the package
pre-check for code homework, and a LeNet notebook graded by a real worker in the real sandbox."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.support.homework import make_course
from tests.support.notebooks import (
    assert_static,
    code,
    dumps,
    hostile_notebook,
    lenet_notebook,
    loss_curve_notebook,
    markdown,
    notebook,
    png,
    stream,
)
from tests.support.stacks import Stack, wait_for
from tests.support.thread import log_in
from tests.support.web import add_user, api_token

HTML = {"Accept": "text/html"}
MNIST = {"kind": "mnist", "daily_code_limit": 5}
NB_TYPE = "application/x-ipynb+json"


def _bearer(stack: Stack, role: str = "student") -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(stack, add_user(stack, role=role))}"}


def _form(client: TestClient, page: str) -> dict[str, str]:
    text = client.get(page).text
    return {name: re.search(rf'name="{name}" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]
            for name in ("csrf_token", "idempotency_key")}


def _count(slug: str) -> int:
    from sqlalchemy import func, select

    from app.db import session_scope
    from app.models import Assignment, Course, Submission

    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Submission).join(Assignment).join(Course)
                              .where(Course.slug == slug)) or 0


def _reply(page: str, floor: int) -> str:
    return page.split(f'id="floor-{floor}"')[1].split('<li class="reply')[0]


@pytest.mark.parametrize(("data", "said"), [
    (dumps(notebook(code("import numpy as np\nprint(1)"))), "没有定义 predict(images) 函数；没有发布，也没有用掉提交次数"),
    (dumps(notebook(code("def predict(x:\n    pass"))), "不是有效的 Python（第 1 个代码单元格，第 1 行）"),
    (b'{"cells": [', "不是有效的 JSON"),
])
def test_a_notebook_the_grader_could_only_refuse_is_refused_in_the_form(
        embedded: Stack, embedded_client: TestClient, data: bytes, said: str) -> None:
    slug = make_course({"code": "6-2", "grading": MNIST})
    log_in(embedded_client, add_user(embedded))
    page = f"/courses/{slug}/assignments/6-2"
    text = "作业6-2：我的 AI Studio 笔记本\n第二行"
    r = embedded_client.post(f"{page}/replies", data={**_form(embedded_client, page), "text": text},
                             files=[("files", ("作业6-2.ipynb", data, NB_TYPE))], headers=HTML,
                             follow_redirects=False)
    assert r.status_code in (400, 415, 422), r.status_code
    error = re.search(r'<p class="error" role="alert">(.*?)</p>', r.text, re.S)
    draft = re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', r.text, re.S)
    assert error and draft, r.text[:2000]
    assert said in html.unescape(error.group(1)) and "作业6-2.ipynb" in html.unescape(error.group(1))
    assert html.unescape(draft.group(1)).strip() == text
    assert _count(slug) == 0
    assert "今天还可以提交代码 5 次" in embedded_client.get(page).text
    good = dumps(notebook(code("%pip install numpy\nimport numpy as np"),
                          code("def predict(images):\n    return np.zeros(len(images), dtype=int)")))
    ok = embedded_client.post(f"{page}/replies", data={**_form(embedded_client, page), "text": text},
                              files=[("files", ("作业6-2.ipynb", good, NB_TYPE))], headers=HTML,
                              follow_redirects=False)
    assert ok.status_code == 303 and _count(slug) == 1
    assert "今天还可以提交代码 4 次" in embedded_client.get(page).text


def test_a_notebook_on_an_essay_is_shown_rendered_to_its_author_and_staff_only(
        embedded: Stack, embedded_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import rendered_store

    calls: list[str] = []
    real = rendered_store.render_notebook
    monkeypatch.setattr(rendered_store, "render_notebook", lambda n, loc: calls.append(loc) or real(n, loc))
    slug = make_course({"code": "6-1", "grading": {"kind": "reply_format", "answers": "open"}})
    author = _bearer(embedded)
    r = embedded_client.post(f"/api/v1/courses/{slug}/assignments/6-1/submissions", headers=author,
                             data={"text": "作业6-1：训练曲线见笔记本"},
                             files={"files": ("训练曲线.ipynb", loss_curve_notebook(), NB_TYPE)})
    assert r.status_code == 201, r.text
    body = r.json()
    page = f"/courses/{slug}/assignments/6-1"
    for _ in range(3):
        mine = _reply(embedded_client.get(page, headers=author).text, body["floor"])
    box = mine.split('data-role="notebook-box"')[1].split("</details>")[0]
    assert "笔记本" in mine and "训练曲线.ipynb" in mine and "<h1>作业6-1 训练曲线</h1>" in box
    assert_static('<div class="notebook"' + box.split('<div class="notebook"', 1)[1])
    assert box.count('<img class="nb-img" src="data:image/png;base64,') == 1
    assert calls == ["zh_CN", "en"]  # rendered at upload in both languages; three views render nothing
    instructor = _bearer(embedded, "instructor")
    staff = _reply(embedded_client.get(page, headers=instructor).text, body["floor"])
    assert "<h1>作业6-1 训练曲线</h1>" in staff
    review = embedded_client.get(f"{page}/reviews?state=all", headers=instructor)
    assert review.status_code == 200 and "<h1>作业6-1 训练曲线</h1>" in review.text
    detail = embedded_client.get(f"/staff/submissions/{body['id']}", headers=instructor)
    assert detail.status_code == 200 and "<h1>作业6-1 训练曲线</h1>" in detail.text
    other = _bearer(embedded)
    theirs = _reply(embedded_client.get(page, headers=other).text, body["floor"])
    assert "笔记本（仅作者和工作人员可见）" in theirs and "训练曲线</h1>" not in theirs
    attachment = embedded_client.get(f"/api/v1/submissions/{body['id']}", headers=author).json()["attachments"][0]
    assert embedded_client.get(attachment["url"], headers=other).status_code == 403
    assert attachment["content_type"] == NB_TYPE and attachment["kind"] == "code"
    own_page = f"/files/{attachment['id']}/notebook"
    assert attachment["view_url"] == own_page
    for who, status in ((author, 200), (instructor, 200), (other, 403), ({}, 403)):
        seen = embedded_client.get(own_page, headers=who)
        assert seen.status_code == status, (who, seen.status_code)
        assert ("<h1>作业6-1 训练曲线</h1>" in seen.text) == (status == 200)
    served = embedded_client.get(attachment["url"], headers=author)
    assert served.status_code == 200 and served.content == loss_curve_notebook()
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment;")


def test_the_hostile_notebook_is_inert_on_the_page(embedded: Stack, embedded_client: TestClient) -> None:
    slug = make_course({"code": "8", "grading": {"kind": "reply_format"}})
    author = _bearer(embedded)
    r = embedded_client.post(f"/api/v1/courses/{slug}/assignments/8/submissions", headers=author,
                             data={"text": "作业8：看笔记本"},
                             files={"files": ("evil.ipynb", hostile_notebook(), NB_TYPE)})
    assert r.status_code == 201, r.text
    reply = _reply(embedded_client.get(f"/courses/{slug}/assignments/8", headers=author).text, r.json()["floor"])
    shown = reply.split('data-role="notebook"', 1)[1].split("</details>")[0]
    assert_static("<div " + shown)
    assert "<script" not in shown.lower() and "这里不显示 HTML 或脚本输出" in shown


def test_a_course_thread_reply_files_the_notebook_under_the_code_homework(
        embedded: Stack, embedded_client: TestClient) -> None:
    slug = make_course({"code": "6-1", "grading": {"kind": "reply_format"}}, {"code": "6-2", "grading": MNIST})
    author = _bearer(embedded)
    text = "作业6-1：曲线在图里\n作业6-2：代码是笔记本"
    r = embedded_client.post(f"/api/v1/courses/{slug}/replies", headers=author, data={"text": text},
                             files={"files": ("lenet.ipynb", lenet_notebook(), NB_TYPE)})
    assert r.status_code == 201, r.text
    parts = {p["assignment"]: p for p in r.json()["parts"]}
    assert parts["6-2"]["files"] == ["lenet.ipynb"] and parts["6-1"]["files"] == []
    bad = embedded_client.post(f"/api/v1/courses/{slug}/replies", headers=author, data={"text": text},
                               files={"files": ("empty.ipynb", dumps(notebook(code("x = 1"))), NB_TYPE)})
    assert bad.status_code == 422 and "predict(images)" in bad.json()["detail"]


def test_a_large_notebook_is_a_link_to_its_own_page(embedded: Stack, embedded_client: TestClient) -> None:
    slug = make_course({"code": "8", "grading": {"kind": "reply_format"}})
    author = _bearer(embedded)
    logs = [code(f"train({i})", [stream(f"epoch {i} " + "loss 0.1 " * 2000)]) for i in range(20)]
    big = dumps(notebook(markdown("# 很长的训练日志"), *logs))
    r = embedded_client.post(f"/api/v1/courses/{slug}/assignments/8/submissions", headers=author,
                             data={"text": "作业8：日志"}, files={"files": ("log.ipynb", big, NB_TYPE)})
    assert r.status_code == 201, r.text
    reply = _reply(embedded_client.get(f"/courses/{slug}/assignments/8", headers=author).text, r.json()["floor"])
    link = re.search(r'<a data-role="notebook-link" href="(/files/\d+/notebook)">打开笔记本（(\d+) KB', reply)
    assert link and "很长的训练日志" not in reply and int(link.group(2)) > 290
    whole = embedded_client.get(link.group(1), headers=author).text
    assert "很长的训练日志" in whole and whole.count('class="nb-output nb-stdout"') == 20
    shot = embedded_client.post(f"/api/v1/courses/{slug}/assignments/8/submissions", headers=author,
                                data={"text": "作业8：图"}, files={"files": ("a.png", png(), "image/png")})
    image_id = shot.json()["attachments"][0]["id"]
    assert embedded_client.get(f"/files/{image_id}/notebook", headers=author).status_code == 404


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_lenet_notebook_is_graded_by_a_real_worker(stack: Stack, client: TestClient) -> None:
    if not any(p.poll() is None for p in stack.workers):
        stack.start_worker()
    author = _bearer(stack)
    r = client.post("/api/v1/courses/dl-bootcamp/assignments/6-2/submissions", headers=author,
                    data={"text": "作业6-2：AI Studio 笔记本"},
                    files={"files": ("作业6-2.ipynb", lenet_notebook(), NB_TYPE)})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]

    def graded() -> dict | None:  # type: ignore[type-arg]
        body = client.get(f"/api/v1/submissions/{sid}", headers=author).json()
        return body if body["status"] in ("scored", "failed", "rejected") else None

    result = wait_for(graded, timeout=180)
    assert isinstance(result, dict)
    assert result["status"] == "scored" and result["verdict"] == "accepted", stack.worker_log()[-3000:]
    assert result["log"].startswith("=== notebook: 4 code cells taken as predict.py ===")
    assert "left out (shell command): cell 1, line 2: !ls /home/aistudio/data" in result["log"]
    staff = client.get(f"/api/v1/submissions/{sid}", headers=_bearer(stack, "instructor")).json()
    # the baseline package's accuracy on the course's perturbed hidden digits (docs/grading.md: 97.8-98.0 %)
    assert 0.975 <= staff["score"] <= 0.985
