"""End to end, as a student meets it: a reply is graded by a real worker process, which makes
the inbox item and (the student opted in) hands the mail to a real SMTP server on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.homework import make_course
from tests.support.notify import SmtpInbox, body_of, items_of, set_email, smtp_server
from tests.support.stacks import Stack, make_sqlite_stack, wait_for
from tests.support.staff import log_in
from tests.support.thread import user_id
from tests.support.web import add_user, api_token, make_client


@pytest.fixture
def mailing_stack(tmp_path: Path) -> Iterator[tuple[Stack, SmtpInbox]]:
    """An embedded stack of its own whose worker mails through the test SMTP server (the
    session's shared workers know no SMTP server)."""
    with smtp_server() as smtp:
        stack = make_sqlite_stack(tmp_path)
        stack.env.update({"CAMP_SMTP_HOST": "127.0.0.1", "CAMP_SMTP_PORT": str(smtp.port),
                          "CAMP_PUBLIC_URL": "http://camp.test"})
        try:
            with stack.active():
                yield stack, smtp
        finally:
            stack.stop_workers()


@pytest.mark.slow
def test_a_graded_reply_makes_an_item_and_a_mail(mailing_stack: tuple[Stack, SmtpInbox]) -> None:
    stack, smtp = mailing_stack
    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    student = add_user(stack)
    set_email(user_id(student), "student@example.org", "graded,failed")
    client = make_client()
    headers = {"Authorization": f"Bearer {api_token(stack, student)}"}
    url = f"/api/v1/courses/{slug}/assignments/1/submissions"
    good = client.post(url, data={"text": "作业1：已跑通"}, headers=headers).json()
    bad = client.post(url, data={"text": "跑通了"}, headers=headers).json()  # no 作业1： prefix
    stack.start_worker()

    def graded() -> bool:
        return all(client.get(f"/api/v1/submissions/{s['id']}", headers=headers).json()["status"] == "scored"
                   for s in (good, bad))

    wait_for(graded, timeout=120)
    mails = smtp.wait_for("student@example.org", n=2, timeout=120)
    items = items_of(user_id(student))
    assert sorted(i.kind for i in items) == ["failed", "graded"]
    assert {i.mail_state for i in items} == {"sent"}
    texts = sorted(body_of(m) for m in mails)
    assert any("回复 #1 已评测：通过" in t for t in texts), texts
    assert any("回复 #2 未通过：格式错误" in t for t in texts), texts
    assert all(re.search(rf"http://camp\.test/courses/{slug}/assignments/1\?page=1#floor-\d", t) for t in texts)
    log_in(client, student)
    page = client.get("/inbox").text
    assert re.search(r'data-role="unread-badge"[^>]*>2<', page)
    assert page.count('data-role="inbox-item"') == 2
