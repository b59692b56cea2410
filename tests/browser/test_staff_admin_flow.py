"""Instructors and admins in a real browser: the dashboard and its filters, changing a role,
loading a course file; the main pages at phone and laptop widths in both languages, with no
English left untranslated on the Chinese pages."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Browser, Page, expect

from tests.browser.kit import ANSWER, log_in, make_account, post_reply
from tests.support.live import SCREENSHOTS
from tests.support.stacks import PROJECT_ROOT, Stack


@pytest.fixture(scope="module")
def people(sqlite_stack: Stack, site: str) -> Iterator[dict[str, str]]:
    """An admin, an instructor and two students; the students answered 7-1 (right and wrong)."""
    names = {"admin": make_account(sqlite_stack, "admin"),
             "instructor": make_account(sqlite_stack, "instructor"),
             "student": make_account(sqlite_stack, "student"),
             "other": make_account(sqlite_stack, "student")}
    post_reply(sqlite_stack, site, names["student"], "7-1", ANSWER)
    post_reply(sqlite_stack, site, names["other"], "7-1", "作业7-1：乘法1,加法2")
    post_reply(sqlite_stack, site, names["admin"], "7-1", ANSWER)
    yield names


def test_instructor_opens_the_dashboard_and_filters(page: Page, site: str, people: dict[str, str]) -> None:
    log_in(page, site, people["instructor"])
    page.click("a[data-nav=staff]")
    expect(page.locator("h1")).to_have_text("教学管理")
    page.click("a[href='/staff/courses/dl-bootcamp']")
    page.click("a[href='/staff/courses/dl-bootcamp/assignments/7-1']")
    expect(page.locator("h1")).to_contain_text("作业看板")
    rows = page.locator("table[data-role=submissions] tbody tr[data-submission-id]")
    assert rows.count() >= 3
    expect(page.locator("svg.chart")).to_be_visible()

    page.select_option("select[name=verdict]", "wrong")
    page.click("form.filters button[type=submit]")
    # the course is shared with the session's other browser tests, which may have answered 7-1
    # wrongly too: the filter keeps the wrong answer and drops the right ones
    expect(rows.filter(has_text=people["other"])).to_have_count(1)
    expect(rows.filter(has_text=people["student"])).to_have_count(0)
    expect(rows.filter(has_text=people["admin"])).to_have_count(0)

    page.select_option("select[name=verdict]", "")
    page.fill("input[name=name]", people["student"])
    page.keyboard.press("Enter")  # the form works from the keyboard
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(people["student"])
    expect(page.locator("a", has_text="提交记录 CSV")).to_have_attribute(
        "href", f"/staff/courses/dl-bootcamp/assignments/7-1/submissions.csv?name={people['student']}")

    rows.first.locator("button", has_text="重新评测").click()
    expect(page.locator(".notice")).to_contain_text("已重新排队评测")


def test_admin_changes_a_role_and_loads_a_course_file(page: Page, site: str, people: dict[str, str],
                                                      tmp_path: Path) -> None:
    log_in(page, site, people["admin"])
    page.click("a[data-nav=admin]")
    page.click("a[href='/admin/users']")
    page.fill("input[name=q]", people["other"])
    page.click("form.filters button[type=submit]")
    row = page.locator(f"tr[data-user='{people['other']}']")
    expect(row.locator("[data-role=role]")).to_have_text("学员")
    row.locator("select").select_option("instructor")
    row.locator("button", has_text="保存").click()
    expect(page.locator(".notice")).to_contain_text(f"{people['other']} 的角色已更改")
    expect(page.locator(f"tr[data-user='{people['other']}'] [data-role=role]")).to_have_text("讲师")
    page.goto(f"{site}/admin/audit")
    expect(page.locator("[data-role=chain]")).to_contain_text("哈希链完整")
    expect(page.locator("table.audit tbody tr").first).to_contain_text("user.role")

    slug = f"web-{secrets.token_hex(3)}"
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"slug: {slug}\ntitle: 浏览器导入\nassignments:\n  - code: 'x-1'\n    title: t\n",
                   encoding="utf-8")
    page.goto(f"{site}/admin/courses")
    page.set_input_files("#course-file", str(bad))
    page.click("main form button[type=submit]")
    error = page.locator("[data-role=course-error]")
    expect(error).to_contain_text("课程文件无效")
    expect(error).to_contain_text("assignments[0] (x-1).code")

    good = tmp_path / "good.yaml"
    good.write_text(f"slug: {slug}\ntitle: 浏览器导入\nassignments:\n  - code: '1-1'\n    title: 第一次\n"
                    "    opens: '-1d'\n    due: '+7d'\n", encoding="utf-8")
    page.set_input_files("#course-file", str(good))
    page.click("main form button[type=submit]")
    expect(page.locator(".notice")).to_contain_text(f"课程 {slug} 已导入")
    page.click(".notice a")
    expect(page.locator("h1")).to_have_text("浏览器导入")


def english_msgids() -> list[str]:
    data = (PROJECT_ROOT / "locales/zh_CN/LC_MESSAGES/messages.po").read_bytes()
    catalog = {m.id: m.string for m in read_po(io.BytesIO(data)) if m.id and isinstance(m.id, str)}
    return [m for m, zh in catalog.items() if zh and len(m) > 3 and "{" not in m and m != zh]


PAGES = {
    "home": "/",
    "course": "/courses/dl-bootcamp",
    "homework": "/courses/dl-bootcamp/assignments/7-1",
    "leaderboard": "/courses/dl-bootcamp/assignments/7-1/leaderboard",
    "my-submissions": "/me/submissions",
    "staff-course": "/staff/courses/dl-bootcamp",
    "dashboard": "/staff/courses/dl-bootcamp/assignments/7-1",
    "admin-users": "/admin/users",
    "admin-rewards": "/admin/rewards",
    "admin-audit": "/admin/audit",
}


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_main_pages_fit_and_are_translated(browser: Browser, site: str, people: dict[str, str],
                                           width: int, lang: str) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  locale="zh-CN" if lang == "zh_CN" else "en-US")
    page = context.new_page()
    try:
        log_in(page, site, people["admin"])
        context.add_cookies([{"name": "camp_lang", "value": lang, "url": site}])
        msgids = english_msgids()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for label, path in PAGES.items():
            page.goto(site + path)
            expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh_CN" else "en")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, (path, width, overflow)  # wide tables scroll inside their box
            if lang == "zh_CN":
                html = page.content()
                lines = {line.strip() for line in page.inner_text("body").splitlines()}
                leaks = [m for m in msgids if m in lines or f">{m}<" in html or f">{m} " in html]
                assert not leaks, (path, leaks)
            page.screenshot(path=str(SCREENSHOTS / f"pages-{lang}-{width}-{label}.png"), full_page=True)
    finally:
        context.close()


def test_forms_are_keyboard_reachable_with_visible_focus(page: Page, site: str,
                                                         people: dict[str, str]) -> None:
    log_in(page, site, people["admin"])
    page.goto(f"{site}/admin/users")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "q":
            break
    else:
        pytest.fail("the search field is not reachable with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
