"""The live feed (app/live.py) in tests: its settings for one test, the wake-ups it delivered
(which tests count instead of timing), replies filed through the real service, and the thread
streams' first event and reads."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient


def settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    """`live_fallback_seconds="60"`: CAMP_ settings for this test (the cached ones forgotten)."""
    from app.config import get_settings

    for name, value in values.items():
        monkeypatch.setenv(f"CAMP_{name.upper()}", value)
    get_settings.cache_clear()


def delivered() -> dict[str, int]:
    """Wake-ups this process's feed delivered so far, by kind (`submission`, `homework`,
    `version`, ...)."""
    from app.live import FEED

    return dict(FEED.delivered)


def push_kind(numbered: str) -> str:
    """The kind an announcement of this kind is delivered as on the active stack: itself over
    Redis, `version` on the embedded stack (a moved database version wakes every stream)."""
    from app.config import get_settings
    from app.live import uses_redis

    return numbered if uses_redis(get_settings()) else "version"


def listening(client: TestClient) -> None:
    """Start the feed's listener on the client's event loop (it stays a while after its last
    stream) and wait until it hears every change: a stream opened next is woken by what is
    announced, not by the wake-up of every stream a starting listener sends."""
    from app.live import FEED

    async def watch_nothing() -> None:
        with FEED.watching("warm-up"):
            pass

    assert client.portal is not None, "a client used as a context manager"
    client.portal.call(watch_nothing)
    assert FEED.listening.wait(30)


def first_event(client: httpx.Client, url: str, **headers: str) -> dict[str, list]:
    """The first `replies` event of a stream (the stream is then closed)."""
    with client.stream("GET", url, headers=headers) as response:
        return replies_of(response)


def replies_of(response: httpx.Response) -> dict[str, list]:
    """The first `replies` event of an open stream."""
    assert response.status_code == 200, response.read()
    event = None
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == "replies":
            return json.loads(line.split(":", 1)[1])
    raise AssertionError("the stream ended without replies")


def post(slug: str, author: int, text: str, code: str | None = None, commit: bool = True) -> None:
    """A reply through the real service (`code` None: on the course thread), committed or
    rolled back."""
    from app.db import get_sessionmaker
    from app.models import User
    from app.services.courses import get_assignment, get_course
    from app.services.replies import post_reply

    with get_sessionmaker()() as session:
        default = get_assignment(session, slug, code) if code else None
        post_reply(session, get_course(session, slug), session.get(User, author),  # type: ignore[arg-type]
                   text, [], default=default)
        if commit:
            session.commit()
        else:
            session.rollback()


def reading(monkeypatch: pytest.MonkeyPatch, name: str, after_first: Callable[[], None]) -> list[object]:
    """Every read of the thread streams' `name` (`new_replies`, `new_posts`); `after_first` runs
    once, inside the first read (so the stream has read nothing of it, and waits next)."""
    from app.web import thread_events

    seen: list[object] = []
    real = getattr(thread_events, name)

    def counting(*args: object) -> object:
        pushed = real(*args)
        seen.append(pushed)
        if len(seen) == 1:
            after_first()
        return pushed

    monkeypatch.setattr(thread_events, name, counting)
    return seen
