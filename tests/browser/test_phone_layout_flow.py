"""The pages that did not fit a phone, measured in zh-CN at 375 px (and 1280 px): the staff course
table's header, the audit log's height, the score in "my submissions", deadlines that wrapped in
the middle of a date, the name column of a draw's winners, search results; and no page wider
than the screen."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.kit import log_in, make_account, post_reply
from tests.support.stacks import Stack

#: a date in a page: yyyy-MM-dd, as the site writes times
DATE_SPLIT = """(selector) => {
  const split = [];
  for (const el of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/\\d{4}-\\d{2}-\\d{2}( \\d{2}:\\d{2})?/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (tops.size > 1) split.push(m[0] + ' in ' + node.parentElement.outerHTML.slice(0, 200));
      }
    }
  }
  return split;
}"""


@dataclass
class World:
    slug: str
    admin: str
    instructor: str
    student: str
    draw_id: int
    winner: str


@pytest.fixture(scope="module")
def world(sqlite_stack: Stack, site: str) -> Iterator[World]:
    from tests.support.homework import Reply, add_replies, backdate_draw, make_course, make_users, now

    admin, instructor = make_account(sqlite_stack, "admin"), make_account(sqlite_stack, "instructor")
    student = make_account(sqlite_stack, "student")
    for i in range(3):  # graded replies of their own, in the demo course
        post_reply(sqlite_stack, site, student, "8", f"作业8：第 {i} 次回答，ReLU 收敛更快")
    with sqlite_stack.active():
        slug = make_course({"code": "1-1", "grading": {"kind": "reply_format"},
                            "rewards": [{"kind": "fixed_ranks", "ranks": "1-3", "prize": "飞桨定制本"}]},
                           opens=now() - timedelta(days=9), due=now() + timedelta(days=1))
        names = [f"长名字的同学{secrets.token_hex(2)}" for _ in range(3)]
        ids = make_users(3)
        _rename(ids, names)
        add_replies(slug, "1-1", [Reply(uid, at=now() - timedelta(days=2, minutes=-i)) for i, uid in enumerate(ids)])
        for i in range(20):  # audit entries with long data, as real ones have
            _audit(f"phone.check.{i}", {"detail": "长" * 120, "n": i})
    token = sqlite_stack.camp("token", "create", admin).stdout.strip()
    auth = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=site, headers=auth, timeout=30) as api:
        created = api.post(f"/api/v1/courses/{slug}/assignments/1-1/draws", json={"rule_index": 0})
        assert created.status_code == 201, created.text
        draw_id = created.json()["draw_id"]
        with sqlite_stack.active():
            backdate_draw(draw_id)
        assert api.post(f"/api/v1/draws/{draw_id}/freeze").status_code == 200
        assert api.post(f"/api/v1/draws/{draw_id}/reveal", json={}).status_code == 200
    yield World(slug, admin, instructor, student, draw_id, names[0])


def _rename(ids: list[int], names: list[str]) -> None:
    from sqlalchemy import update

    from app.db import session_scope
    from app.models import User

    with session_scope() as session:
        for uid, name in zip(ids, names, strict=True):
            session.execute(update(User).where(User.id == uid).values(name=name))


def _audit(action: str, data: dict[str, object]) -> None:
    from app.db import session_scope
    from app.services.audit import record

    with session_scope() as session:
        record(session, None, action, "phone:check", data)


def fits(page: Page, width: int) -> None:
    """Nothing wider than the screen: the page never scrolls sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def dates_whole(page: Page, selector: str) -> None:
    assert page.evaluate(DATE_SPLIT, selector) == [], page.url


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


@pytest.mark.slow
@pytest.mark.parametrize("width", [375, 1280])
def test_pages_fit_a_phone(browser: Browser, site: str, world: World, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 812}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, site, world.instructor)
        page.goto(f"{site}/staff/courses/dl-bootcamp")  # ~170 px of blank header before
        assert box(page, "table.staff-table thead")["height"] <= 64
        fits(page, width)
        dates_whole(page, "table.staff-table")

        page.goto(f"{site}/courses/dl-bootcamp")  # the homework list and its deadlines
        dates_whole(page, "main")
        fits(page, width)
        page.goto(f"{site}/courses/dl-bootcamp/assignments/8")
        dates_whole(page, "main")
        fits(page, width)

        page.goto(f"{site}/courses/dl-bootcamp/search?q=ReLU")
        expect(page.locator("[data-role=search-results] mark").first).to_have_text("ReLU")
        fits(page, width)
        context.clear_cookies()

        log_in(page, site, world.student)
        page.goto(f"{site}/me/submissions")  # the score started off-screen
        score = box(page, "td[data-role=score]")
        assert 0 <= score["x"] and score["x"] + score["width"] <= width
        expect(page.locator("td[data-role=score]").first).to_be_in_viewport()
        dates_whole(page, "main")
        fits(page, width)
        context.clear_cookies()

        log_in(page, site, world.admin)
        page.goto(f"{site}/admin/audit")  # 18 entries made a 26,600 px page
        rows = page.locator("table.audit tbody tr").count()
        assert rows >= 18
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= 250 * rows, (rows, height)
        fits(page, width)

        page.goto(f"{site}/draws/{world.draw_id}")  # the winners' names were dropped
        name = page.locator("section.winners td", has_text=world.winner)
        expect(name).to_be_visible()
        expect(name).to_be_in_viewport()
        header = page.locator("section.winners th", has_text="姓名")
        expect(header).to_be_visible()
        fits(page, width)
    finally:
        context.close()
