"""The reply box's Markdown preview: rendered and sanitized as the thread renders replies, for
logged-in users, with the CSRF token."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.stacks import Stack
from tests.support.thread import log_in
from tests.support.web import add_user, csrf_of


def test_preview_renders_like_the_thread_and_needs_a_login_and_csrf(
        embedded_client: TestClient, embedded: Stack) -> None:
    client = embedded_client
    text = "作业1-1：**已跑通**\n\n<script>alert(1)</script>"
    anonymous = client.post("/markdown/preview", data={"text": text},
                            headers={"X-CSRF-Token": csrf_of(client, "/login")})
    assert anonymous.status_code in (401, 403)

    log_in(client, add_user(embedded))
    token = csrf_of(client, "/courses/dl-bootcamp/assignments/1-1")
    assert client.post("/markdown/preview", data={"text": text}).status_code == 403  # no token
    response = client.post("/markdown/preview", data={"text": text}, headers={"X-CSRF-Token": token})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    html = response.json()["html"]
    assert "<strong>已跑通</strong>" in html and "<script>" not in html

    page = client.get("/courses/dl-bootcamp/assignments/1-1").text
    assert 'data-markdown-url="/markdown/preview"' in page and '<script src="/static/compose.js"' in page
    assert "<script>" not in page.split("</main>")[0].split("<main")[-1]  # no inline scripts
