"""Two students, two browsers (zh-CN, phone and laptop): what A posts appears on B's open
homework page without a reload; while B is typing it waits behind "N 条新回复", and B's draft
stays."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.kit import register
from tests.support.stacks import Stack


def post(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.click("text=发表回复")
    expect(page.locator("li.reply.mine").last).to_contain_text(text.split("：", 1)[1])


@pytest.mark.slow
@pytest.mark.parametrize("width", [375, 1280])
def test_others_replies_arrive_live(browser: Browser, site: str, sqlite_stack: Stack, width: int) -> None:
    from tests.support.homework import make_course

    with sqlite_stack.active():  # a thread of its own: one page, so new replies come on it
        homework = "/courses/" + make_course({"code": "8", "grading": {"kind": "reply_format"}}) + "/assignments/8"
    a_context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    b_context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    a, b = a_context.new_page(), b_context.new_page()
    try:
        register(a, site)
        register(b, site)
        a.goto(site + homework)
        b.goto(site + homework)
        reloads: list[str] = []
        b.on("framenavigated", lambda frame: reloads.append(frame.url) if frame == b.main_frame else None)
        button = b.locator("[data-role=new-replies]")
        expect(button).to_be_hidden()

        # B is typing: the new reply waits behind the button, the draft stays
        b.fill("#text", "作业8：我还在写")
        first = f"第一条-{secrets.token_hex(3)}"
        post(a, f"作业8：{first}")
        expect(button).to_have_text("1 条新回复", timeout=15_000)
        arrived = b.locator("li.reply", has_text=first)
        expect(arrived).to_be_hidden()
        button.click()
        expect(arrived).to_be_visible()
        expect(arrived).to_be_in_viewport()
        expect(button).to_be_hidden()
        expect(b.locator("#text")).to_have_value("作业8：我还在写")

        # B has read to the end of the thread and is not typing: the reply is simply added
        b.fill("#text", "")
        b.evaluate("document.activeElement.blur(); window.scrollTo(0, document.body.scrollHeight)")
        second = f"第二条-{secrets.token_hex(3)}"
        post(a, f"作业8：{second}")
        expect(b.locator("li.reply", has_text=second)).to_be_visible(timeout=15_000)
        expect(button).to_be_hidden()
        assert reloads == []  # no navigation on B's page at all
        assert b.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        a_context.close()
        b_context.close()


@pytest.mark.slow
@pytest.mark.parametrize("width", [375, 1280])
def test_course_posts_arrive_live(browser: Browser, site: str, sqlite_stack: Stack, width: int) -> None:
    from tests.support.homework import make_course

    with sqlite_stack.active():
        course = "/courses/" + make_course({"code": "8", "grading": {"kind": "reply_format"}})
    a_context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    b_context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    a, b = a_context.new_page(), b_context.new_page()
    try:
        register(a, site)
        register(b, site)
        b.goto(site + course)
        a.goto(site + course)
        hello = f"大家好-{secrets.token_hex(3)}"
        a.fill("#thread-text", hello)
        a.click("button[value=post]")
        expect(a.locator("li.post").first).to_contain_text(hello)
        arrived = b.locator("ol.posts > li.post").first
        expect(arrived).to_contain_text(hello, timeout=15_000)
        expect(arrived).to_be_visible()
        expect(b.locator("[data-role=new-posts]")).to_be_hidden()
        assert b.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        a_context.close()
        b_context.close()


@pytest.mark.slow
def test_on_an_earlier_page_the_button_leads_to_the_new_reply(browser: Browser, site: str,
                                                              sqlite_stack: Stack) -> None:
    from app import paging
    from tests.support.homework import Reply, add_replies, make_course, make_users

    with sqlite_stack.active():  # one full page and one more floor: page 1 is not the last
        slug = make_course({"code": "8", "grading": {"kind": "reply_format", "answers": "open"}})
        [author] = make_users(1)
        add_replies(slug, "8", [Reply(author) for _ in range(paging.THREAD_PAGE + 1)])
    homework = f"/courses/{slug}/assignments/8"
    new = f"#floor-{paging.THREAD_PAGE + 2}"
    a_context = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    b_context = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    a, b = a_context.new_page(), b_context.new_page()
    try:
        register(a, site)
        register(b, site)
        b.goto(f"{site}{homework}?page=1")
        a.goto(site + homework)
        post(a, "作业8：翻到第二页的新回复")
        button = b.locator("[data-role=new-replies]")
        expect(button).to_have_text("1 条新回复", timeout=15_000)
        expect(b.locator(new)).to_have_count(0)  # not added to a page it does not belong on
        button.click()
        expect(b).to_have_url(f"{site}{homework}?page=2{new}")
        expect(b.locator(new)).to_contain_text("翻到第二页的新回复")
    finally:
        a_context.close()
        b_context.close()
