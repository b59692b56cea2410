"""The course page's homework list: a chip for where each homework stands in time, and the
viewer's own chips (done: an accepted reply; won: a winner of a revealed draw)."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.support.homework import (
    Reply,
    add_replies,
    make_course,
    now,
    replies_2023,
)
from tests.support.notify import run_lottery
from tests.support.queries import statements
from tests.support.stacks import Stack
from tests.support.thread import log_in, user_id
from tests.support.web import add_user


def chips_of(html: str) -> dict[str, list[str]]:
    """Homework code -> its chips' keys, as the course page lists them."""
    found: dict[str, list[str]] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        code = re.search(r'/assignments/([^"]+)"', row)
        if code:
            found[code.group(1)] = re.findall(r'data-chip="([a-z_]+)"', row)
    return found


def test_time_and_viewer_chips(client: TestClient, stack: Stack) -> None:
    t = now()
    rule = {"kind": "lottery", "k": 3}
    slug = make_course(
        {"code": "1", "opens": t - timedelta(days=1), "due": t + timedelta(days=5),
         "grading": {"kind": "reply_format"}, "rewards": [rule]},
        {"code": "2", "opens": t - timedelta(days=1), "due": t + timedelta(hours=3),
         "grading": {"kind": "reply_format"}},
        {"code": "3", "opens": t - timedelta(days=3), "due": t - timedelta(hours=1),
         "grading": {"kind": "reply_format"}},
        {"code": "4", "opens": t - timedelta(days=3), "due": t - timedelta(hours=1),
         "grading": {"kind": "reply_format"}, "late_policy": "refuse"},
        {"code": "5", "opens": t + timedelta(days=1), "due": t + timedelta(days=5),
         "grading": {"kind": "reply_format"}},
    )
    me = add_user(stack)
    other = add_user(stack)
    add_replies(slug, "1", replies_2023([Reply(user_id(me))]))
    add_replies(slug, "2", [Reply(user_id(me), verdict="format_error", score=0.0)])  # not done
    add_replies(slug, "3", [Reply(user_id(other))])  # someone else's
    run_lottery(stack, slug, "1")

    anonymous = chips_of(client.get(f"/courses/{slug}").text)
    assert anonymous == {"1": ["open"], "2": ["due_soon"], "3": ["late"], "4": ["closed"], "5": ["upcoming"]}

    log_in(client, me)
    page = client.get(f"/courses/{slug}")
    assert chips_of(page.text) == {"1": ["open", "done", "won"], "2": ["due_soon"], "3": ["late"],
                                   "4": ["closed"], "5": ["upcoming"]}
    assert "已获奖" in page.text and "已完成" in page.text and "即将截止" in page.text

    log_in(client, other)
    assert chips_of(client.get(f"/courses/{slug}").text)["3"] == ["late", "done"]
    assert chips_of(client.get(f"/courses/{slug}").text)["1"] == ["open"]


def test_chips_take_a_fixed_number_of_queries(client: TestClient, stack: Stack) -> None:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Course, User
    from app.services.homework_chips import chips_for

    t = now()
    many = [{"code": str(i), "opens": t - timedelta(days=1), "due": t + timedelta(days=2),
             "grading": {"kind": "reply_format"}} for i in range(1, 13)]
    slug = make_course(*many)
    me = add_user(stack)
    with session_scope() as session:
        course = session.scalar(select(Course).where(Course.slug == slug))
        viewer = session.scalar(select(User).where(User.name == me))
        assert course is not None and viewer is not None
        assignments = list(course.assignments)
        with statements() as sent:
            chips = chips_for(session, assignments, viewer, t)
    assert len(chips) == 12 and all(c.all == ["open"] for c in chips.values())
    assert len(sent) == 2, sent
