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
from tests.support.thread import log_in, student_client, user_id
from tests.support.web import add_user, csrf_in, make_client, shared_app

OPEN = {"code": "1", "grading": {"kind": "reply_format", "answers": "open"}}


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
    """`?page=N` for N = 2, 3, ... with one request each filled the 256 shared places (and the
    anonymous visitors' 256) with empty pages and pushed every real page out: every reader's
    next page was a full render. The empty page also said "no replies yet"."""
    from app.web.page_cache import PAGES
    from app.web.thread_cache import SHARED

    slug = make_course(OPEN)
    client, anonymous = student_client(stack)[0], make_client()
    add_replies(slug, "1", [Reply(a) for a in make_users(3)])
    url = f"/courses/{slug}/assignments/1"
    assert client.get(url).status_code == 200 and anonymous.get(url).status_code == 200
    stored = len(SHARED._entries), len(PAGES._entries)
    for page in (2, 3, 1000, 99_999, 2**31 - 1):
        assert client.get(url, params={"page": page}).status_code == 404
        assert anonymous.get(url, params={"page": page}).status_code == 404
    assert (len(SHARED._entries), len(PAGES._entries)) == stored
    client.close()
    anonymous.close()


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
    (attacker, attacker_id), (reader, _) = student_client(stack), student_client(stack)
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
        token = csrf_in(page)
        assert page.count(token) == page.count(f'name="csrf_token" value="{token}"')
        text = page[page.index("FORGED"):page.index("END")]
        assert " liked" not in text and token not in text
    # and the page is still shared (a forged slot does not make it uncacheable)
    assert any(mine in {r.id for r in entry.value.replies} for entry in thread_cache.SHARED._entries.values())
    attacker.close()
    reader.close()


SPLIT = {"public_score": 0.5, "private_score": 0.25}


def _hits() -> int:
    from app.web.thread_cache import SHARED

    return SHARED.hits


def _logged_in(name: str) -> TestClient:
    client = make_client()
    log_in(client, name)
    return client


def _set_instructors(slug: str, names: list[str]) -> None:
    from app.db import session_scope
    from app.services.courses import get_course, set_instructors

    with session_scope() as session:
        set_instructors(session, get_course(session, slug), names)


def _others_private_parts(slug: str) -> tuple[int, int]:
    """A reply with a private split, a staff log, a review and an edit history; a staff-hidden
    reply. Their authors are other people."""
    from sqlalchemy import update

    from app.db import session_scope
    from app.models import Submission, SubmissionEdit, utcnow

    a, b = make_users(2)
    split, hidden = add_replies(slug, "1", [Reply(a, score=0.25, detail=SPLIT), Reply(b, hidden=True)])
    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == split).values(
            staff_log="STAFF-LOG", reviewed_at=utcnow(), review_score=88.5, review_comment="REVIEW-NOTE"))
        session.execute(update(Submission).where(Submission.id == hidden).values(
            hidden_by="staff", text="作业1：HIDDEN-TEXT"))
        session.add(SubmissionEdit(submission_id=split, editor_id=a, text="作业1：OLD-VERSION"))
    return split, hidden


STAFF_ONLY = ("HIDDEN-TEXT", "STAFF-LOG", "REVIEW-NOTE", "OLD-VERSION", "/hide", "/reviews", "88.5")


