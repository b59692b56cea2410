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


def _set_text(submission_id: int, text: str) -> None:
    from sqlalchemy import update

    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == submission_id).values(text=text))


def test_a_reply_cannot_forge_a_slot_even_with_a_marker_it_saw(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared replies carry slots (`<marker>:csrf`) filled per viewer. A reply holding one
    would get each reader's CSRF token (or like state) filled into its text. Guessing the
    marker is hopeless; a marker that got out (a log, a debugger, a bug) must not be enough."""
    from app.web import thread_cache

    seen: list[str] = []
    real_fragment = thread_cache.fragment

    def recording(*args: Any, **kwargs: Any) -> str:
        html = real_fragment(*args, **kwargs)
        seen.append(html)
        return html

    monkeypatch.setattr(thread_cache, "fragment", recording)
    slug = make_course(OPEN)
    (attacker, attacker_id), (reader, _) = _student(stack), _student(stack)
    [other] = make_users(1)
    [mine, _] = add_replies(slug, "1", [Reply(attacker_id), Reply(other)])
    url = f"/courses/{slug}/assignments/1"
    attacker.get(url)
    marks = {m for html in seen for m in re.findall("(\x1e[0-9a-f]{24}):", html)}
    assert marks, "no shared rendering was made"
    guessed = "\x1e" + "0" * 24
    forged = " ".join(f"{m}:{name}\x1e" for m in [*marks, guessed] for name in ("csrf", "like-class"))
    _set_text(mine, f"作业1：FORGED {forged} END")

    for _ in range(2):  # a miss that stores the page, then a hit
        page = reader.get(url).text
        token = _csrf(page)
        assert page.count(token) == page.count(f'name="csrf_token" value="{token}"')
        text = page[page.index("FORGED"):page.index("END")]
        assert " liked" not in text and token not in text
    # and the page is still shared (a forged slot does not make it uncacheable)
    assert any(mine in {r.id for r in entry.value.replies} for entry in thread_cache.SHARED._entries.values())
    attacker.close()
    reader.close()
