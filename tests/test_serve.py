"""`camp serve` in the embedded mode, as the README's first command runs it: web and local worker
together, a reply graded end to end over HTTP, and no worker left behind when the server stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.live import free_port
from tests.support.stacks import DEMO_COURSE, PROJECT_ROOT, Stack, wait_for


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def request(url: str, token: str, data: bytes | None = None, content_type: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10) as r:
        return json.loads(r.read())


@pytest.mark.slow  # starts `camp serve` and its worker
def test_serve_grades_a_reply_and_stops_its_worker(tmp_path: Path) -> None:
    stack = Stack("serve", {"CAMP_DATA_DIR": str(tmp_path)}, tmp_path)
    assert stack.camp("db", "upgrade").returncode == 0
    assert stack.camp("course", "load", str(DEMO_COURSE)).returncode == 0
    assert stack.camp("user", "add", "newcomer", stdin="correct horse\n").returncode == 0
    token = stack.camp("token", "create", "newcomer").stdout.strip()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
                              cwd=PROJECT_ROOT, env=stack.subprocess_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        workers = wait_for(lambda: children_of(server.pid), timeout=30)
        boundary = "----camp"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n作业1-1：已跑通\r\n"
                f"--{boundary}--\r\n").encode()
        url = f"{base}/api/v1/courses/dl-bootcamp/assignments/1-1/submissions"
        created = wait_for(lambda: _try(lambda: request(url, token, body, f"multipart/form-data; boundary={boundary}")),
                           timeout=60)
        assert created["status"] == "queued"
        done = wait_for(lambda: (r := request(f"{base}/api/v1/submissions/{created['id']}", token))["status"] == "scored"
                        and r, timeout=60)
        assert done["verdict"] == "accepted"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    try:
        for pid in workers:  # type: ignore[union-attr]
            wait_for(lambda pid=pid: not alive(pid), timeout=30)
    finally:
        for pid in workers:  # type: ignore[union-attr]
            if alive(pid):  # leave nothing behind, even when the assertion failed
                os.kill(pid, signal.SIGKILL)
    served = (tmp_path / "serve.log").read_text()
    assert "local worker started" in served
    assert '"POST /api/v1/courses/dl-bootcamp/assignments/1-1/submissions HTTP/1.1" 201' in served  # access log


@pytest.mark.parametrize(("flag", "logged"), [([], True), (["--no-access-log"], False)])
def test_the_access_log_can_be_left_to_the_proxy(flag: list[str], logged: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`--no-access-log` (a proxy in front keeps the log) reaches uvicorn; the default logs."""
    import uvicorn
    from click.testing import CliRunner

    from app.cli import main

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    result = CliRunner().invoke(main, ["serve", "--no-worker", *flag])
    assert result.exit_code == 0, result.output
    assert seen["access_log"] is logged


def _try(call: object) -> object:
    try:
        return call()  # type: ignore[operator]
    except OSError:
        return None


def test_pid_helpers_see_this_process() -> None:
    assert alive(os.getpid()) and os.getpid() in children_of(os.getppid())