def test_instructors_of_other_courses_share_the_students_page_and_its_staff_do_not(stack: Stack) -> None:
    """An instructor a course does not name reads it as a student, from the shared page; one it
    names (also one named while the page is held, or one taken off the list) never gets the
    student's page, nor a student the staff's."""
    owner, outsider = add_user(stack, "instructor"), add_user(stack, "instructor")
    slug = make_course(OPEN)
    _set_instructors(slug, [owner])
    _others_private_parts(slug)
    url = f"/courses/{slug}/assignments/1"
    student, _ = student_client(stack)
    teacher, stranger = _logged_in(owner), _logged_in(outsider)

    for _ in range(5):  # a commit from elsewhere in between makes a miss: try again
        student.get(url)
        hits = _hits()
        page = stranger.get(url).text
        if _hits() > hits:
            break
    assert _hits() > hits, "the outsider was never served the shared page"
    for secret in STAFF_ONLY:
        assert secret not in page, secret
    assert "0.25" not in page and "0.5" in page  # the public value only, before the deadline

    hits = _hits()
    own = teacher.get(url).text
    assert _hits() == hits  # the course's staff get a page of their own
    for secret in STAFF_ONLY:
        assert secret in own, secret

    # the outsider becomes staff of this course while the student's page is held, the owner stops
    student.get(url)
    _set_instructors(slug, [outsider])
    student.get(url)
    assert "HIDDEN-TEXT" in stranger.get(url).text
    page = teacher.get(url).text
    for secret in STAFF_ONLY:
        assert secret not in page, secret
    for client in (student, teacher, stranger):
        client.close()


SEALED = {"code": "7-1", "grading": {"kind": "reply_format", "answers": "sealed_until_deadline"}}
ANSWER = "作业7-1：乘法867041280,加法867041280"


