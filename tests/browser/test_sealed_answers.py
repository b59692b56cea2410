"""Copying answers in a real browser: another student opens the 7-1 thread (a lottery among
correct answers, sealed by default) while the author's answer is graded, and finds nothing to
copy on the page, in the live panel, through the API, or on the edit page."""

from __future__ import annotations

import json
import secrets

from playwright.sync_api import Browser, Page, expect

from tests.browser.kit import register

ANSWER = f"作业7-1：乘法867041280,加法867041280 {secrets.token_hex(3)}"


def test_a_sealed_answer_cannot_be_copied_from_the_page(page: Page, site: str, browser: Browser) -> None:
    register(page, site)
    page.goto(f"{site}/courses/dl-bootcamp/assignments/7-1")
    expect(page.locator("[data-role=sealed-rule]")).to_contain_text("答案在截止前")
    page.fill("#text", ANSWER)
    page.click("text=发表回复")
    mine = page.locator("li.reply.mine").last
    expect(mine.locator("[data-role=status]")).to_have_text("已评测", timeout=60_000)
    expect(mine.locator(".text")).to_contain_text("867041280")  # the author sees it all
    reply_id = mine.get_attribute("data-submission-id")
    floor = mine.get_attribute("id")

    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        copier = other.new_page()
        register(copier, site)
        copier.goto(f"{site}/courses/dl-bootcamp/assignments/7-1#{floor}")
        theirs = copier.locator(f"li#{floor}")
        expect(theirs.locator("[data-role=sealed]")).to_have_text("已封存")
        expect(theirs.locator("[data-role=sealed-note]")).to_contain_text("答案在截止前封存")
        assert ANSWER not in copier.content() and "867041280" not in theirs.inner_text()
        expect(theirs.locator(".message")).to_have_count(0)
        seen = copier.evaluate(f"fetch('/api/v1/submissions/{reply_id}').then(r => r.json())")
        assert seen["text"] == "" and seen["verdict"] is None and seen["score"] is None, seen
        stream = copier.evaluate(f"fetch('/submissions/{reply_id}/events').then(r => r.text())")
        event = json.loads(stream.split("data: ", 1)[1].split("\n", 1)[0])
        assert event["verdict"] is None and event["score"] is None and event["message"] == ""
        edit = copier.goto(f"{site}/submissions/{reply_id}/edit")
        assert edit is not None and edit.status == 403 and "867041280" not in copier.content()
    finally:
        other.close()
