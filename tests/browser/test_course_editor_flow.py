"""The course editor as an admin uses it, in zh-CN at phone and laptop widths: the grading-kind
typo is refused with its field named (nothing typed is lost), the homework text is previewed
without submitting the form, a 5-winner lottery is added, the diff is shown before saving and
the save is confirmed."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.kit import log_in, make_account
from tests.support.live import SCREENSHOTS
from tests.support.stacks import Stack

COURSE = """slug: {slug}
title: 编辑器测试课程
timezone: Asia/Shanghai
assignments:
  - code: "1-1"
    title: 跑通房价预测案例
    body: 完成后回复本帖：作业1-1：已跑通
    reply_format: 作业1-1：XXX
    opens: -7d
    due: +14d@12:00
    rewards:
      - {{kind: fixed_ranks, ranks: "1-3", text: 前3名}}
"""


def _course(stack: Stack, tmp_path: Path) -> str:
    slug = f"ed-{secrets.token_hex(3)}"
    path = tmp_path / "course.yaml"
    path.write_text(COURSE.format(slug=slug), encoding="utf-8")
    result = stack.camp("course", "load", str(path))
    assert result.returncode == 0, result.stderr
    return slug


def _fits(page: Page, width: int) -> None:
    """Nothing makes the page scroll sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [375, 1280])
def test_edit_refuse_typo_preview_diff_save(browser: Browser, site: str, sqlite_stack: Stack, tmp_path: Path,
                                            width: int) -> None:
    slug = _course(sqlite_stack, tmp_path)
    admin = make_account(sqlite_stack, "admin")
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    try:
        page = context.new_page()
        log_in(page, site, admin)
        page.goto(f"{site}/staff/courses/{slug}")
        page.click("a[data-role=edit-course]")
        expect(page.locator("h1")).to_contain_text("编辑课程")
        page.click(f"a[href='/staff/courses/{slug}/edit/homework/1-1']")
        expect(page.locator("h1")).to_contain_text("编辑作业 1-1")
        _fits(page, width)

        # the typo of the report: refused, the field named, what was typed kept
        page.fill("#f-kind", "reply_fromat")
        page.fill("#f-title", "跑通房价预测案例（新版）")
        page.click("button[data-role=review]")
        problems = page.locator("[data-role=editor-problems]")
        expect(problems).to_contain_text("assignments[0] (1-1).grading.kind")
        expect(problems).to_contain_text("未知的评分类型 reply_fromat（是不是 reply_format？）")
        expect(page.locator("[data-error-for=grading_kind]")).to_be_visible()
        expect(page.locator("#f-kind")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#f-title")).to_have_value("跑通房价预测案例（新版）")
        _fits(page, width)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"course_editor_refused_{width}.png"))

        # the preview is rendered by the server; the form is not submitted
        page.fill("#f-kind", "reply_format")
        page.fill("#f-body", "完成后回复本帖：作业1-1：已跑通\n\n**注意**：附上截图")
        url = page.url
        page.click("button[data-role=preview-body]")
        preview = page.locator("[data-role=body-preview]")
        expect(preview.locator("strong")).to_have_text("注意")
        assert page.url == url
        expect(page.locator("#f-body")).to_be_hidden()
        page.click("button[data-role=preview-body]")  # back to writing, text intact
        expect(page.locator("#f-body")).to_have_value("完成后回复本帖：作业1-1：已跑通\n\n**注意**：附上截图")

        # add a 5-winner lottery in the empty row
        row = page.locator("[data-role=reward-row][data-index='1']")
        row.locator("select[name='reward-1-kind']").select_option("lottery")
        row.locator("input[name='reward-1-count']").fill("5")
        row.locator("input[name='reward-1-text']").fill("随机抽取5名同学")
        page.click("button[data-role=review]")

        diff = page.locator("[data-role=diff]")
        expect(diff.locator("[data-path='assignments[1-1].rewards[1].count']")).to_contain_text("5")
        expect(diff.locator("[data-path='assignments[1-1].title']")).to_contain_text("跑通房价预测案例（新版）")
        expect(diff.locator("[data-path='assignments[1-1].body']")).to_contain_text("**注意**")
        _fits(page, width)
        page.screenshot(path=str(SCREENSHOTS / f"course_editor_diff_{width}.png"), full_page=True)
        page.click("button[data-role=save]")
        expect(page.locator("[data-role=saved]")).to_contain_text("已保存")
        page.screenshot(path=str(SCREENSHOTS / f"course_editor_saved_{width}.png"))

        page.goto(f"{site}/courses/{slug}/assignments/1-1")
        expect(page.locator(".task .body strong")).to_have_text("注意")
        expect(page.locator("section.task").first).to_contain_text("随机抽取5名同学")
    finally:
        context.close()
