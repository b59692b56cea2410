"""The issue's main flows in a real browser: a student uploads the MNIST baseline and watches it
get graded, answers 7-1 and sees the verdict arrive; an instructor reviews a reply from the
review queue and the student sees it; an admin commits, freezes and reveals a lottery and the
winners appear on the homework page. None of the student's pages reload to show a verdict."""

from __future__ import annotations

import io
import re
import secrets
import zipfile
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser.kit import ANSWER, log_in, make_account, post_reply
from tests.support.homework import (
    ROUND_123_SIGNATURE,
    freeze_in_2023,
    move_draw_to_2023,
    move_replies_to_2023,
)
from tests.support.live import SCREENSHOTS
from tests.support.stacks import PROJECT_ROOT, Stack, wait_for

BASELINE = PROJECT_ROOT / "examples" / "mnist-lenet"


def baseline_zip(path: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("predict.py", "lenet.npz"):
            zf.write(BASELINE / name, name)
    path.write_bytes(buffer.getvalue())
    return path


def watch_navigations(page: Page) -> list[str]:
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    return navigations


def test_student_uploads_the_mnist_baseline_and_watches_it_run(
        page: Page, site: str, sqlite_stack: Stack, tmp_path: Path) -> None:
    name = make_account(sqlite_stack, "student")
    log_in(page, site, name, "/courses/dl-bootcamp/assignments/6-2")
    expect(page.locator("h1")).to_contain_text("作业 6-2")
    page.fill("#text", "作业6-2：LeNet 基线，代码和权重在附件里")
    page.set_input_files("#files", str(baseline_zip(tmp_path / "mnist-lenet.zip")))
    page.click("text=发表回复")
    # the form's own redirect lands first: the thread's live stream may show the new reply on
    # the old page a moment before it (then the chip would be read there)
    page.wait_for_url("**posted=**")

    mine = page.locator("li.reply.mine").last
    expect(mine.locator(".author")).to_have_text(name)
    expect(mine.locator("a.file")).to_contain_text("mnist-lenet.zip")
    chip = mine.locator("[data-role=status]")
    first = chip.inner_text()
    assert first in ("排队中", "评测中", "已评测"), first
    navigations = watch_navigations(page)
    expect(chip).to_have_text("已评测", timeout=90_000)
    score = mine.locator("[data-role=score]")
    expect(score).to_be_visible()
    assert 0.95 <= float(score.inner_text()) <= 1.0  # the baseline's accuracy on the public half
    assert navigations == []


def test_student_answers_7_1_and_sees_the_verdict_without_reloading(
        page: Page, site: str, sqlite_stack: Stack) -> None:
    name = make_account(sqlite_stack, "student")
    log_in(page, site, name, "/courses/dl-bootcamp/assignments/7-1")
    page.fill("#text", ANSWER)
    page.click("text=发表回复")
    page.wait_for_url("**posted=**")  # the redirect first (see the 6-2 test above)
    mine = page.locator("li.reply.mine").last
    expect(mine.locator(".text")).to_contain_text("乘法867041280")
    navigations = watch_navigations(page)
    expect(mine.locator("[data-role=status]")).to_have_text("已评测", timeout=60_000)
    expect(mine.locator("[data-role=score]")).to_have_text("1")
    expect(mine.locator(".message")).not_to_be_empty()
    assert navigations == []


def test_instructor_reviews_a_reply_and_the_student_sees_it(
        page: Page, site: str, sqlite_stack: Stack, browser: Browser) -> None:
    student = make_account(sqlite_stack, "student")
    instructor = make_account(sqlite_stack, "instructor")
    sid = post_reply(sqlite_stack, site, student, "3-1", "作业3-1：(1) 学习率太大 (2) 换 Adam")

    log_in(page, site, instructor, "/courses/dl-bootcamp/assignments/3-1")
    page.click("text=点评队列")
    expect(page.locator("h1")).to_contain_text("点评队列")
    page.select_option("select[name=state]", "all")
    page.check("input[name=newest_first]")
    page.click("form.filters button[type=submit]")
    item = page.locator(f"li#review-{sid}")
    expect(item).to_contain_text(student)
    item.locator("input[name=score]").fill("92")
    item.locator("textarea[name=comment]").fill("分析清楚，继续加油")
    item.locator("input[name=featured]").check()
    item.locator("button[type=submit]").click()
    reviewed = page.locator(f"li#review-{sid}")
    expect(reviewed.locator(".chip.featured")).to_be_visible()
    expect(reviewed.locator("input[name=score]")).to_have_value(re.compile(r"^92(\.0)?$"))

    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    try:
        mine = context.new_page()
        log_in(mine, site, student, "/courses/dl-bootcamp/assignments/3-1")
        reply = mine.locator("li.reply.mine").last
        review = reply.locator(".review")
        expect(review).to_contain_text("92")
        expect(review).to_contain_text("分析清楚，继续加油")
        expect(reply.locator(".chip.featured")).to_be_visible()
    finally:
        context.close()


def test_admin_runs_a_lottery_and_the_winners_appear_on_the_homework_page(
        page: Page, site: str, sqlite_stack: Stack, tmp_path: Path, browser: Browser) -> None:
    slug = f"draw-{secrets.token_hex(3)}"
    course = tmp_path / "course.yaml"
    course.write_text(
        f"slug: {slug}\ntitle: 抽奖演示\ntimezone: Asia/Shanghai\nassignments:\n"
        "  - code: '1-1'\n    title: 跑通案例\n    reply_format: 作业1-1：XXX\n"
        "    opens: 2023-08-01T00:00:00+08:00\n    due: +7d\n    grading: {kind: reply_format}\n"
        "    rewards:\n      - {kind: lottery, k: 1, text: 抽取1人, prize: 飞桨定制本}\n", encoding="utf-8")
    assert sqlite_stack.camp("course", "load", str(course)).returncode == 0
    student = make_account(sqlite_stack, "student")
    admin = make_account(sqlite_stack, "admin")
    _reply_in(sqlite_stack, site, student, slug)

    log_in(page, site, admin, f"/courses/{slug}/assignments/1-1/draws")
    page.locator("form.step button[type=submit]").first.click()
    expect(page.locator("h1")).to_contain_text("抽奖")
    draw_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    with sqlite_stack.active():  # time travel: committed in 2023, so it names drand round 123
        move_replies_to_2023(slug, "1-1")
        move_draw_to_2023(draw_id)
    page.reload()
    expect(page.locator("dl.facts")).to_contain_text("drand quicknet 第 123 轮")
    page.click("button:has-text('冻结名单')")  # now is long after round 123: refused
    expect(page.locator(".error").first).to_contain_text("第 123 轮已于")
    with sqlite_stack.active():
        freeze_in_2023(draw_id, admin)
    page.goto(f"{site}/draws/{draw_id}")
    expect(page.locator("#pv")).to_be_visible()
    page.fill("#pv", ROUND_123_SIGNATURE)
    page.click("button:has-text('公布')")
    winners = page.locator("section.winners")
    expect(winners).to_contain_text(student)

    page.goto(f"{site}/courses/{slug}/assignments/1-1")
    line = page.locator(".rewards-block .draw strong")
    expect(line).to_have_text(f"获奖同学：#1 {student}")

    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    try:
        phone = context.new_page()  # the winner, on a phone: the course list marks it done and won
        log_in(phone, site, student, f"/courses/{slug}")
        chips = phone.locator("td[data-role=chips]").first
        expect(chips.locator("[data-chip=done]")).to_have_text("已完成")
        expect(chips.locator("[data-chip=won]")).to_have_text("已获奖")
        context.pages[0].screenshot(path=str(SCREENSHOTS / "course-chips-375.png"), full_page=True)
    finally:
        context.close()


def _reply_in(stack: Stack, site: str, name: str, slug: str) -> None:
    token = stack.camp("token", "create", name).stdout.strip()
    auth = {"authorization": f"Bearer {token}"}
    response = httpx.post(f"{site}/api/v1/courses/{slug}/assignments/1-1/submissions",
                          data={"text": "作业1-1：已跑通"}, headers=auth, timeout=30)
    assert response.status_code == 201, response.text
    sid = response.json()["id"]
    wait_for(lambda: httpx.get(f"{site}/api/v1/submissions/{sid}", headers=auth, timeout=30)
             .json()["status"] in ("scored", "failed", "rejected"), timeout=60)


def test_reply_box_previews_markdown_and_uploads_dropped_files_with_progress(
        page: Page, site: str, sqlite_stack: Stack, tmp_path: Path) -> None:
    from PIL import Image

    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    name = make_account(sqlite_stack, "student")
    log_in(page, site, name, "/courses/dl-bootcamp/assignments/1-1")
    page.fill("#text", "作业1-1：**已跑通**，曲线见图")
    page.click("[data-role=md-preview-tab]")
    shown = page.locator("[data-role=md-preview]")
    expect(shown.locator("strong")).to_have_text("已跑通")
    expect(page.locator("#text")).to_be_hidden()
    page.click("[data-role=write]")
    expect(page.locator("#text")).to_be_visible()

    image = tmp_path / "loss.png"
    Image.new("RGB", (64, 64), (20, 120, 200)).save(image)
    data = list(image.read_bytes())
    page.evaluate("""([bytes, name]) => {
        const zone = document.querySelector('[data-role=drop-zone]');
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], name, {type: 'image/png'}));
        zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", [data, "loss.png"])
    assert page.evaluate("document.querySelector('#files').files[0].name") == "loss.png"
    expect(page.locator("[data-role=upload]")).to_be_hidden()  # shown only while it uploads
    page.evaluate("""() => {
        const bar = document.querySelector('[data-role=upload]');
        new MutationObserver(() => {
            if (!bar.hidden) sessionStorage.setItem('upload', bar.querySelector('[role=status]').textContent);
        }).observe(bar, {attributes: true, subtree: true, childList: true, characterData: true});
    }""")
    page.click("text=发表回复")
    mine = page.locator("li.reply.mine").last
    expect(mine.locator("img.shot")).to_have_attribute("alt", "loss.png")
    expect(mine.locator(".text strong")).to_have_text("已跑通")
    assert (page.evaluate("sessionStorage.getItem('upload')") or "").startswith("上传中：")
    assert not [p for p in problems if "Failed to load resource" not in p], problems


def test_live_panel_shows_the_queue_then_the_log_tail_to_its_author(
        page: Page, site: str, sqlite_stack: Stack) -> None:
    from sqlalchemy import update

    from app.db import session_scope
    from app.models import Submission
    from tests.support.homework import Reply, add_replies, make_course, now
    from tests.support.thread import user_id

    name = make_account(sqlite_stack, "student")
    with sqlite_stack.active():
        course = make_course({"code": "1-1", "grading": {"kind": "reply_format"}})
        (sid,) = add_replies(course, "1-1", [Reply(user_id(name), status="queued", verdict=None, score=None,
                                                   at=now())])
    log_in(page, site, name, f"/courses/{course}/assignments/1-1")
    mine = page.locator(f"li[data-submission-id='{sid}']")
    navigations = watch_navigations(page)
    expect(mine.locator("[data-role=queue]")).to_have_text(re.compile(r"^排队中：前面还有 \d+ 份提交(，约 \d+ 秒后出结果)?$"))
    with sqlite_stack.active(), session_scope() as session:  # a grader finishes it
        session.execute(update(Submission).where(Submission.id == sid).values(
            status="scored", verdict="runtime_error", score=0.0, log="step 1\nTraceback: boom",
            messages={"zh_CN": "代码运行出错", "en": "The code failed"}))
    expect(mine.locator("[data-role=status]")).to_have_text("运行错误")  # a crash is not "graded"
    expect(mine.locator("[data-role=queue]")).to_have_count(0)
    tail = mine.locator("[data-role=log-tail]")
    expect(tail.locator("summary")).to_have_text("日志末尾")
    expect(tail.locator("pre")).to_have_text("step 1\nTraceback: boom")
    assert navigations == []
