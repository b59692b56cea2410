"""A real Camp server process (uvicorn) for browser tests, on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from tests.support.stacks import PROJECT_ROOT, Stack, wait_for

CHROMIUM = "/usr/bin/chromium"  # Debian's; never a browser downloaded by Playwright
SCREENSHOTS = PROJECT_ROOT / "test-output" / "screenshots"


#: the `live` fixture: `with live(stack, CAMP_X="1") as url:` runs one server for a test
Live = Callable[..., AbstractContextManager[str]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def live_server(stack: Stack, workers: int = 1, **env: str) -> Iterator[str]:
    """`env`: extra settings for this server only (CAMP_...); `workers`: uvicorn processes."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(stack.data_dir / f"server-{port}.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(port), "--workers", str(workers)],
        cwd=PROJECT_ROOT, env={**stack.subprocess_env(), **env}, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: proc.poll() is not None or _up(url), timeout=60)
        assert proc.poll() is None, (stack.data_dir / f"server-{port}.log").read_text()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
