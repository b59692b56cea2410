"""End to end, as a student meets it: a reply is graded by a real worker process, which makes
the inbox item and (the student opted in) hands the mail to a real SMTP server on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.homework import make_course
from tests.support.mailbox import SmtpInbox, smtp_server
from tests.support.notify import body_of, items_of, set_email
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
                          "CAMP_PUBLIC_URL": "http://camp.test", "CAMP_DIGEST_HOUR": "0"})
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


@pytest.mark.slow
def test_the_reset_page_answers_before_the_mail_server_does(embedded: Stack) -> None:
    """A mail server that holds the conversation until the page has answered: a reset request
    that waited for SMTP could never answer (and would tell by its delay that the name exists)."""
    import socket
    import threading

    import httpx

    from tests.support.live import live_server

    name = add_user(embedded)
    set_email(user_id(name), f"{name}@example.org")
    answered, accepted = threading.Event(), threading.Event()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def hold() -> None:
        conn, _ = server.accept()
        accepted.set()
        answered.wait(120)
        conn.sendall(b"421 closing\r\n")
        conn.close()

    threading.Thread(target=hold, daemon=True).start()
    env = {"CAMP_SMTP_HOST": "127.0.0.1", "CAMP_SMTP_PORT": str(server.getsockname()[1]),
           "CAMP_PUBLIC_URL": "http://camp.test", "CAMP_SMTP_TIMEOUT_SECONDS": "120"}
    try:
        with live_server(embedded, **env) as url, httpx.Client(base_url=url, timeout=60) as web:
            token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/password/forgot").text)
            assert token
            page = web.post("/password/forgot", data={"name": name, "csrf_token": token.group(1)})
            assert page.status_code == 200 and "链接已经发出" in page.text
            answered.set()
            wait_for(accepted.is_set, timeout=60)  # the mail was on its way, after the answer
    finally:
        answered.set()
        server.close()


@pytest.mark.slow
def test_the_sweeper_resends_lost_mail_sends_digests_and_erases_old_claims(
        mailing_stack: tuple[Stack, SmtpInbox]) -> None:
    from datetime import timedelta

    from sqlalchemy import insert

    from app.db import session_scope
    from app.models import Notification, PrizeClaim, utcnow
    from tests.support.homework import Reply, add_replies, replies_2023
    from tests.support.notify import run_lottery
    from worker.sweeper import Sweeper

    stack, smtp = mailing_stack
    lost, daily, winner = add_user(stack), add_user(stack), add_user(stack)
    set_email(user_id(lost), "lost@example.org", "reviewed")
    set_email(user_id(daily), "daily@example.org", "reviewed", digest=True)
    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}, "rewards": [{"kind": "lottery", "k": 3}]})
    add_replies(slug, "1", replies_2023([Reply(user_id(winner))]))
    draw_id = run_lottery(stack, slug, "1")
    old = utcnow() - timedelta(minutes=10)
    params = {"floor": 1, "code": "1", "course": slug, "actor": "老师"}
    with session_scope() as session:  # made while the broker was away: no task was ever sent
        session.execute(insert(Notification), [
            {"user_id": user_id(lost), "kind": "reviewed", "key": "reviewed:lost", "params": params,
             "link": "/inbox", "created_at": old, "mail_state": "pending", "mail_tries": 0},
            {"user_id": user_id(daily), "kind": "reviewed", "key": "reviewed:daily", "params": params,
             "link": "/inbox", "created_at": old, "mail_state": "digest", "mail_tries": 0}])
        session.add(PrizeClaim(draw_id=draw_id, user_id=user_id(winner), full_name="张三", address="北京",
                               phone="13800000000", created_at=utcnow() - timedelta(days=100),
                               updated_at=utcnow() - timedelta(days=100)))
    stack.start_worker()
    sweeper = Sweeper()
    sweeper.notification_chores()
    sweeper.notification_chores()  # within the minute: nothing more is sent
    [mail] = smtp.wait_for("lost@example.org")
    assert "老师 批阅了你在作业 1 的回复 #1" in body_of(mail)
    [digest] = smtp.wait_for("daily@example.org")
    assert "1 条未读通知" in digest["Subject"]
    with session_scope() as session:
        claim = session.query(PrizeClaim).filter_by(draw_id=draw_id).one()
        assert claim.erased_at is not None and claim.address == ""
    assert len(smtp.raw) == 2