def test_sealed_answers_open_at_the_deadline_not_before_and_not_after(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared page of a sealed homework, held just before the deadline, and read again just
    after it with no commit in between: the answers show then, not a second earlier."""
    from datetime import timedelta

    from app import models
    from app.services import page_cache, visibility
    from app.web import pages, thread, thread_cache
    from tests.support.homework import now

    offset = [timedelta(0)]

    def clock() -> Any:
        return models.utcnow() + offset[0]

    for module in (page_cache, visibility, pages, thread, thread_cache):
        monkeypatch.setattr(module, "utcnow", clock)
    due = now() + timedelta(hours=1)
    slug = make_course(SEALED, due=due)
    [other] = make_users(1)
    [answer] = add_replies(slug, "7-1", [Reply(other)])
    _set_text(answer, ANSWER)
    reader, _ = student_client(stack)
    url = f"/courses/{slug}/assignments/7-1"

    offset[0] = due - models.utcnow() - timedelta(seconds=2)
    for _ in range(3):
        page = reader.get(url).text
        assert "867041280" not in page and 'data-role="sealed"' in page
    offset[0] = due - models.utcnow() + timedelta(seconds=1)
    page = reader.get(url).text
    assert "867041280" in page and 'data-role="sealed"' not in page
    reader.close()


def _rename(user_id_: int, name: str) -> None:
    from sqlalchemy import update

    from app.db import session_scope
    from app.models import User

    with session_scope() as session:
        session.execute(update(User).where(User.id == user_id_).values(name=name))


def test_what_one_student_asks_for_never_reaches_anothers_page(stack: Stack) -> None:
    """Query parameters (`lang`, `quote`, `posted`, `page`), a junk language cookie, HEAD, and
    markup in names: the shared page takes none of them from the request that stored it, and
    the per-viewer fill escapes what it puts in."""
    from app.web.thread_cache import SHARED

    slug = make_course(OPEN)
    (attacker, attacker_id), (victim, _) = student_client(stack), student_client(stack)
    [other] = make_users(1)
    first, second = add_replies(slug, "1", [Reply(other), Reply(attacker_id)])
    _set_text(first, "作业1：QUOTED-TEXT")
    _rename(other, "<img src=x onerror=alert(1)>")
    _rename(attacker_id, '"><svg onload=alert(2)>')
    url = f"/courses/{slug}/assignments/1"

    attacker.cookies.set("camp_lang", "xx<script>")
    assert attacker.head(url).status_code < 500  # 405: pages answer GET only
    for params in ({"lang": "en"}, {"lang": "de"}, {"quote": 1, "posted": f"{first},{second}"},
                   {"lang": "en", "quote": 1, "page": 1}):
        assert attacker.get(url, params=params).status_code == 200
    assert attacker.get(url, params={"quote": 1}).text.count("QUOTED-TEXT") == 2  # the thread, the box

    page = victim.get(url).text
    assert '<html lang="zh-CN">' in page
    assert page.count("QUOTED-TEXT") == 1  # in the thread, not in the victim's reply box
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<svg" not in page and "&lt;svg onload=alert(2)&gt;" in page
    assert f'/submissions/{second}/like"' in page  # the attacker's reply is someone else's here
    assert '<div class="notice" role="status">' not in page  # no "your reply was posted"
    assert {key[3] for key in SHARED._entries} <= {"zh_CN", "en"}
    attacker.close()
    victim.close()


def test_a_stream_stops_reading_as_its_user_once_their_cookie_is_over(
        client: TestClient, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Log out (or change the password, or be disabled) while a reply stream is open: every
    cookie issued before stops working, but the open stream went on rendering new replies as
    that user, their own sealed answers with text and all, for up to five minutes."""
    from datetime import timedelta

    from sqlalchemy import update

    from app.db import session_scope
    from app.models import User
    from tests.support.feed import first_event, listening, post, reading, settings
    from tests.support.homework import now, own_queue

    settings(monkeypatch, live_fallback_seconds="60")
    slug = make_course({"code": "7-1", "grading": {"kind": "conv_opcount"}}, due=now() + timedelta(days=1))
    own_queue(slug)
    name = add_user(stack)
    me = user_id(name)
    log_in(client, name)

    def logged_out_elsewhere_then_replied() -> None:
        with session_scope() as session:
            session.execute(update(User).where(User.id == me).values(session_version=User.session_version + 1))
        post(slug, me, ANSWER, "7-1")

    reading(monkeypatch, "new_replies", logged_out_elsewhere_then_replied)
    listening(client)
    got = first_event(client, f"/courses/{slug}/assignments/7-1/replies/events?after=0")
    assert got["keys"] == [1]
    assert "867041280" not in got["html"][0] and 'data-role="sealed"' in got["html"][0]


def test_a_grading_stream_stops_reading_as_its_user_once_their_cookie_is_over(
        client: TestClient, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same for a submission's own stream: the verdict, score and log of a sealed answer
    went on reaching a browser whose cookie had ended."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from app.db import session_scope
    from app.live import announce
    from app.models import Submission, User
    from app.web import events
    from tests.support.feed import listening, post, settings
    from tests.support.homework import now, own_queue

    settings(monkeypatch, live_fallback_seconds="60")
    slug = make_course({"code": "7-1", "grading": {"kind": "conv_opcount"}}, due=now() + timedelta(days=1))
    own_queue(slug)  # it stays queued: nobody grades it but this test
    name = add_user(stack)
    me = user_id(name)
    log_in(client, name)
    post(slug, me, ANSWER, "7-1")
    with session_scope() as session:
        [mine] = session.scalars(select(Submission.id).where(Submission.author_id == me))

    real = events._read
    calls: list[int] = []

    def read(*args: Any) -> Any:
        snap = real(*args)
        calls.append(1)
        if len(calls) == 1:  # logged out elsewhere, then graded
            with session_scope() as session:
                session.execute(update(User).where(User.id == me)
                                .values(session_version=User.session_version + 1))
                session.execute(update(Submission).where(Submission.id == mine).values(
                    status="scored", verdict="accepted", score=1.0, log="SECRET-LOG"))
            announce([mine])
        return snap

    monkeypatch.setattr(events, "_read", read)
    listening(client)
    snaps = []
    with client.stream("GET", f"/submissions/{mine}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                snaps.append(line)
                if '"final": true' in line:
                    break
    assert len(snaps) == 2
    assert "accepted" not in snaps[-1] and "SECRET-LOG" not in snaps[-1] and '"score": null' in snaps[-1]



def test_a_student_behind_the_campus_address_cannot_take_everyones_live_streams(
        embedded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every homework page opens a reply stream, and the cap counted per address: one student
    behind a campus NAT holding six streams (six tabs, or a script) left the rest of the campus
    with none. Logged-in readers count per account (as searches do); anonymous ones per address."""
    from app.config import get_settings
    from app.web import events, thread_events

    async def viewer_of(request: Request) -> int | None:
        return request.session.get("user_id")

    monkeypatch.setattr(events, "stream_viewer", viewer_of)
    campus, cap = "192.0.2.77", get_settings().streams_per_client

    def poll(after: int, reader: Any, base: dict[str, Any]) -> None:
        return None

    async def open_as(user: int | None) -> int:
        request = _stream_request(campus)
        request.scope["session"]["user_id"] = user
        answer = await thread_events._open(request, poll, "h:999999", 0)
        kept.append(answer)
        return answer.status_code

    kept: list[Any] = []

    async def scenario() -> None:
        assert [await open_as(1001) for _ in range(cap)] == [200] * cap
        assert await open_as(1001) == 429  # the hostile student's own places are used up
        assert await open_as(1002) == 200  # a classmate on the same address still gets one
        grading = await events.submission_events(999999, _with_user(campus, 1003))
        kept.append(grading)
        assert grading.status_code == 200  # the grading streams count the same way
        assert [await open_as(None) for _ in range(cap)] == [200] * cap
        assert await open_as(None) == 429  # anonymous readers share the address's places

    asyncio.run(scenario())


def _with_user(address: str, user: int) -> Request:
    request = _stream_request(address)
    request.scope["session"]["user_id"] = user
    return request


def test_a_flood_of_announcements_costs_each_waiting_stream_one_read(
        embedded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """A thousand replies announced at once on a homework that five pages watch: each stream
    reads once more (wake-ups that arrive before it reads are one), not a thousand times."""
    from app.live import FEED
    from app.web import thread_events
    from tests.support.feed import settings

    settings(monkeypatch, live_fallback_seconds="60")
    reads: list[int] = []

    def poll(after: int, reader: Any, base: dict[str, Any]) -> thread_events.Pushed:
        reads.append(after)
        return thread_events.Pushed(after, [], [])

    async def until(done: Any) -> None:
        for _ in range(3000):
            if done():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("never")

    async def scenario() -> int:
        disconnected = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def follow() -> None:
            request = Request(_stream_request("192.0.2.9").scope, receive)
            async for _ in thread_events._stream(request, poll, "h:424242", 0, None, {}):
                pass

        tasks = [asyncio.ensure_future(follow()) for _ in range(5)]
        await until(lambda: FEED.listening.is_set() and len(reads) >= 5)
        await asyncio.sleep(0.2)  # the listener's first wake-up of every stream, read
        before = len(reads)
        for _ in range(1000):
            FEED.wake("h:424242")
        await until(lambda: len(reads) >= before + 5)
        await asyncio.sleep(0.2)
        extra = len(reads) - before
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        FEED.stop()
        return extra

    extra = asyncio.run(scenario())
    assert 5 <= extra <= 10, extra  # a commit elsewhere may wake each once more, never 1,000


def test_an_outside_instructors_shared_page_is_the_page_rendered_for_them(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Byte for byte (less the form's one-time key): what the shared page gives an instructor a
    course does not name is what rendering the page for them gives, nothing more or less."""
    from app.web import thread_cache
    from tests.support.homework import decorate_replies

    owner, outsider = add_user(stack, "instructor"), add_user(stack, "instructor")
    slug = make_course(OPEN)
    _set_instructors(slug, [owner])
    ids = _others_private_parts(slug)
    decorate_replies(list(ids), [user_id(outsider)])
    stranger = _logged_in(outsider)
    url = f"/courses/{slug}/assignments/1"

    def page() -> str:
        return re.sub(r'name="idempotency_key" value="[^"]+"', "", stranger.get(url).text)

    for _ in range(5):
        page()
        hits = _hits()
        shared = page()
        if _hits() > hits:
            break
    assert _hits() > hits
    monkeypatch.setattr(thread_cache, "serves", lambda viewer, assignment: False)
    assert page() == shared
    stranger.close()
