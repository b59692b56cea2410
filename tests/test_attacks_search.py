"""Attack replays against search: a script firing many searches at once (anonymous visitors may
search) held a thread of the shared pool per search, up to the search's own time bound each, so
every other page waited. Now a client has `PER_CLIENT` searches running at once and the process
`TOTAL`; the next is refused at once with 429 and a message, and nothing is left held."""

from __future__ import annotations

from contextlib import ExitStack

from fastapi.testclient import TestClient

from tests.support.homework import Reply, add_replies, make_course, make_users
from tests.support.stacks import Stack


def _set_text(sid: int, body: str) -> None:
    from sqlalchemy import update

    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == sid).values(text=body))


OPEN = {"code": "8", "grading": {"kind": "reply_format", "answers": "open"}}


def test_a_flood_of_searches_is_refused_past_the_limits(client: TestClient, stack: Stack) -> None:
    from app import search_gate

    slug = make_course(OPEN)
    [author] = make_users(1)
    [sid] = add_replies(slug, "8", [Reply(author)])
    _set_text(sid, "作业8：卷积层的参数")
    page, api = f"/courses/{slug}/search", f"/api/v1/courses/{slug}/search"
    me = search_gate.client_key(None, "testclient")  # the test client's address, not logged in
    with ExitStack() as held:  # this client's searches still running
        for _ in range(search_gate.PER_CLIENT):
            held.enter_context(search_gate.search_slot(me))
        refused = client.get(page, params={"q": "卷积"})
        assert refused.status_code == 429 and "同时进行的搜索太多" in refused.text
        assert client.get(api, params={"q": "卷积"}).status_code == 429
    found = client.get(page, params={"q": "卷积"})
    assert found.status_code == 200 and "卷积" in found.text and "同时进行的搜索太多" not in found.text
    assert client.get(api, params={"q": "卷积"}).json()["total"] == 1

    with ExitStack() as held:  # many clients at once fill the process's share
        for n in range(search_gate.TOTAL):
            held.enter_context(search_gate.search_slot(search_gate.client_key(None, f"10.0.0.{n}")))
        assert client.get(api, params={"q": "卷积"}).status_code == 429
    assert client.get(api, params={"q": "卷积"}).status_code == 200
    assert search_gate._running == {}  # every slot given back, refused ones included
