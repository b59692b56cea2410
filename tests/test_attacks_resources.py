"""Resource abuse replayed as a hostile user would try it (docs/abuse.md, "Tried as an
attacker"): one reply that mails the whole class."""

from __future__ import annotations

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
