"""Several web processes over one database (docs/pipeline.md, "Scaling out"): `camp serve
--workers 2` and a second, separate `camp serve`, on PostgreSQL + Redis with a real worker.
A reply posted through one is on the other's cached pages at once, its verdict too, and an
event stream opened on the other wakes on the worker's announcement (the fallback read is set
beyond the stream's life, so only a pushed wake-up can end it with the verdict)."""

from __future__ import annotations

import json

import httpx

from tests.support.homework import make_course
from tests.support.live import Live
from tests.support.stacks import Stack, wait_for
from tests.support.web import add_user, api_token

NO_FALLBACK = {"CAMP_LIVE_FALLBACK_SECONDS": "3600"}  # longer than a stream lives (300 s)


def fresh_get(base: str, path: str) -> str:
    """A GET on a new connection (the kernel spreads new connections over the server's processes)."""
    with httpx.Client(base_url=base, timeout=30) as one:
        response = one.get(path)
    assert response.status_code == 200, response.text
    return response.text


def floor_li(page: str, floor: int) -> str:
    return page.split(f'id="floor-{floor}"')[1].split("</li>")[0]


def final_event(base: str, submission_id: int) -> dict[str, object]:
    with httpx.Client(base_url=base, timeout=90) as client, \
            client.stream("GET", f"/submissions/{submission_id}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                snap = json.loads(line[6:])
                if snap["final"]:
                    return snap
    raise AssertionError("the stream ended without the verdict")


def test_two_web_processes_and_a_second_server_stay_exact(pg_stack: Stack, live: Live) -> None:
    with pg_stack.active():
        if not any(p.poll() is None for p in pg_stack.workers):
            pg_stack.start_worker()
        slug = make_course({"code": "1-1", "grading": {"kind": "reply_format"}})
        bearer = {"Authorization": f"Bearer {api_token(pg_stack, add_user(pg_stack))}"}
        page = f"/courses/{slug}/assignments/1-1"
        with live(pg_stack, workers=2, **NO_FALLBACK) as two, live(pg_stack, **NO_FALLBACK) as other:
            for base in (two, two, two, two, other, other):  # each process caches the page
                assert 'id="floor-' not in fresh_get(base, page)
            with httpx.Client(base_url=two, timeout=30) as client:
                posted = client.post(f"/api/v1/courses/{slug}/assignments/1-1/submissions",
                                     data={"text": "作业1-1：已跑通"}, headers=bearer)
            assert posted.status_code == 201, posted.text
            sid, floor = posted.json()["id"], posted.json()["floor"]
            # the other server, and every process of the first: the new reply at once
            for base in (other, two, two, two, two):
                assert f'id="floor-{floor}"' in fresh_get(base, page)
            # pushed across processes: the worker's announcement reaches a stream on either server
            for base in (other, two):
                snap = final_event(base, sid)
                assert snap["status"] == "scored" and snap["verdict"] == "accepted"
            # and the cached pages of both follow the verdict
            for base in (other, two, two, two):
                assert "已评测" in floor_li(fresh_get(base, page), floor)
            # a second reply, graded while nobody watches: still exact everywhere
            with httpx.Client(base_url=other, timeout=30) as client:
                again = client.post(f"/api/v1/courses/{slug}/assignments/1-1/submissions",
                                    data={"text": "作业1-1：再跑一次"}, headers=bearer).json()
            wait_for(lambda: final_event(two, again["id"])["status"] == "scored", timeout=90)
            for base in (two, two, two, other):
                assert "已评测" in floor_li(fresh_get(base, page), again["floor"])


def logged_in_cookies(base: str, name: str) -> httpx.Cookies:
    """A student's session, logged in through the form of one server (all share the secret)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        answer = client.post("/login", data={"name": name, "password": "correct horse", "csrf_token": token})
        assert answer.status_code == 303, answer.text
        return client.cookies


def test_a_logged_in_readers_shared_thread_stays_exact_across_processes(pg_stack: Stack, live: Live) -> None:
    """Other people's replies are shared between logged-in students per process
    (app/web/thread_cache.py): a reply posted through one server is on every process's next page."""
    with pg_stack.active():
        slug = make_course({"code": "1-1", "grading": {"kind": "reply_format"}})
        bearer = {"Authorization": f"Bearer {api_token(pg_stack, add_user(pg_stack))}"}
        reader = add_user(pg_stack)
        page = f"/courses/{slug}/assignments/1-1"
        with live(pg_stack, workers=2) as two, live(pg_stack) as other:
            cookies = logged_in_cookies(two, reader)

            def read(base: str) -> str:
                with httpx.Client(base_url=base, timeout=30, cookies=cookies) as one:
                    response = one.get(page)
                assert response.status_code == 200 and reader in response.text, response.text
                return response.text

            for base in (two, two, two, two, other, other):  # each process shares the empty thread
                assert 'id="floor-' not in read(base)
            with httpx.Client(base_url=other, timeout=30) as client:
                posted = client.post(f"/api/v1/courses/{slug}/assignments/1-1/submissions",
                                     data={"text": "作业1-1：另一台服务器"}, headers=bearer)
            assert posted.status_code == 201, posted.text
            for base in (two, two, two, two, other):
                assert "另一台服务器" in floor_li(read(base), posted.json()["floor"])
