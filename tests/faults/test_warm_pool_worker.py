"""A real worker with its warm pool on (PostgreSQL, Redis, a Celery worker process).

The grading process starts its warm sandboxes ahead of need (they wait in the slots before any
submission), a 6-2 grading consumes them (the waiting processes are gone once it is scored, new
ones wait in their place), and stopping the worker, gracefully or with SIGKILL, leaves no process
of the slot uids (`ps -U`); host directories a killed process could not remove go when their
slots are used again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from grader.limits import Limits
from grader.sandbox import configured, warm
from tests.faults.kit import worker_ready
from tests.grader.graderkit import BASELINE, BASELINE_ACCURACY
from tests.support import sandbox as test_sandbox
from tests.support.stacks import wait_for
from tests.support.web import add_user, api_token, make_client

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

URL = "/api/v1/courses/dl-bootcamp/assignments/6-2/submissions"
UIDS = ",".join(str(test_sandbox.UID_FIRST + i) for i in range(test_sandbox.UID_COUNT))
WARM = {"CAMP_WARM_POOL_SIZE": "2", "CAMP_WARM_POOL_IMPORTS": "numpy"}


def slot_pids() -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=,stat=", "-U", UIDS], capture_output=True, text=True,
                         timeout=30).stdout
    return {int(line.split()[0]) for line in out.splitlines() if not line.split()[1].startswith("Z")}


def homes() -> set[str]:
    """Host directories of warm sandboxes of this test run's slots."""
    uids = UIDS.split(",")
    return {p.name for p in Path(tempfile.gettempdir()).glob("camp-warm-*") if p.name.split("-")[2] in uids}


def baseline() -> dict[str, tuple[str, bytes]]:
    import runpy

    return {"files": ("lenet.zip", runpy.run_path(str(BASELINE / "package.py"))["build"]())}


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_worker_grades_in_warm_sandboxes_and_leaves_none(make_stack, stop: str) -> None:
    assert slot_pids() == set()
    with make_stack(**WARM) as fs, make_client() as client:
        stack = fs.stack
        proc = stack.start_worker("-c", "1")
        worker_ready(stack, proc)
        waiting = wait_for(lambda: slot_pids() if len(slot_pids()) >= 4 else None, timeout=120)
        assert isinstance(waiting, set)  # two sandboxes, each a bwrap and its pid 1 at least
        student = {"Authorization": f"Bearer {api_token(stack, add_user(stack))}"}
        created = client.post(URL, data={"text": "作业6-2：见附件"}, files=baseline(), headers=student)
        assert created.status_code == 201, created.text
        sid = created.json()["id"]

        def scored() -> dict[str, object] | None:
            body: dict[str, object] = client.get(f"/api/v1/submissions/{sid}", headers=student).json()
            return body if body["status"] in ("scored", "failed") else None

        done = wait_for(scored, timeout=180)
        assert isinstance(done, dict) and done["verdict"] == "accepted", stack.worker_log()[-3000:]
        assert float(done["score"]) > BASELINE_ACCURACY - 0.02  # the worker perturbs the hidden digits
        # both waiting sandboxes served this grading (sample run, hidden run) and are gone
        assert wait_for(lambda: not (slot_pids() & waiting), timeout=60)
        if stop == "SIGTERM":
            stack.stop_workers()
        else:  # the sandboxes die with the grading process (bwrap --die-with-parent)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        assert wait_for(lambda: slot_pids() == set(), timeout=60), slot_pids()
        if stop == "SIGKILL":  # its host directories stay until the slots are used again
            pool = warm.start(warm.WarmSettings(size=test_sandbox.UID_COUNT, imports=(), wait_seconds=0),
                              Limits(), configured())
            assert pool is not None and pool.wait_ready(timeout=300)
            warm.stop()
        assert homes() == set(), homes()
