"""Notifications as a student meets them, in zh-CN at phone and laptop widths: the unread badge in
the header after a reply is graded and a draw is won, the inbox, the claim form reached from the
'won' item, and marking everything read."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.kit import log_in, make_account, post_reply
from tests.support.homework import Reply, add_replies, make_course, replies_2023
from tests.support.live import SCREENSHOTS
from tests.support.notify import items_of, run_lottery
from tests.support.stacks import Stack
from tests.support.thread import user_id


def win_a_draw(stack: Stack, name: str) -> int:
    with nullcontext() if stack.is_active() else stack.active():
        slug = make_course({"code": "1", "grading": {"kind": "reply_format"},
                            "rewards": [{"kind": "lottery", "k": 3}]})
        add_replies(slug, "1", replies_2023([Reply(user_id(name))]))
        return run_lottery(stack, slug, "1")


def kinds_of(stack: Stack, name: str) -> list[str]:
    with nullcontext() if stack.is_active() else stack.active():
        return [i.kind for i in items_of(user_id(name))]


@pytest.mark.slow
@pytest.mark.parametrize("width", [375, 1280])
def test_badge_inbox_and_claim_form(browser: Browser, site: str, sqlite_stack: Stack, width: int) -> None:
    student = make_account(sqlite_stack, "student")
    post_reply(sqlite_stack, site, student, "1-1", "作业1-1：已跑通")  # graded by the site's worker
    draw_id = win_a_draw(sqlite_stack, student)
    assert sorted(kinds_of(sqlite_stack, student)) == ["graded", "won"]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page = context.new_page()
        log_in(page, site, student)
        badge = page.locator("header [data-role=unread-badge]")
        expect(badge).to_have_text("2")
        page.locator("header [data-role=inbox-link]").click()
        expect(page).to_have_url(f"{site}/inbox")
        items = page.locator("[data-role=inbox-item]")
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_contain_text("中获奖，请填写收货信息")
        expect(items.nth(1)).to_contain_text("已评测：通过")
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing off-screen
        page.screenshot(path=str(SCREENSHOTS / f"inbox-{width}.png"), full_page=True)

        items.nth(0).locator("button.open").click()
        expect(page).to_have_url(f"{site}/prizes/{draw_id}/claim")
        expect(page.locator("h1")).to_have_text("领取奖品")
        expect(badge).to_have_text("1")  # the won item was read by opening it
        page.fill("#full_name", "张三")
        page.fill("#address", "北京市海淀区中关村大街 1 号")
        page.fill("#phone", "abc")
        page.click("[data-role=claim-form] button[type=submit]")
        expect(page.locator("[data-role=claim-form] .error")).to_contain_text("电话号码只能包含数字")
        expect(page.locator("#address")).to_have_value("北京市海淀区中关村大街 1 号")  # nothing lost
        page.fill("#phone", "+86 138 0000 0000")
        page.click("[data-role=claim-form] button[type=submit]")
        expect(page.locator("[data-role=claim-saved]")).to_contain_text("收货信息已保存")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SCREENSHOTS / f"claim-{width}.png"), full_page=True)

        page.goto(f"{site}/inbox")
        page.locator("[data-role=read-all]").click()
        expect(page.locator("header [data-role=unread-badge]")).to_have_count(0)
        expect(page.locator("[data-role=inbox-item].unread")).to_have_count(0)
    finally:
        context.close()

    admin = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    try:
        page = admin.new_page()
        log_in(page, site, make_account(sqlite_stack, "admin"))
        page.goto(f"{site}/admin")
        page.locator("a[href='/admin/claims']").click()
        row = page.locator("[data-role=claim-row]", has_text=student)
        expect(row).to_contain_text("北京市海淀区中关村大街 1 号")
        expect(row).to_contain_text("+86 138 0000 0000")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SCREENSHOTS / f"admin-claims-{width}.png"), full_page=True)
    finally:
        admin.close()
