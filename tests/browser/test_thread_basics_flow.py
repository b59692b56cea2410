"""Thread basics in a real browser (zh-CN, phone and laptop): arithmetic keeps its `*`, quoting a
floor fills the reply box, and the site icon loads (no 404)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.kit import register

ANSWER = "作业8：参数量 10*64*224*224*27，比例 $\\frac{a}{b}$"


@pytest.mark.parametrize("width", [375, 1280])
def test_stars_quote_and_icon(browser: Browser, site: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    elsewhere: list[str] = []  # math needs no CDN: every request stays on the site
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(site) else None)
    try:
        register(page, site)
        page.goto(f"{site}/courses/dl-bootcamp/assignments/8")
        page.fill("#text", ANSWER)
        page.click("text=发表回复")
        mine = page.locator("li.reply.mine").last
        expect(mine.locator(".text")).to_contain_text("10*64*224*224*27")
        expect(mine.locator(".text em")).to_have_count(0)
        expect(mine.locator(".text math mfrac")).to_have_count(1)
        assert mine.locator(".text math").bounding_box()["width"] > 0  # type: ignore[index]
        floor = mine.get_attribute("id").removeprefix("floor-")  # type: ignore[union-attr]
        mine.locator("[data-role=quote]").click()
        expect(page.locator("#text")).to_have_value(f"> #{floor} " + page.locator(".who").inner_text()
                                                    + "：\n> " + ANSWER + "\n\n")
        icon = page.evaluate("fetch('/favicon.ico').then(r => r.status)")
        assert icon == 200 and not missing, missing
        assert not [u for u in elsewhere if not u.startswith(("data:", "blob:"))], elsewhere
    finally:
        context.close()
