"""Attacks on the *other* sandboxes of the machine, each next to an innocent grading.

Every hostile package is graded at the same time as the baseline package: the hostile one must
end with a clear verdict, the innocent one must be scored exactly as when it runs alone, and
afterwards no process of this test run's sandbox uids may be left (`ps -U` is empty).

Each attack runs twice: in cold sandboxes, and in warm ones (grader/sandbox/warm.py: started
ahead of need, then handed the package). In the warm case both gradings must have run every one
of their runs in a warm sandbox (a hostile one may end after its first run), and stopping the pools must leave no process behind.
"""

from __future__ import annotations

import concurrent.futures
import subprocess
import textwrap
import time
from collections.abc import Callable, Iterator

import pytest

import grader
from grader.datasets import DEMO_DIR, load_split
from grader.limits import Limits
from grader.sandbox import configured, health, warm
from tests.grader.graderkit import BASELINE_ACCURACY, FAST, zip_bytes
from tests.support import sandbox as test_sandbox

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]  # attack replays on the real sandbox

#: the hostile runs get a little longer than FAST: they must be graded *while* the neighbour runs
HOSTILE = Limits(**{**FAST.__dict__, "wall_seconds": 20, "cpu_seconds": 4})
#: the innocent neighbour: FAST, with room for a loaded machine (it must be *scored*, not rushed)
INNOCENT = Limits(**{**FAST.__dict__, "wall_seconds": 60, "cpu_seconds": 30})
#: memory attacks: a smaller budget, so reaching it is quick even where page faults are slow
MEMORY = Limits(**{**HOSTILE.__dict__, "memory_bytes": 512 * 1024**2})
UIDS = [test_sandbox.UID_FIRST + i for i in range(test_sandbox.UID_COUNT)]


def slot_processes(idle: frozenset[int] = frozenset()) -> list[str]:
    """`ps` for every uid of this test run's slots: one line per process still alive (those of
    the `idle` uids, warm sandboxes still waiting for a run, left out)."""
    result = subprocess.run(["ps", "-o", "pid=,uid=,stat=,args=", "-U", ",".join(map(str, UIDS))],
                            capture_output=True, text=True, timeout=30)
    # a zombie runs nothing and holds nothing: it only waits for the host's init to reap it
    return [line for line in result.stdout.splitlines()
            if not line.split()[2].startswith("Z") and int(line.split()[1]) not in idle]


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the hostile run never reached its attack"
        time.sleep(0.1)


def predict_py(body: str) -> str:
    inner = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    return f"import numpy as np\n\ndef predict(images):\n{inner}\n    return np.zeros(len(images), dtype=np.int64)\n"


