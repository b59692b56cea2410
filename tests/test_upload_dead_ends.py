"""Uploads that never lose work: the limits are said beside the picker, a package the grader
could only refuse is refused at upload without costing an attempt, an oversized reply form comes
back with its text (no raw JSON), and a crashed run is a red "runtime error", not "graded"."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.grader.graderkit import zip_bytes
from tests.support.homework import add_replies, make_course, now
from tests.support.stacks import Stack
from tests.support.thread import log_in, user_id
from tests.support.web import add_user

MIB = 1024 * 1024
HTML = {"Accept": "text/html"}
ATTEMPTS = {"kind": "mnist", "daily_code_limit": 5}


def _form(client: TestClient, page: str) -> dict[str, str]:
    text = client.get(page).text
    return {name: re.search(rf'name="{name}" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]
            for name in ("csrf_token", "idempotency_key")}


def _student(stack: Stack, client: TestClient) -> str:
    name = add_user(stack)
    log_in(client, name)
    return name


def _submissions(slug: str) -> int:
    from sqlalchemy import func, select

    from app.db import session_scope
    from app.models import Assignment, Course, Submission

    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Submission).join(Assignment).join(Course)
                              .where(Course.slug == slug)) or 0


def _post(client: TestClient, slug: str, text: str, files: list[tuple[str, bytes]]):  # type: ignore[no-untyped-def]
    page = f"/courses/{slug}/assignments/6-2"
    return client.post(f"{page}/replies", data={**_form(client, page), "text": text},
                        files=[("files", (name, data)) for name, data in files], headers=HTML,
                        follow_redirects=False)


def _error_and_text(body: str) -> tuple[str, str]:
    error = re.search(r'<p class="error" role="alert">(.*?)</p>', body, re.S)
    draft = re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', body, re.S)
    assert error and draft, body[:2000]
    return html.unescape(error.group(1)), html.unescape(draft.group(1))


def test_limits_are_said_beside_the_picker_from_the_settings(embedded: Stack, embedded_client: TestClient) -> None:
    slug = make_course({"code": "6-2", "grading": ATTEMPTS}, {"code": "1-1"})
    _student(embedded, embedded_client)
    settings = embedded_client.app.state.settings  # type: ignore[attr-defined]
    shown = str(round(settings.max_upload_bytes / MIB, 1)).removesuffix(".0")
    code_page = embedded_client.get(f"/courses/{slug}/assignments/6-2").text
    hint = re.search(r'data-role="upload-limits">(.*?)</p>', code_page, re.S)
    assert hint, code_page
    assert f"每个最多 {shown} MB" in hint.group(1) and "predict.py" in hint.group(1)
    assert 'aria-describedby="files-limits"' in code_page
    text_page = embedded_client.get(f"/courses/{slug}/assignments/1-1").text
    assert "predict.py" not in re.search(r'data-role="upload-limits">(.*?)</p>', text_page, re.S).group(1)  # type: ignore[union-attr]


def test_a_package_without_predict_is_refused_without_using_an_attempt(
        embedded: Stack, embedded_client: TestClient) -> None:
    slug = make_course({"code": "6-2", "grading": ATTEMPTS})
    _student(embedded, embedded_client)
    cases = [
        ("model.zip", zip_bytes({"train.py": "print(1)", "weights.bin": "x"}), "没有 predict.py"),
        ("two.zip", zip_bytes({"a/predict.py": "x", "b/predict.py": "x"}), "没有 predict.py"),
        ("broken.zip", zip_bytes({"predict.py": "def predict(x):\n    return x\n"})[:-30], "不是可读取的 zip"),
        ("notes.zip", b"PK\x03\x04 not really a zip", "不是可读取的 zip"),
    ]
    for name, data, said in cases:
        r = _post(embedded_client, slug, "作业6-2：我的模型", [(name, data)])
        assert r.status_code == 422, (name, r.status_code)
        error, draft = _error_and_text(r.text)
        assert said in error and name in error, (name, error)
        assert draft == "作业6-2：我的模型"
    assert _submissions(slug) == 0
    page = embedded_client.get(f"/courses/{slug}/assignments/6-2").text
    assert "今天还可以提交代码 5 次" in page
    # the same package in its single top folder is taken, and counts once
    ok = _post(embedded_client, slug, "作业6-2：我的模型",
               [("lenet.zip", zip_bytes({"lenet/predict.py": "def predict(x):\n    return [0] * len(x)\n"}))])
    assert ok.status_code == 303, ok.text[:500]
    assert _submissions(slug) == 1


def test_the_api_refuses_the_same_package_in_english(embedded: Stack, embedded_client: TestClient) -> None:
    from tests.support.web import api_token

    slug = make_course({"code": "6-2", "grading": ATTEMPTS})
    name = add_user(embedded)
    r = embedded_client.post(f"/api/v1/courses/{slug}/assignments/6-2/submissions",
                             headers={"Authorization": f"Bearer {api_token(embedded, name)}",
                                      "Accept-Language": "en"},
                             data={"text": "作业6-2：x"}, files=[("files", ("m.zip", zip_bytes({"x.py": "1"})))])
    assert r.status_code == 422 and "no predict.py" in r.json()["detail"], r.text
    assert _submissions(slug) == 0


def test_an_oversized_form_comes_back_with_its_text(embedded: Stack, embedded_client: TestClient) -> None:
    """A 21 MiB zip without JavaScript: the page again, the reason, the typed text; not JSON."""
    slug = make_course({"code": "6-2", "grading": ATTEMPTS})
    _student(embedded, embedded_client)
    typed = "作业6-2：我的模型 <b>不要丢</b>\n第二行"
    r = _post(embedded_client, slug, typed, [("big.zip", b"PK" + b"\0" * (21 * MIB))])
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html"), r.text[:300]
    error, draft = _error_and_text(r.text)
    assert "21 MB" in error and "文字" in error, error
    assert draft == typed
    assert _submissions(slug) == 0
    # the API keeps its JSON answer
    api = embedded_client.post(f"/api/v1/courses/{slug}/assignments/6-2/submissions",
                               files=[("files", ("big.zip", b"PK" + b"\0" * (21 * MIB)))])
    assert api.status_code == 413 and api.json()["code"] == "too_large"


def test_a_crashed_run_is_a_red_runtime_error(embedded: Stack, embedded_client: TestClient) -> None:
    import json

    from tests.support.homework import Reply

    slug = make_course({"code": "6-2", "grading": ATTEMPTS}, due=now() - timedelta(hours=1))
    name = _student(embedded, embedded_client)
    crashed, fine = add_replies(slug, "6-2", [Reply(user_id(name), "runtime_error", 0.0),
                                              Reply(user_id(name), "accepted", 0.98)])
    page = embedded_client.get(f"/courses/{slug}/assignments/6-2").text
    chips = dict(re.findall(r'data-submission-id="(\d+)".*?<span class="chip status-(\w+)" data-role="status">', page, re.S))
    assert chips == {str(crashed): "crashed", str(fine): "scored"}, chips
    assert '<span class="chip status-crashed" data-role="status">运行错误</span>' in page
    mine = embedded_client.get("/me/submissions").text
    assert '<span class="chip status-crashed" data-role="status">运行错误</span>' in mine
    events = embedded_client.get(f"/submissions/{crashed}/events", headers={"Accept": "text/event-stream"})
    snap = json.loads(events.text.split("data: ", 1)[1].split("\n", 1)[0])
    assert (snap["status_key"], snap["status_label"]) == ("crashed", "运行错误")

