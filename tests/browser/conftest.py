"""Headless Chromium (Debian's) driven by Playwright against a real Camp server and worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.live import CHROMIUM, SCREENSHOTS, live_server
from tests.support.stacks import Stack


# Per module, not per session: Playwright's sync API keeps an asyncio loop marked as running
# in the main thread while it is open, and tests after the browser modules call asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Chromium is installed by `make install` (Debian package chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def site(sqlite_stack: Stack) -> Iterator[str]:
    """The embedded stack served for real, with a worker grading in the background."""
    if not any(p.poll() is None for p in sqlite_stack.workers):
        sqlite_stack.start_worker()
    with live_server(sqlite_stack) as url:
        yield url


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
