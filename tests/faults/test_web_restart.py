"""The web app is killed and restarted in the middle of a burst of submissions.

Proves: while 30 concurrent clients post replies as fast as they can to a real uvicorn
server, a kill -9 of the server and later a graceful stop (SIGTERM), each followed by a
restart, never produce a `201` without a row (the transaction commits before the response),
and every row that exists — answered `201` or cut off with the connection — gets graded (ids
lost between commit and send are sent again by the sweep). Floors stay consecutive: no
half-written reply took a number.
"""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from tests.faults.kit import WebServer, elapsed, run_in_own_loop, student_tokens, worker_ready
from tests.support.homework import make_course

CLIENTS = 30
SETTINGS = {"CAMP_SWEEP_INTERVAL_SECONDS": "1", "CAMP_SWEEP_STALE_QUEUED_SECONDS": "3"}


async def burst(url: str, students: list[dict[str, str]], stop: asyncio.Event,
                answered: list[int], failures: list[str]) -> None:
    async def poster(n: int) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            while not stop.is_set():
                try:
                    r = await client.post(url, data={"text": f"作业1-1：{n}"}, headers=students[n])
                except httpx.HTTPError as exc:
                    failures.append(type(exc).__name__)
                    await asyncio.sleep(0.2)
                    continue
                if r.status_code == 201:
                    answered.append(r.json()["id"])
                else:
                    failures.append(str(r.status_code))

    await asyncio.gather(*(poster(n) for n in range(CLIENTS)))


@pytest.mark.slow
def test_web_restart_during_a_burst(make_stack) -> None:
    with make_stack(**SETTINGS) as fs:
        stack = fs.stack
        worker_ready(stack, stack.start_worker("-Q", "cpu", "--beat", "-c", "2"))
        slug = make_course({"code": "1-1", "grading": {"kind": "reply_format"}})
        students = student_tokens(CLIENTS)
        web = WebServer(stack)
        web.start()
        answered: list[int] = []
        failures: list[str] = []

        async def scenario() -> float:
            stop = asyncio.Event()
            url = f"{web.url}/api/v1/courses/{slug}/assignments/1-1/submissions"
            task = asyncio.create_task(burst(url, students, stop, answered, failures))
            started = time.monotonic()
            for sig in (signal.SIGKILL, signal.SIGTERM):
                await asyncio.sleep(2.5)
                await asyncio.to_thread(web.stop, sig)
                await asyncio.to_thread(web.start)
            await asyncio.sleep(2.5)
            stop.set()
            await task
            return elapsed(started)

        try:
            seconds = run_in_own_loop(scenario())
        finally:
            web.stop(signal.SIGTERM)

        rows = dict(fs.rows("SELECT s.id, s.floor FROM submissions s JOIN assignments a ON a.id = s.assignment_id"
                            " JOIN courses c ON c.id = a.course_id WHERE c.slug = %s", slug))
        assert len(answered) == len(set(answered)) > 50
        assert set(answered) <= set(rows), "a 201 without a row"
        assert sorted(rows.values()) == list(range(1, len(rows) + 1))  # no floor lost to a half-write
        final = fs.wait_final(list(rows), timeout=60)
        assert set(final.values()) == {"scored"}
        assert set(fs.scored_attempts(list(rows)).values()) == {1}
        print(f"\n{len(answered)} answered 201 in {seconds}s with 2 restarts; {len(rows) - len(answered)} "
              f"rows committed without an answer, all graded; {len(failures)} failed requests "
              f"({', '.join(sorted(set(failures)))})")
