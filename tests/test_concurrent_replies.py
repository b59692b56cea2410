"""Concurrent replies to one homework against a real server, on both stacks.

Regression: the request's commit ran from the thread pool after yielding to the event loop,
while the next reply's async handler blocked the loop waiting for the homework's floor counter
row that the first transaction still held: two concurrent replies hung the server for good.
Also a student polling with the same token while posting (the token row's lock)."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tests.faults.kit import run_in_own_loop
from tests.support.homework import make_course, make_users
from tests.support.live import Live
from tests.support.stacks import Stack

CLIENTS, POSTS = 12, 3


def tokens(n: int) -> list[dict[str, str]]:
    from app.db import session_scope
    from app.models import User
    from app.services.accounts import create_token

    with session_scope() as session:
        return [{"Authorization": f"Bearer {create_token(session, session.get(User, uid), 't')}"}
                for uid in make_users(n)]


def test_concurrent_replies_to_one_homework_all_succeed(stack: Stack, live: Live) -> None:
    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format"}})
    students = tokens(CLIENTS)

    async def student(base: str, headers: dict[str, str], codes: Counter[object]) -> None:
        url = f"{base}/api/v1/courses/{slug}/assignments/1-1/submissions"
        async with httpx.AsyncClient(timeout=20) as client:
            for i in range(POSTS):
                posted, polled = await asyncio.gather(
                    client.post(url, data={"text": f"作业1-1：{i}"}, headers=headers),
                    client.get(f"{base}/api/v1/me/submissions", headers=headers),  # same token at once
                )
                codes[posted.status_code] += 1
                codes[polled.status_code] += 1

    # the test's students all share one address; in a class each has their own, so lift the
    # per-address cap on bodies read at once (app/body_reader.py) to the number of students
    with live(stack, CAMP_UPLOADS_PER_CLIENT=str(CLIENTS)) as base:
        codes: Counter[object] = Counter()

        async def everyone() -> None:
            await asyncio.wait_for(asyncio.gather(*(student(base, h, codes) for h in students)), 60)

        run_in_own_loop(everyone())
    assert codes == Counter({201: CLIENTS * POSTS, 200: CLIENTS * POSTS})
