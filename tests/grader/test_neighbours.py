"""Attacks on the *other* sandboxes of the machine, each next to an innocent grading.

Every hostile package is graded at the same time as the baseline package: the hostile one must
end with a clear verdict, the innocent one must be scored exactly as when it runs alone, and
afterwards no process of this test run's sandbox uids may be left (`ps -U` is empty).
"""

from __future__ import annotations

import concurrent.futures
import subprocess
import textwrap
import time
from collections.abc import Callable, Iterator

import pytest

import grader
from grader.limits import Limits
from tests.grader.graderkit import BASELINE_ACCURACY, FAST, zip_bytes
from tests.support import sandbox as test_sandbox

pytestmark = pytest.mark.sandbox

#: the hostile runs get a little longer than FAST: they must be graded *while* the neighbour runs
HOSTILE = Limits(**{**FAST.__dict__, "wall_seconds": 20, "cpu_seconds": 4})
#: the innocent neighbour: FAST, with room for a loaded machine (it must be *scored*, not rushed)
INNOCENT = Limits(**{**FAST.__dict__, "wall_seconds": 60, "cpu_seconds": 30})
#: memory attacks: a smaller budget, so reaching it is quick even where page faults are slow
MEMORY = Limits(**{**HOSTILE.__dict__, "memory_bytes": 512 * 1024**2})
UIDS = [test_sandbox.UID_FIRST + i for i in range(test_sandbox.UID_COUNT)]


def slot_processes() -> list[str]:
    """`ps` for every uid of this test run's slots: one line per process still alive."""
    result = subprocess.run(["ps", "-o", "pid=,uid=,stat=,args=", "-U", ",".join(map(str, UIDS))],
                            capture_output=True, text=True, timeout=30)
    # a zombie runs nothing and holds nothing: it only waits for the host's init to reap it
    return [line for line in result.stdout.splitlines() if not line.split()[2].startswith("Z")]


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the hostile run never reached its attack"
        time.sleep(0.1)


def predict_py(body: str) -> str:
    inner = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    return f"import numpy as np\n\ndef predict(images):\n{inner}\n"


@pytest.fixture
def neighbours(baseline_zip: bytes) -> Iterator[Callable[..., tuple[grader.Report, grader.Report]]]:
    """Grade a hostile package, then (once `ready()` holds) the baseline beside it."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)

    def run(code: str, ready: Callable[[], bool], limits: Limits = HOSTILE,
            config: dict | None = None) -> tuple[grader.Report, grader.Report]:
        hostile = pool.submit(grader.grade, "mnist", assignment="6-2", limits=limits,
                              files={"pkg.zip": zip_bytes({"predict.py": code})}, config=config or {})
        wait_until(lambda: ready() or hostile.done())
        innocent = pool.submit(grader.grade, "mnist", assignment="6-2", limits=INNOCENT,
                               files={"lenet.zip": baseline_zip})
        return hostile.result(timeout=120), innocent.result(timeout=120)

    assert slot_processes() == []
    yield run
    pool.shutdown(wait=True)
    assert slot_processes() == [], "processes of the sandbox outlived their run"


def assert_innocent(report: grader.Report) -> None:
    assert report.verdict == "accepted", report
    assert report.score == pytest.approx(BASELINE_ACCURACY)


def test_ptrace_of_pid_1_and_parked_processes(neighbours) -> None:
    """The old escape: PTRACE_SEIZE the sandbox's init, then park processes that outlive the
    verdict and eat the shared process budget. Now ptrace is refused, the parked processes die
    with the run's cgroup, and they only ever counted against their own slot's uid."""
    code = predict_py("""
        import ctypes, os, sys, time
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.ptrace(0x4206, 1, 0, 0) != 0:   # PTRACE_SEIZE pid 1
            print("ptrace refused, errno", ctypes.get_errno())
        parked = 0
        while parked < 200:
            try:
                if os.fork() == 0:
                    os.setsid()
                    while True:
                        time.sleep(100)
            except OSError:
                break
            parked += 1
        print("parked", parked, flush=True)
        time.sleep(4)    # the neighbour is graded now
        return np.zeros(len(images), dtype=np.int64)
    """)
    hostile, innocent = neighbours(code, ready=lambda: len(slot_processes()) >= 20,
                                   config={"min_accuracy": 0.5})
    assert hostile.verdict == "wrong", hostile
    assert "ptrace refused, errno 1" in hostile.log
    assert "parked" in hostile.log
    assert_innocent(innocent)


def test_memfds_are_charged_to_the_run(neighbours) -> None:
    """80 memfds of 64 MiB raised the host's shared memory by 5 GiB; now their pages count
    against the run's memory cgroup, which ends the run at its limit, and go when it ends."""
    code = predict_py("""
        import os
        fds = []
        for _ in range(200):   # each as large as RLIMIT_FSIZE allows: 1.6 GiB together
            fd = os.memfd_create("hoard")
            os.pwrite(fd, b"x" * (8 << 20), 0)
            fds.append(fd)
        print("held", len(fds) * 8, "MiB")
        return np.zeros(len(images), dtype=np.int64)
    """)
    hostile, innocent = neighbours(code, ready=lambda: True, limits=MEMORY)
    assert hostile.verdict == "memory_limit", hostile
    assert "held" not in hostile.log
    assert_innocent(innocent)


def test_memory_of_all_processes_counts_together(neighbours) -> None:
    """Three children each under the per-process limit held 4.9 GiB in one grading before."""
    code = predict_py("""
        import os, time
        children = []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                hoard = np.ones(200 << 17, dtype=np.float64)   # 200 MiB each, under RLIMIT_AS
                time.sleep(5)
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
        return np.zeros(len(images), dtype=np.int64)
    """)
    hostile, innocent = neighbours(code, ready=lambda: True, limits=MEMORY)
    assert hostile.verdict == "memory_limit", hostile
    assert_innocent(innocent)


def test_cpu_hogs_share_one_quota(neighbours) -> None:
    """Sixteen busy processes doubled a neighbour's time; now they share the run's CPU quota and
    its CPU-time budget, and the run ends at that budget."""
    code = predict_py("""
        import os
        for _ in range(16):
            if os.fork() == 0:
                while True:
                    pass
        while True:
            pass
    """)
    hostile, innocent = neighbours(code, ready=lambda: len(slot_processes()) >= 10)
    assert hostile.verdict == "time_limit", hostile
    assert "CPU" in hostile.messages["en"]
    cpu, wall = hostile.detail["cpu_seconds"], hostile.detail["wall_seconds"]
    # seventeen spinning processes, yet no more CPU than the quota (one CPU) allows over the run
    assert cpu <= HOSTILE.cpus * wall * 1.15 + 0.5, hostile.detail
    assert_innocent(innocent)
