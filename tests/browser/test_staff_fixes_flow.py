"""The staff pages as an instructor uses them, in zh-CN at phone and laptop widths: "详情" opens a
page (not JSON), the automatic and the review score are named apart, saving a review is confirmed,
and the student finds the review in "my submissions"."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.kit import log_in, make_account, post_reply
from tests.support.live import SCREENSHOTS
from tests.support.stacks import Stack


@pytest.mark.parametrize("width", [375, 1280])
def test_details_review_and_my_submissions(browser: Browser, site: str, sqlite_stack: Stack, width: int) -> None:
    student = make_account(sqlite_stack, "student")
    instructor = make_account(sqlite_stack, "instructor")
    sid = post_reply(sqlite_stack, site, student, "8", "作业8：ReLU 在深层网络里收敛更快")
    staff = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    try:
        page = staff.new_page()
        log_in(page, site, instructor)
        page.goto(f"{site}/staff/courses/dl-bootcamp/assignments/8?name={student}")
        row = page.locator(f"tr[data-submission-id='{sid}']")
        expect(page.locator("table[data-role=submissions] thead")).to_contain_text("自动评分（0–1）")
        expect(page.locator("table[data-role=submissions] thead")).to_contain_text("人工评分（0–100）")
        row.locator("text=详情").click()
        expect(page).to_have_url(f"{site}/staff/submissions/{sid}")
        expect(page.locator("h1")).to_contain_text(student)
        expect(page.locator("[data-role=submission-facts]")).to_contain_text("自动评分（0–1）")

        page.goto(f"{site}/courses/dl-bootcamp/assignments/8/reviews?state=all&author={student}")
        form = page.locator(f"#review-{sid} form.review-form")
        form.locator("input[name=score]").fill("92")
        form.locator("textarea[name=comment]").fill("论证清楚")
        form.locator("button[type=submit]").click()
        saved = page.locator("[data-role=review-saved]")
        expect(saved).to_contain_text("已保存")
        expect(saved).to_contain_text("92")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"review_saved_{width}.png"))
    finally:
        staff.close()

    own = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    try:
        page = own.new_page()
        log_in(page, site, student)
        page.goto(f"{site}/me/submissions")
        review = page.locator(f"tr[data-submission-id='{sid}'] [data-role=review]")
        expect(review).to_contain_text("92")
        expect(review).to_contain_text("论证清楚")
    finally:
        own.close()
