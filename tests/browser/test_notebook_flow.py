"""A notebook from AI Studio in a real browser (zh-CN, phone and laptop widths): one without
`predict` is refused inside the form with the text kept, then a good one is posted, shown
rendered in the reply (math, highlighted code, the plot), nothing in it runs, it is graded, and
the page logs no error (before, a refusal rewrote the page and ran live.js twice:
"Identifier 'clocks' has already been declared")."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.kit import register
from tests.support.live import SCREENSHOTS
from tests.support.notebooks import b64, code, display, dumps, markdown, notebook, png, stream

HOMEWORK = "/courses/dl-bootcamp/assignments/6-2"
TYPED = "作业6-2：AI Studio 里的笔记本\n第二行说明"
NB_TYPE = "application/x-ipynb+json"

NO_PREDICT = dumps(notebook(code("import numpy as np\nprint('train')")))
GOOD = dumps(notebook(
    markdown("# 我的 MNIST 笔记本\n\n交叉熵 $L = -\\sum_i y_i \\log p_i$\n\n"
             "<script>window.__xss = 1</script> <img src=x onerror=\"window.__xss = 2\">"),
    code("%pip install paddlepaddle\n!ls /home/aistudio\nimport numpy as np", [stream("ok\n")], 1),
    code("def predict(images):\n    return np.zeros(len(images), dtype=np.int64)", count=2),
    code("plt.plot([0.9, 0.5, 0.3])", [
        display({"image/png": b64(png((320, 200))), "text/plain": "<Figure>"}),
        display({"text/html": "<script>window.__xss = 3</script>", "text/plain": "<table>"}),
    ], 3, tags=["camp-skip"]),  # a plotting cell: shown, not run by the grader
))


@pytest.mark.parametrize("width", [375, 1280])
def test_a_notebook_is_refused_then_posted_rendered_and_graded(browser: Browser, site: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        register(page, site)
        page.goto(f"{site}{HOMEWORK}")
        expect(page.locator("[data-role=upload-limits]")).to_contain_text(".ipynb")
        page.fill("#text", TYPED)
        page.set_input_files("#files", files=[{"name": "作业6-2.ipynb", "mimeType": NB_TYPE, "buffer": NO_PREDICT}])
        page.click("text=发表回复")
        error = page.locator("form.reply-form [data-role=form-error]")
        expect(error).to_contain_text("没有定义 predict(images) 函数")
        expect(error).to_contain_text("没有用掉提交次数")
        expect(page.locator("#text")).to_have_value(TYPED)

        page.set_input_files("#files", files=[{"name": "作业6-2.ipynb", "mimeType": NB_TYPE, "buffer": GOOD}])
        page.click("text=发表回复")
        page.wait_for_url("**posted=**")
        reply = page.locator("li.reply.mine").last
        shown = reply.locator("[data-role=notebook]")
        expect(shown.locator("h1")).to_have_text("我的 MNIST 笔记本")
        expect(shown.locator("math").first).to_be_attached()
        expect(shown.locator("pre.nb-input .kn").first).to_have_text("import")
        expect(shown).to_contain_text("这里不显示 HTML 或脚本输出")
        plot = shown.locator("img.nb-img")
        expect(plot).to_have_count(1)
        assert plot.evaluate("img => img.complete && img.naturalWidth") == 320
        assert page.evaluate("window.__xss") is None  # nothing in the notebook ran
        expect(reply.locator("[data-role=status]")).to_have_text("已评测", timeout=120_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways page
        page.add_script_tag(url="/static/live.js")  # run a second time, as a rewritten page once did
        page.add_script_tag(url="/static/live.js")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        reply.screenshot(path=str(SCREENSHOTS / f"notebook_{width}.png"))
        # the refused post's 422 is the only failed request; no script error at all
        failed = [p for p in problems if p.startswith("Failed to load resource")]
        assert failed == ["Failed to load resource: the server responded with a status of 422 "
                          "(Unprocessable Entity)"], problems
        assert [p for p in problems if p not in failed] == []
    finally:
        context.close()
