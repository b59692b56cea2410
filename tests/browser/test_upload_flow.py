"""Uploads that never lose work, in a real browser (zh-CN, phone and laptop widths): the limits
beside the picker, a 21 MB zip and a zip without predict.py refused inside the form with the text
and the chosen file kept, the same without JavaScript, and a crashed run shown as a red chip."""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.kit import register
from tests.support.live import SCREENSHOTS

HOMEWORK = "/courses/dl-bootcamp/assignments/6-2"
TYPED = "作业6-2：我的 LeNet，第二版\n训练了 5 轮"
MIB = 1024 * 1024


def _zip(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return out.getvalue()


def _choose(page: Page, name: str, data: bytes) -> None:
    page.set_input_files("#files", files=[{"name": name, "mimeType": "application/zip", "buffer": data}])


@pytest.mark.parametrize("width", [375, 1280])
def test_refused_uploads_keep_the_text_and_the_file(browser: Browser, site: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        register(page, site)
        page.goto(f"{site}{HOMEWORK}")
        limits = page.locator("[data-role=upload-limits]")
        expect(limits).to_be_visible()
        expect(limits).to_contain_text("每个最多 20 MB")
        expect(limits).to_contain_text("predict.py")
        quota = page.locator("[data-role=quota]").inner_text()

        page.fill("#text", TYPED)
        _choose(page, "big.zip", b"PK" + b"\0" * (21 * MIB))
        page.click("text=发表回复")
        error = page.locator("form.reply-form [data-role=form-error]")
        expect(error).to_contain_text("每个文件最多 20 MB")
        expect(page.locator("h1")).to_contain_text("作业 6-2")  # the page, not raw JSON
        expect(page.locator("#text")).to_have_value(TYPED)
        assert page.evaluate("document.querySelector('#files').files.length") == 1
        expect(page.locator("form.reply-form button[type=submit]")).to_be_enabled()

        _choose(page, "model.zip", _zip({"train.py": "print('hi')", "README.md": "LeNet"}))
        page.click("text=发表回复")
        expect(error).to_contain_text("没有 predict.py")
        expect(error).to_contain_text("没有用掉提交次数")
        expect(page.locator("#text")).to_have_value(TYPED)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("form.reply-form").screenshot(path=str(SCREENSHOTS / f"upload_refused_{width}.png"))
        page.reload()
        assert page.locator("[data-role=quota]").inner_text() == quota  # no attempt was used
    finally:
        context.close()


def test_without_javascript_the_form_comes_back_with_the_text(browser: Browser, site: str) -> None:
    context = browser.new_context(locale="zh-CN")
    register(context.new_page(), site)
    cookies = context.cookies()  # the same account, in a browser without JavaScript
    context.close()
    plain = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN",
                                java_script_enabled=False)
    try:
        plain.add_cookies(cookies)  # type: ignore[arg-type]
        page = plain.new_page()
        page.goto(f"{site}{HOMEWORK}")
        page.fill("#text", TYPED)
        _choose(page, "big.zip", b"PK" + b"\0" * (21 * MIB))
        page.click("text=发表回复")
        expect(page.locator("form.reply-form .error")).to_contain_text("你写的文字保留在下面")
        expect(page.locator("#text")).to_have_value(TYPED)
        expect(page.locator("body")).not_to_contain_text('"detail"')
        page.screenshot(path=str(SCREENSHOTS / "upload_too_large_nojs_375.png"), full_page=True)
    finally:
        plain.close()


def test_a_crashed_run_is_a_red_runtime_error_with_the_students_traceback(page: Page, site: str) -> None:
    register(page, site)
    page.goto(f"{site}{HOMEWORK}")
    page.fill("#text", "作业6-2：会出错的版本")
    page.set_input_files("#files", files=[{
        "name": "predict.py", "mimeType": "text/x-python",
        "buffer": b"def predict(images):\n    raise ValueError('shape mismatch in my model')\n"}])
    page.click("text=发表回复")
    mine = page.locator("li.reply.mine").last
    chip = mine.locator("[data-role=status]")
    expect(chip).to_have_text("运行错误", timeout=180_000)
    expect(chip).to_have_class("chip status-crashed")
    assert chip.evaluate("e => getComputedStyle(e).color") == "rgb(185, 28, 28)"  # red, not green
    page.reload()
    mine = page.locator("li.reply.mine").last
    mine.locator("details summary").first.click()
    log = mine.locator("[data-role=verdict] pre").first.inner_text()
    assert "ValueError: shape mismatch in my model" in log and 'File "/box/predict.py"' in log, log
    assert "/camp/" not in log and "runpy" not in log and "/work" not in log and "/root" not in log, log
