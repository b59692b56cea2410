"""Steps the browser flows share: accounts made with `camp user add` or through the register
form, logging in, and a reply posted through the API and waited on until it is graded."""

from __future__ import annotations

import secrets

import httpx
from playwright.sync_api import Page, expect

from tests.support.stacks import Stack, wait_for

PASSWORD = "correct horse"
ANSWER = "作业7-1：乘法867041280,加法867041280"


def make_account(stack: Stack, role: str) -> str:
    name = f"{role[:3]}{secrets.token_hex(3)}"
    result = stack.camp("user", "add", name, "--role", role, stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    return name


def post_reply(stack: Stack, site: str, name: str, code: str, text: str) -> int:
    token = stack.camp("token", "create", name).stdout.strip()
    response = httpx.post(f"{site}/api/v1/courses/dl-bootcamp/assignments/{code}/submissions",
                          data={"text": text}, headers={"authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 201, response.text
    submission_id = int(response.json()["id"])

    def graded() -> bool:
        state = httpx.get(f"{site}/api/v1/submissions/{submission_id}",
                          headers={"authorization": f"Bearer {token}"}, timeout=30).json()
        return state["status"] in ("scored", "failed", "rejected")

    wait_for(graded, timeout=90)
    return submission_id


def log_in(page: Page, site: str, name: str, next_path: str = "/") -> None:
    page.goto(f"{site}/login?next={next_path}")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator(".who")).to_contain_text(name)


def register(page: Page, site: str) -> str:
    name = f"stu{secrets.token_hex(3)}"
    page.goto(f"{site}/register")
    page.fill("#name", name)
    page.fill("#password", "correct horse")
    page.fill("#password2", "correct horse")
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_have_text(name)
    return name
