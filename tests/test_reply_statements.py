"""What a reply POST costs the database, counted (not timed), on both stacks: the token and its
account in one statement, the homework with its course and the course's homework list in one,
the author's reply rate, the floor, the row — and nothing loaded again to build the answer. A token's last use is written
once a minute, not on every call."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support.homework import make_course
from tests.support.queries import statements
from tests.support.stacks import Stack
from tests.support.web import add_user, api_token

#: token + account, the homework with its course and the course's homework list, the reply-rate
#: upsert (one more since the per-account rate: it counts the reply and, on PostgreSQL, locks the
#: author's row so that replies at once to different homework are counted in turn), floor, INSERT
REPLY_POST_STATEMENTS = 5


def test_a_reply_post_costs_five_statements(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format"}},
                       {"code": "7-1", "grading": {"kind": "reply_format"}})
    headers = {"Authorization": f"Bearer {api_token(stack, add_user(stack))}"}
    url = f"/api/v1/courses/{slug}/assignments/1-1/submissions"
    assert client.post(url, data={"text": "作业1-1：已跑通"}, headers=headers).status_code == 201  # warm
    with statements() as sent:
        posted = client.post(url, data={"text": "作业1-1：第二次"}, headers=headers)
    assert posted.status_code == 201, posted.text
    body = posted.json()
    assert body["status"] == "queued" and body["likes"] == 0 and body["attachments"] == []
    assert body["course"] == slug and body["assignment"] == "1-1" and body["parts"][0]["assignment"] == "1-1"
    assert len(sent) == REPLY_POST_STATEMENTS, sent
    assert not [s for s in sent if s.lstrip().upper().startswith("UPDATE API_TOKENS")]

    # a reply naming two homework files two rows: two more statements (its floor and its row);
    # it is one reply for the rate, counted once
    with statements() as sent:
        split = client.post(url, data={"text": "作业1-1：完成\n作业7-1：乘法1,加法2"}, headers=headers)
    assert split.status_code == 201 and len(split.json()["parts"]) == 2
    assert len(sent) == REPLY_POST_STATEMENTS + 2, sent


def test_a_tokens_last_use_is_written_once_a_minute(client: TestClient, stack: Stack) -> None:
    from app.db import session_scope
    from app.models import ApiToken, User

    name = add_user(stack)
    headers = {"Authorization": f"Bearer {api_token(stack, name)}"}

    def last_use() -> object:
        with session_scope() as session:
            return session.scalar(select(ApiToken.last_used_at).join(User).where(User.name == name))

    assert last_use() is None
    assert client.get("/api/v1/me/submissions", headers=headers).status_code == 200
    first = last_use()
    assert first is not None  # the first use is written
    with statements() as sent:
        assert client.get("/api/v1/me/submissions", headers=headers).status_code == 200
    assert last_use() == first  # within the minute: not written again
    assert not [s for s in sent if "api_tokens SET" in s]
    # a revoked token stops at once, whatever the step
    with session_scope() as session:
        from app.models import utcnow

        token = session.scalar(select(ApiToken).join(User).where(User.name == name))
        assert token is not None
        token.revoked_at = utcnow()
    assert client.get("/api/v1/me/submissions", headers=headers).status_code == 401
