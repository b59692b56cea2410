"""Event streams: a few per address, and a logged-out cookie sees
what an anonymous visitor sees."""

from __future__ import annotations

import contextlib

import httpx

from tests.support.homework import make_course, own_queue
from tests.support.live import Live
from tests.support.stacks import Stack, wait_for
from tests.support.web import add_user, api_token


def test_one_address_gets_a_few_streams_and_then_429(embedded: Stack, live: Live) -> None:
    from app.config import get_settings

    bearer = {"Authorization": f"Bearer {api_token(embedded, add_user(embedded))}"}
    # a queue no worker serves (the session's workers would grade it and end the streams)
    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format"}})
    own_queue(slug)
    with live(embedded) as url, httpx.Client(base_url=url, timeout=30) as client:
        posted = client.post(f"/api/v1/courses/{slug}/assignments/1-1/submissions", headers=bearer,
                             data={"text": "作业1-1：已跑通"})
        assert posted.status_code == 201, posted.text
        events = f"/submissions/{posted.json()['id']}/events"  # stays queued
        with contextlib.ExitStack() as open_streams:
            for _ in range(get_settings().streams_per_client):
                r = open_streams.enter_context(client.stream("GET", events))
                assert r.status_code == 200
            refused = client.get(events)
            assert refused.status_code == 429 and refused.json()["code"] == "too_many"
        # closed streams give their places back (once the server has seen them go)
        def opens() -> bool:
            with client.stream("GET", events) as again:
                return again.status_code == 200

        assert wait_for(opens, timeout=30)
