"""The web app is killed and restarted in the middle of a burst of submissions.

Proves: while 30 concurrent clients post replies as fast as they can to a real uvicorn
server, a kill -9 of the server and later a graceful stop (SIGTERM), each followed by a
restart, never produce a `201` without a row (the transaction commits before the response),
and every row that exists gets graded (ids lost between commit and send are sent again by the
sweep). Each client retries a failed POST with the same `Idempotency-Key` until it is
answered: a reply committed whose answer was cut off with the connection is answered on the
retry with the same submission (`Idempotent-Replayed`), so there is exactly one row per key —
no duplicate, and the daily limit would count one. Floors stay consecutive: no half-written
reply took a number.
"""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from tests.faults.kit import WebServer, elapsed, run_in_own_loop, start_sweeper, student_tokens, worker_ready
from tests.support.homework import make_course
from tests.support.stacks import wait_for

CLIENTS = 30
SETTINGS = {"CAMP_SWEEP_INTERVAL_SECONDS": "1", "CAMP_SWEEP_STALE_QUEUED_SECONDS": "3",
            # each client posts as fast as it can for ten seconds: a load generator, not a student
            "CAMP_REPLIES_PER_MINUTE": "100000", "CAMP_REPLIES_PER_HOUR": "100000"}


async def burst(url: str, students: list[dict[str, str]], stop: asyncio.Event,
                answered: dict[str, int], failures: list[str], replayed: list[str]) -> None:
    async def poster(n: int) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            while not stop.is_set():
                key = f"{n}-{len(answered)}-{time.monotonic()}"
                while True:  # the same request, with the same key, until it is answered
                    try:
                        r = await client.post(url, data={"text": f"作业1-1：{n}"},
                                              headers=students[n] | {"Idempotency-Key": key})
                    except httpx.HTTPError as exc:
                        failures.append(type(exc).__name__)
                        await asyncio.sleep(0.2)
                        continue
                    if r.status_code == 201:
                        answered[key] = r.json()["id"]
                        if r.headers.get("idempotent-replayed"):
                            replayed.append(key)
                        break
                    failures.append(str(r.status_code))
                    await asyncio.sleep(0.2)

    await asyncio.gather(*(poster(n) for n in range(CLIENTS)))


@pytest.mark.slow
def test_web_restart_during_a_burst(make_stack) -> None:
    with make_stack(**SETTINGS) as fs:
        stack = fs.stack
        start_sweeper(stack)
        worker_ready(stack, stack.start_worker("-Q", "cpu", "-c", "2"))
        slug = make_course({"code": "1-1", "grading": {"kind": "reply_format"}})
        students = student_tokens(CLIENTS)
        web = WebServer(stack)
        web.start()
        answered: dict[str, int] = {}
        failures: list[str] = []
        replayed: list[str] = []

        async def scenario() -> float:
            stop = asyncio.Event()
            url = f"{web.url}/api/v1/courses/{slug}/assignments/1-1/submissions"
            task = asyncio.create_task(burst(url, students, stop, answered, failures, replayed))
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
        ids = list(answered.values())
        assert len(ids) == len(set(ids)) > 50  # one submission per key
        assert set(ids) == set(rows), "a 201 without a row, or a row no key was answered with"
        assert sorted(rows.values()) == list(range(1, len(rows) + 1))  # no floor lost to a half-write
        final = fs.wait_final(list(rows), timeout=60)
        assert set(final.values()) == {"scored"}
        assert set(fs.scored_attempts(list(rows)).values()) == {1}
        print(f"\n{len(answered)} keys answered 201 in {seconds}s with 2 restarts, one row each; "
              f"{len(replayed)} retries answered with the submission their cut-off first POST had committed; "
              f"all graded; {len(failures)} failed requests ({', '.join(sorted(set(failures)))})")


@pytest.mark.slow
def test_a_client_cut_off_before_the_answer_retries_and_gets_the_same_reply(make_stack) -> None:
    """The case the burst above hits only by chance: the reply is committed but the client never
    sees the answer (here it hangs up right after sending). Its retry with the same key gets that
    reply; with a limit of one code reply a day, the retry is not refused for the first one."""
    import socket

    with make_stack() as fs:
        slug = make_course({"code": "6-2", "grading": {"kind": "reply_format", "daily_code_limit": 1}})
        [headers] = student_tokens(1)
        web = WebServer(fs.stack)
        web.start()
        path = f"/api/v1/courses/{slug}/assignments/6-2/submissions"
        files = {"files": ("predict.py", b"def predict(images):\n    return [0] * len(images)\n")}
        key = {"Idempotency-Key": "cut-off-1"}
        try:
            request = httpx.Request("POST", web.url + path, data={"text": "作业6-2：代码"}, files=files,
                                    headers=headers | key)
            raw = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
                   + b"".join(f"{k}: {v}\r\n".encode() for k, v in request.headers.items() if k != "host")
                   + b"\r\n" + request.read())
            with socket.create_connection(("127.0.0.1", web.port)) as sock:
                sock.sendall(raw)  # and hang up without reading the answer
            committed = wait_for(lambda: fs.rows("SELECT id FROM submissions"), timeout=30)
            with httpx.Client(timeout=30) as client:
                retry = client.post(web.url + path, data={"text": "作业6-2：代码"}, files=files, headers=headers | key)
                fresh = client.post(web.url + path, data={"text": "作业6-2：代码"}, files=files,
                                    headers=headers | {"Idempotency-Key": "cut-off-2"})
        finally:
            web.stop()
        assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
        assert [(retry.json()["id"],)] == committed == fs.rows("SELECT id FROM submissions")
        assert fresh.status_code == 429  # the day's one code reply is the cut-off one, counted once
