"""Attacks on the shared homework thread (app/web/thread_cache.py) and on the live reply
streams (app/web/thread_events.py), replayed as a hostile student or an instructor of another
course would try them (docs/abuse.md, "Tried as an attacker")."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from tests.support.homework import Reply, add_replies, make_course, make_users
from tests.support.stacks import Stack
from tests.support.thread import log_in, user_id
from tests.support.web import add_user, make_client, shared_app

OPEN = {"code": "1", "grading": {"kind": "reply_format", "answers": "open"}}


def _student(stack: Stack) -> tuple[TestClient, int]:
    name = add_user(stack)
    client = make_client()
    log_in(client, name)
    return client, user_id(name)


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match[1]


def _stream_request(address: str) -> Request:
    app = shared_app()
    return Request({"type": "http", "method": "GET", "path": "/events", "raw_path": b"/events",
                    "query_string": b"", "headers": [], "client": (address, 4000), "server": None,
                    "scheme": "http", "root_path": "", "app": app, "session": {}, "state": {}})


@pytest.mark.parametrize("kind", ["thread", "submission"])
def test_a_burst_of_stream_opens_from_one_address_gets_only_its_few_places(
        embedded: Stack, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """Twenty opens at once: each checked the count, then waited for its viewer in the thread
    pool, then registered; all twenty passed the cap of six."""
    from app.config import get_settings
    from app.live import FEED
    from app.web import events, thread_events

    async def slow_viewer(request: Request) -> int | None:
        await asyncio.sleep(0.01)  # the thread pool's round trip, made certain
        return None

    monkeypatch.setattr(events, "stream_viewer", slow_viewer)
    address = f"192.0.2.{ {'thread': 1, 'submission': 2}[kind] }"

    def poll(after: int, viewer_id: int | None, base: dict[str, Any]) -> None:
        return None

    async def burst() -> list[Any]:
        if kind == "thread":
            opens = [thread_events._open(_stream_request(address), poll, "h:999999", 0) for _ in range(20)]
        else:
            opens = [events.submission_events(999999, _stream_request(address)) for _ in range(20)]
        answers = await asyncio.gather(*opens)
        FEED.stop()
        return answers

    answers = asyncio.run(burst())
    opened = [a for a in answers if a.status_code == 200]
    assert len(opened) == get_settings().streams_per_client
    assert {a.status_code for a in answers} == {200, 429}


def test_pages_past_the_end_of_a_thread_are_not_stored(stack: Stack) -> None:
    """`?page=N` for N = 2, 3, ... with one request each filled the 256 shared places with empty
    pages and pushed every real page out: every student's next page was a full render."""
    from app.web.thread_cache import SHARED

    slug = make_course(OPEN)
    client, _ = _student(stack)
    add_replies(slug, "1", [Reply(a) for a in make_users(3)])
    url = f"/courses/{slug}/assignments/1"
    assert client.get(url).status_code == 200
    stored = len(SHARED._entries)
    for page in (2, 3, 1000, 2**31 - 1):
        answer = client.get(url, params={"page": page})
        assert answer.status_code == 200 and 'id="floor-' not in answer.text
    assert len(SHARED._entries) == stored
    client.close()