@pytest.fixture(params=["cold", "warm"])
def neighbours(request: pytest.FixtureRequest,
               baseline_zip: bytes) -> Iterator[Callable[..., tuple[grader.Report, grader.Report]]]:
    """Grade a hostile package, then (once `ready()` holds) the baseline beside it."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    pools: list[warm.WarmPool] = []

    def prepare(*limits: Limits) -> None:
        if request.param == "warm":  # both gradings' runs (sample and hidden) find a warm sandbox
            pools.extend(warm_pools(*limits))

    def run(code: str, ready: Callable[[], bool], limits: Limits = HOSTILE,
            config: dict | None = None) -> tuple[grader.Report, grader.Report]:
        prepare(limits, INNOCENT)
        hostile = pool.submit(grader.grade, "mnist", assignment="6-2", limits=limits,
                              files={"pkg.zip": zip_bytes({"predict.py": code})}, config=config or {})
        wait_until(lambda: ready() or hostile.done())
        innocent = pool.submit(grader.grade, "mnist", assignment="6-2", limits=INNOCENT,
                               files={"lenet.zip": baseline_zip})
        return hostile.result(timeout=120), innocent.result(timeout=120)

    run.prepare = prepare  # type: ignore[attr-defined]  # for a test that grades on its own
    assert slot_processes() == []
    health.reset()
    try:
        yield run
        pool.shutdown(wait=True)
        for used in pools:
            assert used.stats.cold == 0 and used.stats.used >= 1, used.stats
    finally:
        warm.stop()
    assert slot_processes() == [], "processes of the sandbox outlived their run"
    # no attack counts as a set-up failure (three in a row take a worker out of service), not
    # even one hidden by a later success (a warm hand-off that failed goes cold)
    assert health.current().last_error == "", health.current()


def warm_pools(*limits: Limits) -> list[warm.WarmPool]:
    settings = warm.WarmSettings(size=2, imports=("numpy",), wait_seconds=120)
    pools = [warm.start(settings, each, configured()) for each in limits]
    assert all(p is not None and p.wait_ready(timeout=120) for p in pools), "no warm sandbox started"
    return [p for p in pools if p is not None]


def idle_uids() -> frozenset[int]:
    """Uids of warm sandboxes that are still waiting: not the hostile run's processes."""
    return frozenset(uid for p in warm.pools() for uid in p.idle_uids())


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
    hostile, innocent = neighbours(code, ready=lambda: len(slot_processes(idle_uids())) >= 20,
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
    hostile, innocent = neighbours(code, ready=lambda: len(slot_processes(idle_uids())) >= 10)
    assert hostile.verdict == "time_limit", hostile
    assert "CPU" in hostile.messages["en"]
    cpu, wall = hostile.detail["cpu_seconds"], hostile.detail["wall_seconds"]
    # seventeen spinning processes, yet no more CPU than the quota (one CPU) allows over the run
    assert cpu <= HOSTILE.cpus * wall * 1.15 + 0.5, hostile.detail
    assert_innocent(innocent)


def test_a_lying_npy_header_is_bad_output(neighbours) -> None:
    """128 bytes whose header claims 2**40 float64s made the grader allocate 8 TiB and die."""
    code = predict_py("""
        import os
        header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }"
        header = header.ljust(117) + "\\n"
        with open("/camp/out/predictions.npy", "wb") as out:
            out.write(b"\\x93NUMPY\\x01\\x00" + len(header).to_bytes(2, "little") + header.encode())
        os._exit(0)   # before the runner could write real predictions
    """)
    hostile, innocent = neighbours(code, ready=lambda: True)
    assert hostile.verdict == "bad_output", hostile
    assert "header claims" in hostile.messages["en"]
    assert_innocent(innocent)


def test_a_deep_zip_is_bad_package(neighbours, baseline_zip: bytes) -> None:
    """A 1000-level directory path raised RecursionError in the unpacker."""
    deep = "/".join(["d"] * 1000) + "/x.txt"
    package = zip_bytes({"predict.py": predict_py("return np.zeros(len(images), dtype=np.int64)"), deep: "x"})
    neighbours.prepare(INNOCENT)  # the hostile package never reaches a sandbox
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    hostile = pool.submit(grader.grade, "mnist", assignment="6-2", files={"deep.zip": package}, limits=HOSTILE)
    innocent = pool.submit(grader.grade, "mnist", assignment="6-2", files={"lenet.zip": baseline_zip},
                           limits=INNOCENT)
    report = hostile.result(timeout=120)
    assert report.verdict == "bad_package", report
    assert "too deep" in report.messages["en"] and "/tmp" not in report.messages["en"]
    assert_innocent(innocent.result(timeout=120))
    pool.shutdown()


def test_images_printed_to_the_log_stay_with_the_staff(neighbours) -> None:
    """Hidden digits printed to stdout (or smuggled in an exception's class name) came back in
    the student's log; now the student sees the run on public sample digits and a summary."""
    code = predict_py("""
        print("DIGITS", images[:4, 12:16].tobytes().hex())   # the middle rows: ink, not background
        name = "Leak" + images[0, 12:16].tobytes().hex()[:90]
        if len(images) > 100:
            raise type(name, (Exception,), {})(images[:4, 12:16].tobytes().hex())
    """)
    hostile, innocent = neighbours(code, ready=lambda: True)
    hidden = load_split(DEMO_DIR, "test")[0][:4, 12:16].tobytes().hex()
    public = load_split(DEMO_DIR, "train")[0][:4, 12:16].tobytes().hex()
    assert hostile.verdict == "runtime_error", hostile
    assert hidden not in hostile.log and hidden[:40] not in hostile.log
    assert hidden[:40] not in str(hostile.messages) and "Leak" not in str(hostile.messages)
    assert public in hostile.log                       # the sample run's output is the student's
    assert "run on the hidden test digits" in hostile.log and "Exception" in hostile.log
    assert hidden in hostile.staff_log                 # the staff see everything
    assert_innocent(innocent)


def test_nul_bytes_and_invalid_utf8_never_reach_the_log(neighbours) -> None:
    code = predict_py("""
        import sys
        sys.stdout.buffer.write(b"before\\x00\\x00\\xff\\xfe\\xc3(after\\n" * 50)
        sys.stdout.flush()
    """)
    hostile, innocent = neighbours(code, ready=lambda: True)
    assert hostile.verdict == "accepted", hostile     # printing garbage is allowed, and harmless
    for log in (hostile.log, hostile.staff_log):
        assert "before(after" in log and "\\x00" not in log
        log.encode("utf-8")  # valid UTF-8 throughout (no lone surrogates)
    assert_innocent(innocent)


def test_forged_status_lines_change_nothing(neighbours) -> None:
    """The status pipe used to stay open in the program: a line written to it changed which
    failure verdict a run got. Now the program has no descriptor of it, the bootstrap (pid 1)
    cannot be read or signalled, and lines without the per-run secret are ignored."""
    code = predict_py("""
        import os, signal
        forged = b'ready\\n{"error": "MemoryError"}\\n{"exit": 1, "signal": null, "error": "MemoryError"}\\n'
        written = 0
        for fd in range(3, 64):
            try:
                os.write(fd, forged)
                written += 1
            except OSError:
                pass
        for path in ("/proc/1/fd", "/proc/1/mem", "/proc/1/environ"):
            try:
                os.listdir(path) if path.endswith("fd") else open(path, "rb").read(16)
                print("readable:", path)
            except OSError:
                pass
        os.kill(1, signal.SIGKILL)
        print("forged into", written, "descriptors")
    """)
    hostile, innocent = neighbours(code, ready=lambda: True)
    assert hostile.verdict == "accepted", hostile     # it printed a score-free lie, nothing more
    assert "readable:" not in hostile.log
    assert_innocent(innocent)


def test_without_cgroups_parked_processes_die_by_uid(neighbours) -> None:
    """The fallback on a host without cgroups: the slot's uid still finds (and kills) every
    process the run left, and the run's budgets are still its own uid's."""
    from dataclasses import replace

    from grader.sandbox import configure

    code = predict_py("""
        import os, time
        for _ in range(10):
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    while True:
                        time.sleep(100)
                os._exit(0)
        print("parked", flush=True)
    """)
    before = configured()
    configure(replace(before, cgroups="none"))
    try:
        hostile, innocent = neighbours(code, ready=lambda: True)
    finally:
        configure(before)
    assert hostile.verdict == "accepted" and "parked" in hostile.log, hostile
    assert hostile.detail["cpu_seconds"] is None  # no cgroup measured it
    assert_innocent(innocent)
