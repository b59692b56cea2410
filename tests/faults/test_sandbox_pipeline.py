"""Hostile 6-2 uploads through the whole pipeline on PostgreSQL, with a real worker process.

* A program that prints NUL bytes, invalid UTF-8 and the hidden digits is *scored* (before, the
  NUL made PostgreSQL refuse the log, three times, and the submission ended `failed`); the
  student's log has none of it, the staff's log has the hidden run's output.
* A worker whose sandbox cannot be set up stops taking work after three failures in a row and
  says so in /healthz and /metrics; the submissions wait in the queue, none is `failed`.
"""

from __future__ import annotations

import io
import subprocess
import zipfile

from fastapi.testclient import TestClient

from grader.datasets import DEMO_DIR, load_split
from grader.sandbox.cgroups import detect
from tests.faults.kit import worker_ready
from tests.support import sandbox as test_sandbox
from tests.support.stacks import wait_for
from tests.support.web import add_user, api_token, make_client

URL = "/api/v1/courses/dl-bootcamp/assignments/6-2/submissions"
UIDS = ",".join(str(test_sandbox.UID_FIRST + i) for i in range(test_sandbox.UID_COUNT))

PRINTS_GARBAGE_AND_DIGITS = """
import sys
import numpy as np

def predict(images):
    sys.stdout.buffer.write(b"garbage\\x00\\xff\\xfe here\\n" * 20)
    print("DIGITS", images[:4, 12:16].tobytes().hex())
    return np.zeros(len(images), dtype=np.int64)
"""


def package(code: str) -> dict[str, tuple[str, bytes]]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("predict.py", code)
    return {"files": ("predict.zip", buffer.getvalue())}


def graded(client: TestClient, sid: int, headers: dict[str, str]) -> dict[str, object] | None:
    body: dict[str, object] = client.get(f"/api/v1/submissions/{sid}", headers=headers).json()
    return body if body["status"] in ("scored", "failed") else None


def slot_processes() -> list[str]:
    out = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-U", UIDS], capture_output=True, text=True,
                         timeout=30).stdout
    return [line for line in out.splitlines() if not line.split()[1].startswith("Z")]


def test_nul_and_hidden_digits_in_the_log_on_postgresql(make_stack) -> None:
    with make_stack() as fs, make_client() as client:
        stack = fs.stack
        worker_ready(stack, stack.start_worker("-c", "1"))
        student = {"Authorization": f"Bearer {api_token(stack, add_user(stack))}"}
        staff = {"Authorization": f"Bearer {api_token(stack, add_user(stack, role='instructor'))}"}
        created = client.post(URL, data={"text": "作业6-2：日志"}, files=package(PRINTS_GARBAGE_AND_DIGITS),
                              headers=student)
        assert created.status_code == 201, created.text
        sid = created.json()["id"]

        mine = wait_for(lambda: graded(client, sid, student), timeout=180)
        assert isinstance(mine, dict)
        assert mine["status"] == "scored" and mine["verdict"] == "accepted", stack.worker_log()[-3000:]
        log = str(mine["log"])
        assert "garbage here" in log and "\x00" not in log and "\ufffd" not in log
        assert "run on the hidden test digits" in log and mine["staff_log"] is None
        seen = client.get(f"/api/v1/submissions/{sid}", headers=staff).json()
        assert "\x00" not in seen["staff_log"]
        # what the program printed on the hidden digits (as the sandbox got them): staff only
        hidden = next(line.split()[1] for line in seen["staff_log"].splitlines() if line.startswith("DIGITS"))
        public = load_split(DEMO_DIR, "train")[0][:4, 12:16].tobytes().hex()
        assert hidden not in log and f"DIGITS {public}" in log
        page = client.get("/courses/dl-bootcamp/assignments/6-2", headers=student).text
        assert hidden not in page
        assert client.get("/healthz").json()["sandbox"]["status"] in ("ok", "warning")
    assert slot_processes() == []


def test_a_worker_whose_sandbox_keeps_failing_stops_taking_work(make_stack) -> None:
    # ask for the cgroup version this host does not offer: every sandbox set-up then fails
    offered = detect("auto", test_sandbox.CGROUP_NAME).version
    missing = "v1" if offered == "v2" else "v2"
    with make_stack(CAMP_SANDBOX_CGROUPS=missing, CAMP_GRADING_MAX_ATTEMPTS="5") as fs, \
            make_client() as client:
        stack = fs.stack
        worker_ready(stack, stack.start_worker("-c", "1"))
        student = {"Authorization": f"Bearer {api_token(stack, add_user(stack))}"}
        ids = [client.post(URL, data={"text": f"作业6-2：第{i}次"}, files=package(PRINTS_GARBAGE_AND_DIGITS),
                           headers=student).json()["id"] for i in range(3)]

        def refusing() -> dict[str, object] | None:
            health = client.get("/healthz").json()
            return health if health["sandbox"]["status"] == "refusing work" else None

        health = wait_for(refusing, timeout=180)
        assert isinstance(health, dict) and health["status"] == "degraded"
        reason = " ".join(health["sandbox"]["workers"].values())
        assert f"cgroup {missing} was required" in reason and "3 sandbox set-ups failed" in reason
        token = stack.env.get("CAMP_METRICS_TOKEN")
        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {token}"} if token else {}).text
        refusing_lines = [line for line in metrics.splitlines() if line.startswith("camp_worker_sandbox_refusing{")]
        assert refusing_lines and float(refusing_lines[0].rsplit(" ", 1)[1]) == 1, metrics
        statuses = [client.get(f"/api/v1/submissions/{i}", headers=student).json()["status"] for i in ids]
        assert "failed" not in statuses and "scored" not in statuses, statuses
        assert "refusing work" in stack.worker_log()


def test_a_worker_without_cgroups_says_so_and_still_grades(make_stack) -> None:
    with make_stack(CAMP_SANDBOX_CGROUPS="none") as fs, make_client() as client:
        stack = fs.stack
        worker_ready(stack, stack.start_worker("-c", "1"))
        # a warning, not degraded: gradings go on with per-process limits (waited for, in case the
        # loaded machine's broker check times out once)
        health = wait_for(lambda: (h := client.get("/healthz").json())["status"] == "ok" and h, timeout=60)
        assert isinstance(health, dict) and health["sandbox"]["status"] == "warning", health
        assert "no cgroups (disabled by configuration)" in " ".join(health["sandbox"]["workers"].values())
        assert "SANDBOX WITHOUT CGROUPS" in stack.worker_log()
        student = {"Authorization": f"Bearer {api_token(stack, add_user(stack))}"}
        sid = client.post(URL, data={"text": "作业6-2：无 cgroup"}, files=package(PRINTS_GARBAGE_AND_DIGITS),
                          headers=student).json()["id"]
        body = wait_for(lambda: graded(client, sid, student), timeout=180)
        assert isinstance(body, dict) and body["verdict"] == "accepted", stack.worker_log()[-3000:]
    assert slot_processes() == []
