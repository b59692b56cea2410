"""The course thread's "预览" with JavaScript: shows where each part goes without submitting the
form, so the chosen image stays chosen (it used to be a full submit that dropped the file)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.kit import register
from tests.support.thread import png_with_gps


@pytest.mark.parametrize("width", [375, 1280])
def test_preview_keeps_the_chosen_file(browser: Browser, site: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        register(page, site)
        page.goto(f"{site}/courses/dl-bootcamp")
        navigations: list[str] = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url))
        page.fill("#thread-text", "作业8：![loss](loss.png) 损失在下降")
        page.set_input_files("#thread-files", files=[{"name": "loss.png", "mimeType": "image/png",
                                                     "buffer": png_with_gps()}])
        page.click("button[value=preview]")
        preview = page.locator("[data-role=preview]")
        expect(preview.locator(".route-part")).to_have_count(1)
        expect(preview).to_contain_text("loss.png")
        assert navigations == []
        assert page.evaluate("document.querySelector('#thread-files').files.length") == 1
    finally:
        context.close()
