"""Resource abuse replayed as a hostile user would try it (docs/abuse.md, "Tried as an
attacker"): one reply that mails the whole class, previews that fill the thread pool."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.support.homework import Reply, add_replies, make_course, make_users
from tests.support.stacks import Stack
from tests.support.thread import account


def test_one_reply_cannot_notify_the_whole_class(client: TestClient, stack: Stack) -> None:
    """`回复#1 回复#2 … 回复#40`: every author of those floors got an inbox item (and a mail, if
    they asked for mail) from one reply; a spammer could reach thousands per post."""
    from app.db import session_scope
    from app.models import Notification

    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format", "answers": "open"}})
    add_replies(slug, "1-1", [Reply(uid) for uid in make_users(40)])
    _, spammer = account(stack)
    text = "作业1-1：" + " ".join(f"回复#{n}" for n in range(1, 41)) + " 加群领资料"
    posted = client.post(f"/api/v1/courses/{slug}/assignments/1-1/submissions", data={"text": text},
                         headers=spammer)
    assert posted.status_code == 201, posted.text
    with session_scope() as session:
        told = session.scalar(select(func.count()).select_from(Notification).where(
            Notification.key == f"replied:{posted.json()['id']}"))
    assert told == 10  # MAX_TOLD_PER_REPLY: the first ten floors named


def test_parallel_previews_from_one_account_render_one_at_a_time(embedded_client: TestClient, embedded: Stack,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """64 KB of `[` takes markdown-it about 3 s of a core, and the preview renders it afresh every
    time: one account sending 24 previews at once took 24 threads for a minute of CPU and every
    page of the site waited. Now one preview per account renders at a time; the rest get 429."""
    from markupsafe import Markup

    from app.web import compose
    from tests.support.staff import log_in
    from tests.support.web import add_user, csrf_of

    gate, lock, running, peak = threading.Event(), threading.Lock(), [0], [0]

    def held_render(text: str) -> Markup:  # the slow renderer, held until every answer is in
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        gate.wait(120)
        with lock:
            running[0] -= 1
        return Markup("<p>[[[</p>")

    monkeypatch.setattr(compose, "render_markdown", held_render)
    client = embedded_client
    log_in(client, add_user(embedded))
    token = csrf_of(client, "/courses/dl-bootcamp/assignments/1-1")
    statuses: list[int] = []

    def preview() -> None:
        r = client.post("/markdown/preview", data={"text": "[" * 65536}, headers={"X-CSRF-Token": token})
        statuses.append(r.status_code)

    senders = [threading.Thread(target=preview) for _ in range(6)]
    for sender in senders:
        sender.start()
    while len(statuses) < 5 and peak[0] < 6 and any(s.is_alive() for s in senders):
        threading.Event().wait(0.02)  # until five were answered, or all six are rendering
    gate.set()
    for sender in senders:
        sender.join()
    assert peak[0] == 1 and sorted(statuses) == [200, 429, 429, 429, 429, 429]
