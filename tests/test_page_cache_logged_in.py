"""The homework thread shared between logged-in students (app/web/thread_cache.py): nothing of
one student reaches another, it is exactly as fresh as the database, and a hit renders only the
viewer's own replies with fewer statements. On both stacks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from sqlalchemy import update

from tests.support.homework import Reply, add_replies, decorate_replies, make_course, make_users, own_queue
from tests.support.queries import statements
from tests.support.stacks import Stack
from tests.support.thread import student_client
from tests.support.web import csrf_in

SEALED = {"code": "7-1", "grading": {"kind": "reply_format", "answers": "sealed_until_deadline"}}
OPEN = {"code": "1", "grading": {"kind": "reply_format", "answers": "open"}}
ANSWER = "作业7-1：乘法867041280,加法867041280"


def _set_submission(submission_id: int, **values: object) -> None:
    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == submission_id).values(**values))


def _hits() -> int:
    from app.web.thread_cache import SHARED

    return SHARED.hits


T = TypeVar("T")


def _until_a_hit(fill: Callable[[], object], read: Callable[[], T]) -> T:
    """`read()`'s result when it was served from what `fill()` stored. A commit in between (a
    worker another test left running) makes it a miss: then both again."""
    for _ in range(5):
        fill()
        hits = _hits()
        result = read()
        if _hits() > hits:
            return result
    raise AssertionError("never served from the shared thread")


@contextmanager
def _rendered() -> Iterator[list[int]]:
    """The ids of the replies `_reply.html` renders inside the block (it asks `shown` first)."""
    from app.templating import environment

    seen: list[int] = []
    env = environment()
    original: Callable[..., Any] = env.globals["shown"]

    def counting(ctx: Any, submission: Any) -> Any:
        seen.append(submission.id)
        return original(ctx, submission)

    counting.jinja_pass_arg = original.jinja_pass_arg  # type: ignore[attr-defined]
    env.globals["shown"] = counting
    try:
        yield seen
    finally:
        env.globals["shown"] = original


def test_a_sealed_answer_never_reaches_another_student_through_the_cache(stack: Stack) -> None:
    slug = make_course(SEALED)
    (author, author_id), (reader, _) = student_client(stack), student_client(stack)
    [other] = make_users(1)
    mine, theirs = add_replies(slug, "7-1", [Reply(author_id), Reply(other)])
    _set_submission(mine, text=ANSWER)
    url = f"/courses/{slug}/assignments/7-1"

    own_pages: list[str] = []
    # the author's visit fills the shared thread, the reader is served from it
    page = _until_a_hit(lambda: own_pages.append(author.get(url).text), lambda: reader.get(url).text)
    own_page = own_pages[-1]
    assert ANSWER in own_page and f"/submissions/{mine}/edit" in own_page
    assert ANSWER not in page and "乘法" not in page
    assert f"/submissions/{mine}/edit" not in page and f"/submissions/{mine}/delete" not in page
    assert csrf_in(own_page) not in page
    assert set(re.findall(r'name="csrf_token" value="([^"]+)"', page)) == {csrf_in(page)}
    assert page.count('data-role="sealed"') == 2 and f'action="/submissions/{theirs}/like"' in page
    assert "\x1e" not in page and "\x1e" not in own_page
    assert author.get(url).text.count(ANSWER) == 1  # and the author still sees it
    author.close()
    reader.close()


def test_the_cached_page_is_the_page_rendered_for_this_viewer(stack: Stack,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from app.web import thread_cache

    slug = make_course(OPEN)
    own_queue(slug)  # the queued reply stays queued between the two renderings
    client, me = student_client(stack)
    authors = make_users(6)
    ids = add_replies(slug, "1", [Reply(a) for a in authors[:3]] + [Reply(me), Reply(authors[3], hidden=True)]
                      + [Reply(me, status="queued", score=None), Reply(authors[4])])
    decorate_replies(ids, [me, authors[5]])  # the viewer liked some replies, their own among them
    _set_submission(ids[1], featured=True)
    edit = client.get(f"/submissions/{ids[3]}/edit").text  # an edit history only its author sees
    assert client.post(f"/submissions/{ids[3]}/edit", follow_redirects=False,
                       data={"text": "作业1：第二版", "csrf_token": csrf_in(edit)}).status_code == 303
    url = f"/courses/{slug}/assignments/1"

    def page() -> str:
        return re.sub(r'name="idempotency_key" value="[^"]+"', "", client.get(url).text)

    cached = _until_a_hit(page, page)
    monkeypatch.setattr(thread_cache, "serves", lambda viewer, assignment: False)
    assert page() == cached
    assert 'class="like liked" aria-pressed="true"' in cached and 'aria-pressed="false"' in cached
    assert 'class="history"' in cached and "第二版" in cached
    client.close()


def test_the_shared_thread_follows_replies_edits_likes_and_reviews(stack: Stack) -> None:
    slug = make_course(OPEN)
    own_queue(slug)  # the queued reply stays queued: no worker of another test grades it
    (author, author_id), (reader, _) = student_client(stack), student_client(stack)
    [liker] = make_users(1)
    [first] = add_replies(slug, "1", [Reply(author_id, status="queued", score=None)])
    url = f"/courses/{slug}/assignments/1"
    reader.get(url)
    assert reader.get(url).text.count('<li class="reply') == 1

    add_replies(slug, "1", [Reply(liker)])
    assert 'id="floor-2"' in reader.get(url).text

    edit = author.get(f"/submissions/{first}/edit")
    posted = author.post(f"/submissions/{first}/edit", follow_redirects=False,
                         data={"text": "作业1：改过的答案", "csrf_token": csrf_in(edit.text)})
    assert posted.status_code == 303, posted.text
    assert "改过的答案" in reader.get(url).text

    decorate_replies([first], [liker])
    assert f'data-submission-id="{first}">' in reader.get(url).text
    assert re.search(rf'/submissions/{first}/like".*?data-role="likes">1<', reader.get(url).text, re.S)

    assert "status-queued" in reader.get(url).text
    _set_submission(first, featured=True, status="scored", verdict="accepted", score=1.0)
    page = reader.get(url).text
    assert "chip featured" in page and "status-scored" in page and "status-queued" not in page
    author.close()
    reader.close()


def test_a_hit_renders_only_the_viewers_own_replies_with_fewer_statements(stack: Stack) -> None:
    from app.web.thread_cache import SHARED

    slug = make_course(OPEN)
    client, me = student_client(stack)
    authors = make_users(20)
    authors[7] = me
    ids = add_replies(slug, "1", [Reply(a) for a in authors])
    decorate_replies(ids, make_users(2))
    url = f"/courses/{slug}/assignments/1"
    client.get(url)

    def miss() -> tuple[list[str], list[int]]:
        SHARED.clear()
        return fetch()

    def fetch() -> tuple[list[str], list[int]]:
        with statements() as sent, _rendered() as rendered:
            assert client.get(url).status_code == 200
        return sent, rendered

    on_miss: list[tuple[list[str], list[int]]] = []
    hit, rendered_on_hit = _until_a_hit(lambda: on_miss.append(miss()), fetch)
    missed, rendered_on_miss = on_miss[-1]
    assert set(rendered_on_miss) == set(ids)  # all of them for everyone, and their own for them
    assert set(rendered_on_hit) == {ids[7]}
    assert len(hit) < len(missed), (len(hit), len(missed))
    client.close()
