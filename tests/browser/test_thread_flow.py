"""The course thread in a real browser: the preview shows where each part goes as the student
types, the post shows where they went, another student likes a part in place (no reload)."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.kit import register
from tests.support.live import SCREENSHOTS

REPLY = "大家好，交作业\n作业7-1：乘法867041280,加法867041280\n作业8-1：ReLU 收敛更快\n作业42：这是哪个作业？"


def test_preview_post_and_like_without_reloading(page: Page, site: str, browser: Browser) -> None:
    problems: list[str] = []  # CSP refusals and failed requests (a favicon aside)
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    page.on("response", lambda r: problems.append(r.url)
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    register(page, site)
    page.goto(f"{site}/courses/dl-bootcamp")
    page.fill("#thread-text", REPLY)
    preview = page.locator("[data-role=preview]")
    expect(preview.locator(".route-part")).to_have_count(2)
    expect(preview.locator(".route-part").first).to_contain_text("作业 7-1")
    expect(preview).to_contain_text("本课程没有作业 8-1，这一部分归入作业 8")
    expect(preview).to_contain_text("本课程没有作业 42")
    expect(preview).to_contain_text("留在课程帖中")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#thread").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "thread_preview.png"))

    page.click("button[value=post]")
    post = page.locator("li.post.just-posted")
    expect(post).to_contain_text("大家好，交作业")
    links = post.locator(".route-parts a")
    expect(links).to_have_count(2)
    target = links.last.get_attribute("href")
    assert target and "/assignments/8?" in target
    assert not problems, problems

    other = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")  # a phone
    try:
        fan = other.new_page()
        register(fan, site)
        fan.goto(f"{site}{target}")
        floor = target.rsplit("#", 1)[1]
        reply = fan.locator(f"li#{floor}")
        expect(reply.locator(".chip.note")).to_contain_text("写作 作业8-1")
        navigations: list[str] = []
        fan.on("framenavigated", lambda frame: navigations.append(frame.url))
        reply.locator("button.like").click()
        expect(reply.locator("[data-role=likes]")).to_have_text("1")
        expect(reply.locator("button.like")).to_have_attribute("aria-pressed", "true")
        reply.locator("button.like").click()
        expect(reply.locator("[data-role=likes]")).to_have_text("0")
        assert navigations == []
    finally:
        other.close()

    page.goto(f"{site}{target}")  # the author sees a count, not a button
    mine = page.locator(f"li#{target.rsplit('#', 1)[1]}")
    expect(mine.locator(".likes")).to_have_text("点赞 0")
    expect(mine.locator("button.like")).to_have_count(0)
