"""The live feed (app/live.py) in tests: its settings for one test, and the wake-ups it
delivered, which tests count instead of timing."""

from __future__ import annotations

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
