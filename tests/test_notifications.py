"""The inbox: items made where the event happens (reply, quote, review, draw), exactly once,
read only by their owner; the unread badge in every page's header; e-mail (one per item or a
daily digest) through a real SMTP server on loopback."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.support.homework import Reply, add_replies, make_course, own_queue, replies_2023
from tests.support.mailbox import smtp_server
from tests.support.notify import body_of, items_of, run_lottery, set_email
from tests.support.stacks import Stack
from tests.support.staff import log_in, post_form
from tests.support.thread import user_id
from tests.support.web import add_user, api_token, make_client


def post(client: TestClient, stack: Stack, name: str, slug: str, code: str, text: str) -> dict:
    r = client.post(f"/api/v1/courses/{slug}/assignments/{code}/submissions", data={"text": text},
                    headers={"Authorization": f"Bearer {api_token(stack, name)}"})
    assert r.status_code == 201, r.text
    return r.json()


def badge(html: str) -> str | None:
    found = re.search(r'data-role="unread-badge"[^>]*>([^<]+)<', html)
    return found.group(1) if found else None


def test_the_forum_ways_of_answering_a_floor() -> None:
    from app.services.notifications import referenced_floors

    names = {3: "thunder95", 5: "小明"}
    assert referenced_floors("> #3 thunder95：\n> 作业1：…\n\n同意", names) == ({3}, set())
    assert referenced_floors("回复 #5：好问题", names) == (set(), {5})
    assert referenced_floors("@#5 reply to #3", names) == (set(), {3, 5})
    assert referenced_floors("#3 thunder95 说得对", names) == (set(), {3})
    # a number that is not an answer: no name after it, or someone else's name
    assert referenced_floors("top #3 accuracy, #5 thunder95", names) == (set(), set())
    # words inside a quote are the quoted reply's, not this one's
    assert referenced_floors("> #3 thunder95：\n> 回复 #5 x", names) == ({3}, set())


def test_quotes_and_replies_tell_the_author_of_the_floor(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "1", "grading": {"kind": "reply_format", "answers": "open"}},
                       {"code": "2", "grading": {"kind": "reply_format", "answers": "sealed_until_deadline"}})
    own_queue(slug)  # a worker another test started would grade these and add 'graded' items
    alice, bob, carol = add_user(stack), add_user(stack), add_user(stack)
    first = post(client, stack, alice, slug, "1", "作业1：我的答案")
    assert first["floor"] == 1
    quoting = post(client, stack, bob, slug, "1", f"> #1 {alice}：\n> 作业1：我的答案\n\n作业1：同意")
    post(client, stack, carol, slug, "1", "作业1：回复 #1 我也是")
    post(client, stack, alice, slug, "1", "作业1：回复 #1 补充一下")  # her own floor: nothing
    post(client, stack, carol, slug, "1", "作业1：top #1 accuracy")  # not an answer to #1
    post(client, stack, bob, slug, "1", f"作业1：#1 {alice} 谢谢")
    items = items_of(user_id(alice))
    assert [i.kind for i in items] == ["quoted", "replied", "replied"]
    assert items[0].params["actor"] == bob and items[0].params["floor"] == 1
    assert items[0].link.endswith(f"#floor-{quoting['floor']}") and f"/courses/{slug}/assignments/1" in items[0].link
    assert items_of(user_id(bob)) == [] and items_of(user_id(carol)) == []
    # sealed answers: alice may not read bob's reply before the deadline, so she is not told of it
    post(client, stack, alice, slug, "2", "作业2：答案")
    post(client, stack, bob, slug, "2", f"> #1 {alice}：\n\n作业2：另一个答案")
    assert len(items_of(user_id(alice))) == 3

    log_in(client, alice)
    page = client.get("/inbox").text
    assert f"{bob} 在作业 1 中引用了你的 #1" in page and f"{carol} 在作业 1 中回复了你的 #1" in page
    assert badge(page) == "3"


def test_a_review_tells_the_author_once_and_again_when_changed(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    author, staff = add_user(stack), add_user(stack, "instructor")
    [sid] = add_replies(slug, "1", [Reply(user_id(author))])
    headers = {"Authorization": f"Bearer {api_token(stack, staff)}"}
    for comment in ("不错", "不错", "补充：图很清楚"):
        r = client.put(f"/api/v1/submissions/{sid}/review", json={"score": 90, "comment": comment},
                       headers=headers)
        assert r.status_code == 200, r.text
    [item] = items_of(user_id(author))
    assert item.kind == "reviewed" and item.unread and item.params["actor"] == staff
    log_in(client, author)
    assert post_form(client, f"/inbox/{item.id}/read", {}, "/inbox").status_code == 303
    assert not items_of(user_id(author))[0].unread
    client.put(f"/api/v1/submissions/{sid}/review", json={"score": 95}, headers=headers)
    [again] = items_of(user_id(author))
    assert again.id == item.id and again.unread  # renewed, not a second item
    english = client.get("/inbox?lang=en").text
    assert f"{staff} reviewed your reply #1 to homework 1" in english and "Mark all as read" in english


def test_only_the_owner_reads_or_marks_an_item(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "1", "grading": {"kind": "reply_format", "answers": "open"}})
    own_queue(slug)  # a worker another test started would grade these and add 'graded' items
    alice, mallory = add_user(stack), add_user(stack)
    post(client, stack, alice, slug, "1", "作业1：答案")
    post(client, stack, mallory, slug, "1", f"> #1 {alice}：\n\n作业1：引用")
    [item] = items_of(user_id(alice))

    log_in(client, mallory)
    assert badge(client.get("/").text) is None  # mallory has nothing unread
    for action in ("open", "read"):  # a forged request for alice's item: as if it did not exist
        assert post_form(client, f"/inbox/{item.id}/{action}", {}, "/inbox").status_code == 404
    assert post_form(client, "/inbox/read-all", {}, "/inbox").status_code == 303
    assert 'data-role="inbox-item"' not in client.get("/inbox").text  # her inbox is empty
    assert items_of(user_id(alice))[0].unread  # untouched by all of the above
    # without the CSRF token nothing happens either
    assert client.post(f"/inbox/{item.id}/open", follow_redirects=False).status_code == 403

    other = make_client()
    log_in(other, alice)
    home = other.get("/").text
    assert badge(home) == "1" and 'href="/inbox"' in home
    opened = post_form(other, f"/inbox/{item.id}/open", {}, "/inbox")
    assert opened.status_code == 303 and opened.headers["location"] == item.link
    assert badge(other.get("/").text) is None
    assert not items_of(user_id(alice))[0].unread
    anonymous = make_client()
    assert anonymous.get("/inbox", follow_redirects=False).status_code in (401, 303)


def test_a_published_draw_tells_each_winner_once(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}, "rewards": [{"kind": "lottery", "k": 3}]})
    winner, loser = add_user(stack), add_user(stack)
    add_replies(slug, "1", replies_2023([Reply(user_id(winner))]))
    draw_id = run_lottery(stack, slug, "1")
    [item] = items_of(user_id(winner))
    assert item.kind == "won" and item.link == f"/prizes/{draw_id}/claim"
    assert items_of(user_id(loser)) == []

    from app.db import session_scope
    from app.models import Draw
    from app.services import notifications

    with session_scope() as session:  # the event handled again (a retried task): still one item
        draw = session.get(Draw, draw_id)
        assert draw is not None
        notifications.won(session, draw.id, draw.title, "1", draw.winners or [])
    assert len(items_of(user_id(winner))) == 1


def test_graded_items_are_made_once_per_attempt(embedded: Stack) -> None:
    """A redelivered message cannot store a verdict twice, nor make a second item."""
    import grader
    from app.db import session_scope
    from app.services import notifications
    from worker import grading

    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    own_queue(slug)  # the queued row is this test's to claim: no worker of another test serves the queue
    author = add_user(embedded)
    [sid] = add_replies(slug, "1", [Reply(user_id(author), status="queued", verdict=None, score=None)])
    from sqlalchemy import select, update

    from app.models import Submission

    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == sid).values(attempts=0))
        claimed = grading.claim(session, sid)
    assert claimed is not None
    report = grader.Report(verdict="runtime_error", score=0.0, messages={"en": "crashed"})
    for _ in range(2):
        with session_scope() as session:
            grading.store_verdict(session, claimed, report)
    with session_scope() as session:  # the notice handled once more, as a retried task would
        row = session.execute(select(*notifications.graded_columns()).where(Submission.id == sid)).one()
        notifications.graded(session, row, claimed.attempt)
    [item] = items_of(user_id(author))
    assert item.kind == "failed" and item.params["verdict"] == "runtime_error"


def test_mail_per_item_and_the_daily_digest(embedded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import notify_jobs
    from app.config import get_settings
    from app.db import session_scope
    from app.services import notifications

    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    now_user, digest_user, quiet = add_user(embedded), add_user(embedded), add_user(embedded)
    set_email(user_id(now_user), "now@example.org", "reviewed")
    set_email(user_id(digest_user), "digest@example.org", "reviewed,quoted", digest=True)
    set_email(user_id(quiet), "quiet@example.org", "")
    sids = add_replies(slug, "1", [Reply(user_id(u)) for u in (now_user, digest_user, digest_user, quiet)])
    with smtp_server() as smtp:
        monkeypatch.setenv("CAMP_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CAMP_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("CAMP_PUBLIC_URL", "https://camp.example.org")
        get_settings.cache_clear()
        staff = add_user(embedded, "instructor")
        with session_scope() as session:
            from app.models import Submission, User

            reviewer = session.query(User).filter_by(name=staff).one()
            for sid in sids:
                notifications.reviewed(session, session.get(Submission, sid), reviewer)
        states = {u: [i.mail_state for i in items_of(user_id(u))] for u in (now_user, digest_user, quiet)}
        assert states == {now_user: ["pending"], digest_user: ["digest", "digest"], quiet: ["none"]}

        [item] = items_of(user_id(now_user))
        assert notify_jobs.send_item_mail(item.id) is False
        assert notify_jobs.send_item_mail(item.id) is False  # a second delivery sends nothing
        [mail] = smtp.to("now@example.org")
        assert "批阅了你在作业 1 的回复" in body_of(mail)
        assert f"https://camp.example.org/courses/{slug}/assignments/1" in body_of(mail)
        assert "https://camp.example.org/account#notifications" in body_of(mail)

        assert notify_jobs.send_digests() == 1
        assert notify_jobs.send_digests() == 0  # one digest a day, however often the job runs
        [digest] = smtp.to("digest@example.org")
        assert "2 条未读通知" in digest["Subject"] and body_of(digest).count("批阅了你") == 2
        assert smtp.to("quiet@example.org") == []
        assert {i.mail_state for i in items_of(user_id(digest_user))} == {"sent"}


def test_a_refused_mail_is_tried_again_then_given_up(embedded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from app import notify_jobs
    from app.config import get_settings
    from app.db import session_scope
    from app.services import notifications

    with socket.socket() as probe:  # a port nobody listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("CAMP_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CAMP_SMTP_PORT", str(closed))
    monkeypatch.setenv("CAMP_PUBLIC_URL", "https://camp.example.org")
    get_settings.cache_clear()
    someone = add_user(embedded)
    set_email(user_id(someone), "x@example.org", "won")
    with session_scope() as session:
        notifications.notify(session, user_id(someone), "won", "won:test:1",
                             {"title": "t", "code": "1", "draw": 1}, "/inbox")
    [item] = items_of(user_id(someone))
    assert [notify_jobs.send_item_mail(item.id) for _ in range(3)] == [True, True, False]
    assert items_of(user_id(someone))[0].mail_state == "failed" and items_of(user_id(someone))[0].unread


def test_preferences_need_an_address_and_known_kinds(embedded_client: TestClient, embedded: Stack) -> None:
    name = add_user(embedded)
    log_in(embedded_client, name)
    r = post_form(embedded_client, "/account/notifications", {"kinds": "graded"}, "/account")
    assert r.status_code == 422 and "请先保存电子邮箱地址" in r.text
    post_form(embedded_client, "/account/email", {"email": f"{name}@example.org"}, "/account")
    r = post_form(embedded_client, "/account/notifications", {"kinds": "everything"}, "/account")
    assert r.status_code == 422 and "未知的通知类型" in r.text
    r = embedded_client.post("/account/notifications", data={
        "kinds": ["graded", "won"], "digest": "1", "csrf_token": re.search(
            r'name="csrf_token" value="([^"]+)"', embedded_client.get("/account").text).group(1)},
        follow_redirects=False)
    assert r.status_code == 303
    page = embedded_client.get("/account").text
    assert re.search(r'value="graded" checked', page) and re.search(r'value="won" checked', page)
    assert not re.search(r'value="reviewed" checked', page)
    assert re.search(r'name="digest" value="1" checked', page)


def test_the_cached_page_for_visitors_never_carries_a_badge(client: TestClient, stack: Stack) -> None:
    """The homework page is cached for visitors who are not logged in; the badge is per user,
    so it must appear only on pages rendered for its owner, never in the shared copy."""
    slug = make_course({"code": "1", "grading": {"kind": "reply_format", "answers": "open"}})
    own_queue(slug)  # a worker another test started would grade these and add 'graded' items
    alice, bob = add_user(stack), add_user(stack)
    post(client, stack, alice, slug, "1", "作业1：答案")
    post(client, stack, bob, slug, "1", f"> #1 {alice}：\n\n作业1：引用")
    url = f"/courses/{slug}/assignments/1"
    visitor = make_client()
    assert badge(visitor.get(url).text) is None
    log_in(client, alice)
    assert badge(client.get(url).text) == "1"
    assert badge(visitor.get(url).text) is None  # served from the cache: still nobody's badge
    other = make_client()
    log_in(other, bob)
    assert badge(other.get(url).text) is None


def test_the_inbox_as_json(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "1", "grading": {"kind": "reply_format", "answers": "open"}})
    own_queue(slug)  # a worker another test started would grade these and add 'graded' items
    alice, bob = add_user(stack), add_user(stack)
    post(client, stack, alice, slug, "1", "作业1：答案")
    post(client, stack, bob, slug, "1", f"回复 #1 作业1：同意 {alice}")
    mine = {"Authorization": f"Bearer {api_token(stack, alice)}"}
    theirs = {"Authorization": f"Bearer {api_token(stack, bob)}"}
    inbox = client.get("/api/v1/me/notifications", headers={**mine, "Accept-Language": "en"}).json()
    assert inbox["unread"] == 1 and inbox["total"] == 1
    [item] = inbox["items"]
    assert item["kind"] == "replied" and item["text"] == f"{bob} replied to your reply #1 in homework 1"
    assert client.get("/api/v1/me/notifications", headers=theirs).json()["total"] == 0
    assert client.post(f"/api/v1/me/notifications/{item['id']}/read", headers=theirs).status_code == 404
    assert client.post(f"/api/v1/me/notifications/{item['id']}/read", headers=mine).status_code == 204
    assert client.get("/api/v1/me/notifications", headers=mine).json()["unread"] == 0
    assert client.post("/api/v1/me/notifications/read", headers=mine).json() == {"marked": 0}


def test_the_badge_costs_one_statement_whatever_the_count(client: TestClient, stack: Stack) -> None:
    from sqlalchemy import insert

    from app.db import session_scope
    from app.models import Notification
    from tests.support.queries import statements

    counts = []
    for n in (1, 150):
        name = add_user(stack)
        with session_scope() as session:
            session.execute(insert(Notification), [
                {"user_id": user_id(name), "kind": "won", "key": f"won:t:{i}", "params": {"code": "1"},
                 "link": "/inbox", "mail_state": "none", "mail_tries": 0} for i in range(n)])
        viewer = make_client()
        log_in(viewer, name)
        with statements() as sent:
            page = viewer.get("/").text
        assert badge(page) == (str(n) if n <= 99 else "99+")
        counts.append(sum("notifications" in s for s in sent))
    assert counts == [1, 1]
