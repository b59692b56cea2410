"""A newcomer's first reply, in a real browser: register, open 1-1, post, watch it get graded."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.kit import register


def test_reply_is_graded_without_reloading(page: Page, site: str) -> None:
    name = register(page, site)
    page.goto(f"{site}/courses/dl-bootcamp")
    page.click("text=跑通房价预测案例")
    expect(page.locator("h1")).to_contain_text("作业 1-1")
    page.fill("#text", "作业1-1：已跑通")
    page.click("text=发表回复")

    mine = page.locator("li.reply.mine").last
    expect(mine.locator(".author")).to_have_text(name)
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    expect(mine.locator("[data-role=status]")).to_have_text("已评测", timeout=60_000)
    expect(mine.locator(".message")).to_have_text("格式正确，已记录完成。")
    assert navigations == []  # the verdict arrived over the event stream, not by reloading


def test_wrong_format_says_why(page: Page, site: str) -> None:
    register(page, site)
    page.goto(f"{site}/courses/dl-bootcamp/assignments/1-1")
    page.fill("#text", "我已经跑通了")
    page.click("text=发表回复")
    mine = page.locator("li.reply.mine").last
    expect(mine.locator("[data-role=status]")).to_have_text("已评测", timeout=60_000)
    expect(mine.locator(".message")).to_contain_text("回复格式不对：请以“作业1-1：”开头")


def test_empty_reply_keeps_the_page_and_explains(page: Page, site: str) -> None:
    register(page, site)
    page.goto(f"{site}/courses/dl-bootcamp/assignments/8")
    page.evaluate("document.querySelector('#text').removeAttribute('required')")
    page.click("text=发表回复")
    expect(page.locator(".error")).to_have_text("回复是空的：请写下答案或附上文件")


def test_english_switch(page: Page, site: str) -> None:
    page.goto(f"{site}/courses/dl-bootcamp/assignments/7-1")
    page.click("text=English")
    expect(page.locator("h1")).to_contain_text("Homework 7-1")
    expect(page.locator("text=Log in to reply")).to_be_visible()
