"""Take the README's screenshots: a fresh embedded Camp, a little activity, headless Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts Camp in a temporary data dir (SQLite, local worker), loads the demo course, creates a
student, a second student, an instructor and an admin, posts replies (a right and a wrong
answer to 7-1, a 1-1 reply), waits for the verdicts, commits a lottery draw for 7-1, and
captures the main pages at 1280 and 375 px in zh-CN (and a few in English) with Debian's
Chromium. PNGs over 250 KB are reduced to a 256-colour palette.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse"
COURSE = "/courses/dl-bootcamp"
HOMEWORK = f"{COURSE}/assignments/7-1"
MAX_BYTES = 250 * 1024

#: (file name, path, who is logged in, widths, languages)
SHOTS: list[tuple[str, str, str | None, tuple[int, ...], tuple[str, ...]]] = [
    ("home", "/", None, (1280, 375), ("zh_CN",)),
    ("course", COURSE, "student", (1280, 375), ("zh_CN", "en")),
    ("homework-7-1", HOMEWORK, "student", (1280, 375), ("zh_CN", "en")),
    ("leaderboard-7-1", f"{HOMEWORK}/leaderboard", "student", (1280, 375), ("zh_CN",)),
    ("my-submissions", "/me/submissions", "student", (1280, 375), ("zh_CN",)),
    ("search", f"{COURSE}/search?q=跑通", "other", (1280, 375), ("zh_CN", "en")),
    ("search-7-1-sealed", f"{HOMEWORK}/search?q=乘法", "other", (375,), ("zh_CN",)),
    ("inbox", "/inbox", "student", (1280, 375), ("zh_CN",)),
    ("draw", "/draws/1", "student", (1280, 375), ("zh_CN",)),
    ("staff-course", f"/staff{COURSE}", "instructor", (1280, 375), ("zh_CN",)),
    ("staff-dashboard-7-1", f"/staff{HOMEWORK}", "instructor", (1280, 375), ("zh_CN", "en")),
    ("admin-users", "/admin/users", "admin", (1280,), ("zh_CN",)),
    ("admin-audit", "/admin/audit", "admin", (1280, 375), ("zh_CN",)),
    ("course-editor-3-1", "/staff/courses/dl-bootcamp/edit/homework/3-1", "admin", (1280, 375), ("zh_CN",)),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def camp(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {what}")


class Site:
    def __init__(self, env: dict[str, str], url: str) -> None:
        self.env, self.url = env, url
        self.tokens: dict[str, str] = {}

    def account(self, name: str, role: str) -> None:
        camp(self.env, "user", "add", name, "--role", role, stdin=PASSWORD + "\n")
        self.tokens[name] = camp(self.env, "token", "create", name)

    def api(self, name: str, method: str, path: str, **kw: object) -> httpx.Response:
        response = httpx.request(method, self.url + "/api/v1" + path, timeout=60,
                                 headers={"authorization": f"Bearer {self.tokens[name]}"}, **kw)  # type: ignore[arg-type]
        response.raise_for_status()
        return response

    def reply(self, name: str, code: str, text: str) -> int:
        data = self.api(name, "POST", f"/courses/dl-bootcamp/assignments/{code}/submissions",
                        data={"text": text}).json()
        return int(data["id"])

    def wait_graded(self, name: str, ids: list[int]) -> None:
        def graded() -> bool:
            states = [self.api(name, "GET", f"/submissions/{i}").json()["status"] for i in ids]
            return all(s in ("scored", "failed", "rejected") for s in states)

        wait_until(graded, 180, "the verdicts")


def activity(site: Site) -> None:
    site.account("xiaoming", "student")
    site.account("thunder95", "student")
    site.account("teacher", "instructor")
    site.account("admin", "admin")
    mine = [site.reply("xiaoming", "1-1", "作业1-1：已跑通，loss 从 0.8 降到 0.02"),
            site.reply("xiaoming", "7-1", "作业7-1：乘法 86704128，加法 86704128"),
            site.reply("xiaoming", "7-1", "作业7-1：乘法867041280,加法867041280")]
    theirs = [site.reply("thunder95", "7-1", "作业7-1：multiplications: 867,041,280, additions: 867,041,280"),
              site.reply("thunder95", "1-1", "我跑通了")]
    site.wait_graded("xiaoming", mine)
    site.wait_graded("thunder95", theirs)
    site.api("admin", "POST", "/courses/dl-bootcamp/assignments/7-1/draws", json={"rule_index": 0})


def log_in(browser: Browser, url: str, name: str | None, width: int, lang: str) -> object:
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 800},
                                  locale="zh-CN" if lang == "zh_CN" else "en-US", device_scale_factor=1)
    context.add_cookies([{"name": "camp_lang", "value": lang, "url": url}])
    if name is not None:
        page = context.new_page()
        page.goto(f"{url}/login")
        page.fill("#name", name)
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{url}/")
        page.close()
    return context


def shrink(path: Path) -> None:
    if path.stat().st_size > MAX_BYTES:
        with Image.open(path) as image:
            image.convert("RGB").quantize(colors=256).save(path, optimize=True)


def capture(url: str, out: Path) -> list[Path]:
    names = {"student": "xiaoming", "other": "thunder95", "instructor": "teacher", "admin": "admin"}
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for label, path, who, widths, langs in SHOTS:
            for lang in langs:
                for width in widths:
                    if lang != "zh_CN" and width != 1280:
                        continue
                    context = log_in(browser, url, names.get(who or ""), width, lang)
                    page = context.new_page()  # type: ignore[attr-defined]
                    page.goto(url + path)
                    suffix = "" if lang == "zh_CN" else "-en"
                    target = out / f"{label}-{width}{suffix}.png"
                    page.screenshot(path=str(target), full_page=True)
                    shrink(target)
                    written.append(target)
                    context.close()  # type: ignore[attr-defined]
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=lambda p: Path(p).resolve(), default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="camp-shots-") as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMP_")}
        env.update(CAMP_DATA_DIR=data_dir, PYTHONUNBUFFERED="1")
        camp(env, "db", "upgrade")
        camp(env, "course", "load", str(ROOT / "courses" / "dl-bootcamp.yaml"))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(Path(data_dir) / "serve.log", "wb")
        server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=ROOT,
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(lambda: httpx.get(url + "/healthz", timeout=2).status_code == 200, 60, "the server")
            site = Site(env, url)
            activity(site)
            for path in capture(url, args.out):
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                print(f"{shown}  {path.stat().st_size // 1024} KB")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            log.close()


if __name__ == "__main__":
    main()
