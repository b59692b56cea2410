"""Warm sandboxes (grader/sandbox/warm.py): the same sandbox as a cold one, used exactly once.

Each test starts its own pool with this test run's slots, runs real bubblewrap, and stops the
pool; afterwards no process of the run's slot uids may be left (`ps -U`), no slot held and no
run cgroup left.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from grader.limits import Limits
from grader.sandbox import command as sandbox_command
from grader.sandbox import configured, processes_of, run_python, warm, workspace
from grader.sandbox import process as sandbox_process
from grader.sandbox.slots import kill_uid
from tests.grader.graderkit import FAST, run_code
from tests.support import sandbox as test_sandbox

pytestmark = pytest.mark.sandbox

UIDS = [test_sandbox.UID_FIRST + i for i in range(test_sandbox.UID_COUNT)]
NUMPY = warm.WarmSettings(size=1, imports=("numpy",), wait_seconds=120)


def slot_processes() -> list[str]:
    result = subprocess.run(["ps", "-o", "pid=,uid=,stat=,args=", "-U", ",".join(map(str, UIDS))],
                            capture_output=True, text=True, timeout=30)
    return [line for line in result.stdout.splitlines() if not line.split()[2].startswith("Z")]


def run_cgroups() -> list[Path]:
    return [p for p in Path("/sys/fs/cgroup").glob(f"*/**/{test_sandbox.CGROUP_NAME}/run-*") if p.is_dir()]


@pytest.fixture(autouse=True)
def _nothing_left() -> Iterator[None]:
    assert slot_processes() == []
    try:
        yield
    finally:
        warm.stop()
    assert slot_processes() == [], "a warm sandbox outlived its pool"
    assert run_cgroups() == []


def start(settings: warm.WarmSettings = NUMPY, limits: Limits = FAST) -> warm.WarmPool:
    pool = warm.start(settings, limits, configured())
    assert pool is not None and pool.wait_ready(timeout=120), "the pool never warmed up"
    return pool


def reported(outcome: sandbox_process.Outcome) -> dict:
    for line in reversed(outcome.log.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError(f"no JSON report in log: {outcome.log[-2000:]}")


PROBE = """
    import json, os, resource, sys
    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return line.split(":", 1)[1].strip()
    limits = {name: resource.getrlimit(getattr(resource, name)) for name in
              ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE", "RLIMIT_DATA")}
    cpu = resource.getrlimit(resource.RLIMIT_CPU)
    used = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "env": dict(os.environ),
        "cwd": os.getcwd(), "root": sorted(os.listdir("/")), "camp": sorted(os.listdir("/camp")),
        "files": sorted(os.listdir(".")), "tmp": sorted(os.listdir("/tmp")), "argv": sys.argv,
        "in": sorted(os.listdir("/camp/in")), "limits": limits,
        "cpu_left": cpu[0] - (used.ru_utime + used.ru_stime),
        "seccomp": status("Seccomp"), "nnp": status("NoNewPrivs"), "caps": status("CapEff"),
        "cgroup": open("/proc/self/cgroup").read(), "hostname": os.uname().nodename,
        "sizes": {p: os.statvfs(p).f_blocks * os.statvfs(p).f_frsize for p in ("/box", "/tmp", "/dev/shm")},
    }))
"""


def test_a_warm_sandbox_looks_like_a_cold_one() -> None:
    """What a program can see of its sandbox is the same warm and cold: identity, environment,
    file system, rlimits, seccomp, capabilities; and the CPU time left counts from the hand-off."""
    cold = run_code(PROBE, package={"weights.txt": "w"}, args=("a", "b"))
    pool = start()
    hot = run_code(PROBE, package={"weights.txt": "w"}, args=("a", "b"))
    assert cold.ok and hot.ok, (cold.log, hot.log)
    assert not cold.warm and hot.warm and pool.stats.used == 1
    seen_cold, seen_warm = reported(cold), reported(hot)
    cpu_cold, cpu_warm = seen_cold.pop("cpu_left"), seen_warm.pop("cpu_left")
    assert seen_warm == seen_cold
    assert seen_warm["files"] == ["weights.txt"] and seen_warm["argv"] == ["/camp/main.py", "a", "b"]
    assert seen_warm["seccomp"] == "2" and seen_warm["caps"] == "0000000000000000"
    # the program gets the whole budget from the hand-off, not what the imports left of it
    assert FAST.cpu_seconds - 0.5 <= cpu_warm <= FAST.cpu_seconds + 1 and cpu_cold <= FAST.cpu_seconds


def test_each_warm_sandbox_serves_one_run() -> None:
    """A second run never finds what the first one left: files in the work dir, /tmp and
    /dev/shm, module state, environment variables, processes."""
    pool = start(replace(NUMPY, size=2))
    first = run_code("""
        import os, subprocess, sys, numpy
        for path in ("/box/left", "/tmp/left", "/dev/shm/left"):
            open(path, "w").write("first student")
        numpy.camp_left = "first student"
        sys.modules["camp_left"] = numpy
        os.environ["CAMP_LEFT"] = "first student"
        if os.fork() == 0:
            os.setsid()
            import time
            time.sleep(600)
        print("planted")
    """)
    assert first.ok and first.warm and "planted" in first.log, first.log
    second = run_code("""
        import json, os, sys, numpy
        print(json.dumps({
            "files": [p for p in ("/box/left", "/tmp/left", "/dev/shm/left") if os.path.exists(p)],
            "module": hasattr(numpy, "camp_left") or "camp_left" in sys.modules,
            "env": "CAMP_LEFT" in os.environ,
            "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        }))
    """)
    assert second.ok and second.warm, second.log
    seen = reported(second)
    assert seen["files"] == [] and not seen["module"] and not seen["env"]
    assert len(seen["processes"]) <= 2, seen  # pid 1 (the bootstrap) and the program itself
    assert pool.stats.used == 2 and pool.stats.cold == 0


@pytest.mark.slow  # waits longer than a wall limit
def test_the_wall_clock_starts_at_the_hand_off() -> None:
    """A sandbox that waited in the pool longer than the wall limit still gets its whole time."""
    limits = replace(FAST, wall_seconds=2)
    pool = start(limits=limits)
    time.sleep(2.5)
    outcome = run_code("import time; time.sleep(0.5); print('done')", limits=limits)
    assert outcome.warm and outcome.ok and not outcome.timed_out, outcome
    assert pool.stats.used == 1


@pytest.mark.slow  # waits out a CPU limit
def test_cpu_limit_is_the_runs_own() -> None:
    """A busy loop is stopped at `cpu_seconds` of its own, counted from the hand-off; the CPU
    time of the imports is not reported as the run's. (A long wall limit: on a busy machine the
    loop gets a fraction of a CPU.)"""
    limits = replace(FAST, wall_seconds=120, cpu_seconds=2)
    start(limits=limits)
    outcome = run_code("while True: pass", limits=limits)
    assert outcome.warm and outcome.timed_out and outcome.cpu_exceeded, outcome
    assert outcome.cpu_seconds is not None and 2 <= outcome.cpu_seconds < 2 + 1.5, outcome


def test_the_files_arrive_only_at_the_hand_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warm sandbox started before the package existed: its processes' command lines hold no
    package path, and secrets put in the grader's environment afterwards never reach it."""
    pool = start()
    secret = "camp-test-secret-" + os.urandom(8).hex()
    monkeypatch.setenv("CAMP_SECRET_KEY", secret)
    outcome = run_code("""
        import json, os
        seen = []
        for pid in os.listdir("/proc"):
            for name in ("cmdline", "environ"):
                try:
                    seen.append(open(f"/proc/{pid}/{name}", "rb").read().decode(errors="replace"))
                except OSError:
                    pass
        print(json.dumps({"seen": seen, "env": dict(os.environ), "weights": open("weights.txt").read()}))
    """, package={"weights.txt": secret[:8]})
    assert outcome.warm and outcome.ok, outcome.log
    seen = reported(outcome)
    assert seen["weights"] == secret[:8]
    assert secret not in json.dumps(seen["seen"]) and secret not in json.dumps(seen["env"])
    assert not any("camp-grade-" in text or "camp-warm-" in text for text in seen["seen"])
    assert pool.stats.used == 1


def test_the_bound_host_directories_stay_the_graders(tmp_path: Path) -> None:
    """The package, input and output directories of a warm sandbox are host directories bound
    in at start: the program can write its output file and nothing else there."""
    start()
    with workspace() as ws:
        script, output = ws / "main.py", ws / "out.txt"
        script.write_text(textwrap.dedent("""
            import json, os
            tries = {"create out": lambda: open("/camp/out/x", "w"),
                     "chmod out": lambda: os.chmod("/camp/out", 0o777),
                     "symlink out": lambda: os.symlink("/etc/passwd", "/camp/out/y"),
                     "remove output": lambda: os.remove("/camp/out/out.txt"),
                     "create in": lambda: open("/camp/in/x", "w"),
                     "create pkg": lambda: open("/camp/pkg/x", "w"),
                     "write main": lambda: open("/camp/main.py", "a")}
            results = {}
            for name, attempt in tries.items():
                try:
                    attempt()
                    results[name] = "done"
                except OSError as exc:
                    results[name] = exc.strerror
            open("/camp/out/out.txt", "w").write("the output")
            print(json.dumps(results))
        """))
        outcome = run_python(script, limits=FAST, package=None, outputs={"out.txt": output})
        assert outcome.warm and outcome.ok, outcome.log
        assert "done" not in reported(outcome).values(), outcome.log
        assert output.read_text() == "the output"


def test_output_files_are_the_graders_again_after_the_run() -> None:
    """The program owns its output file while it runs (it must write it) and could leave it
    set-uid to its slot's uid and writable by everyone, with contents it chose, in the grader's
    workspace until the grading ends. Cold and warm, the file is root's and 0600 once the run
    is over."""
    code = """
        import os
        open("/camp/out/out.bin", "wb").write(b"#!/bin/sh\\n")
        os.chmod("/camp/out/out.bin", 0o6777)
        print(oct(os.stat("/camp/out/out.bin").st_mode))
    """
    for warm_pool in (False, True):
        if warm_pool:
            start()
        with workspace() as ws:
            script, output = ws / "main.py", ws / "out.bin"
            script.write_text(textwrap.dedent(code))
            outcome = run_python(script, limits=FAST, outputs={"out.bin": output})
            assert outcome.ok and outcome.warm == warm_pool and "0o106777" in outcome.log, outcome
            mode = output.stat()
            assert (mode.st_uid, mode.st_gid, oct(mode.st_mode)) == (0, 0, "0o100600"), mode


def test_a_dead_warm_sandbox_is_replaced_and_the_run_still_happens() -> None:
    pool = start()
    for uid in pool.idle_uids():
        assert kill_uid(uid)  # SIGKILL to every process of that slot's uid
    outcome = run_code("print('ran')")
    assert outcome.ok and "ran" in outcome.log
    assert pool.stats.discarded == 1, pool.stats


def test_a_failing_warm_up_falls_back_to_cold() -> None:
    pool = warm.start(replace(NUMPY, imports=("camp_no_such_module",), wait_seconds=0), FAST, configured())
    assert pool is not None
    deadline = time.monotonic() + 60
    while pool.stats.failed == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    outcome = run_code("print('ran')")
    assert outcome.ok and not outcome.warm and "ran" in outcome.log
    assert pool.stats.failed >= 1 and pool.stats.used == 0


def test_the_memory_cap_limits_the_waiting_sandboxes() -> None:
    """`memory_bytes` caps what the waiting sandboxes hold together (their cgroups' usage): with
    a cap below two sandboxes, a pool of three keeps one and asks for no more."""
    pool = warm.start(replace(NUMPY, size=3, memory_bytes=1), FAST, configured())
    assert pool is not None and pool.wait_ready(1, timeout=120)
    [waiting] = pool._ready
    assert waiting.memory_bytes > 0  # measured from its cgroup after the warm-up
    with pool._cond:
        assert not pool._wanted() and not pool._warming
    assert pool.stats.started == 1


def test_no_warm_up_starts_during_a_hand_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Starting the next sandbox forks this process: it waits while a run is being handed its
    sandbox, and begins once the hand-off is over (counted: the pool's warming list)."""
    monkeypatch.setattr(warm._HandOffs, "PATIENCE", 60.0)
    pool = start()
    end = warm._hand_offs.begin()
    try:
        taken = pool.take()
        assert taken is not None
        time.sleep(0.5)  # the refill thread woke when the sandbox was taken
        with pool._cond:
            assert pool._warming == [] and pool._ready == []
    finally:
        end()
    assert pool.wait_ready(timeout=120), "the refill never began after the hand-off"
    taken.discard()
    assert pool.stats.started == 2


def test_other_limits_run_cold() -> None:
    pool = start()
    outcome = run_code("print('ran')", limits=replace(FAST, wall_seconds=5))
    assert outcome.ok and not outcome.warm and pool.stats.used == 0


def test_stopping_the_pool_leaves_nothing() -> None:
    """Waiting sandboxes hold processes, slots and cgroups; `stop` ends all of them."""
    start(replace(NUMPY, size=3))
    assert slot_processes() != [] and run_cgroups() != []
    warm.stop()
    assert slot_processes() == [] and run_cgroups() == []
    lock_dir = configured().lock_dir
    for uid in UIDS:  # every slot is free again
        fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)


@pytest.mark.slow
def test_gpu_warm_up_creates_cuda_only_in_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a GPU asked for, the warm child (the process that will run the program) imports
    Paddle and would create its CUDA context there; pid 1 (the bootstrap) and the grader never
    load Paddle. This machine has no GPU and a CPU build of Paddle: the GPU code path runs (the
    device handed in, CUDA_VISIBLE_DEVICES set, RLIMIT_DATA instead of RLIMIT_AS) and creates
    no context; docs/grading.md says what was run on a real GPU."""
    monkeypatch.setattr(sandbox_process, "gpu_devices", lambda: ["/dev/null"])
    monkeypatch.setattr(sandbox_command, "gpu_devices", lambda: ["/dev/null"])
    limits = Limits(gpu="0")
    pool = start(warm.WarmSettings(size=1, imports=("numpy", "paddle"), wait_seconds=300), limits)
    [uid] = pool.idle_uids()
    loaders = [pid for pid in processes_of(uid) if "libpaddle" in Path(f"/proc/{pid}/maps").read_text()]
    assert len(loaders) == 1, "exactly one process of the sandbox (the warm child) loaded Paddle"
    outcome = run_code("""
        import json, os, resource, sys
        print(json.dumps({"cuda": os.environ["CUDA_VISIBLE_DEVICES"], "paddle": "paddle" in sys.modules,
                          "data": resource.getrlimit(resource.RLIMIT_DATA)[0],
                          "as": resource.getrlimit(resource.RLIMIT_AS)[0]}))
    """, limits=limits)
    assert outcome.warm and outcome.ok and outcome.gpu, outcome.log
    seen = reported(outcome)
    assert seen == {"cuda": "0", "paddle": True, "data": limits.memory_bytes, "as": resource.RLIM_INFINITY}
    assert _grader_never_imports_paddle()


def _grader_never_imports_paddle() -> bool:
    """In a fresh interpreter: a warm pool with Paddle warm-up leaves the grader without Paddle."""
    code = ("import sys; from grader.sandbox import warm; "
            "print('paddle' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return result.stdout.strip() == "False"


def test_waiting_sandboxes_yield_the_cpu_to_runs() -> None:
    """A warm-up competes with gradings on the same cores: it runs (and waits) at the lowest
    CPU weight of the run cgroups; the hand-off gives it the default weight every cold run has."""
    pool = start()
    [sandbox] = pool._ready
    cgroup = sandbox.box.cgroup
    if cgroup is None or not ({"cpu", "unified"} & set(cgroup.dirs)):
        pytest.skip("no cpu controller on this host")  # the weight is a nicety; limits hold anyway
    weight = cgroup.dirs.get("cpu", cgroup.dirs.get("unified"))
    assert weight is not None
    name = "cpu.shares" if cgroup.version == "v1" else "cpu.weight"
    assert (weight / name).read_text().strip() == ("2" if cgroup.version == "v1" else "1")
    outcome = run_code("print('ran')")
    assert outcome.warm and outcome.ok


@pytest.mark.slow
def test_a_paddle_package_is_graded_in_warm_sandboxes(tmp_path: Path) -> None:
    """The Paddle LeNet (examples/mnist-lenet-paddle, built from the committed weights) scores the
    baseline's accuracy when both of its runs find Paddle already imported."""
    import grader
    from tests.grader.graderkit import BASELINE_ACCURACY, ROOT

    out = tmp_path / "paddle.zip"
    built = subprocess.run([sys.executable, str(ROOT / "examples" / "mnist-lenet-paddle" / "package.py"), str(out)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    limits = Limits()
    pool = start(warm.WarmSettings(size=2, imports=("numpy", "paddle"), wait_seconds=300), limits)
    report = grader.grade("mnist", assignment="6-2", files={"pkg.zip": out.read_bytes()}, limits=limits)
    assert report.verdict == "accepted" and report.score == pytest.approx(BASELINE_ACCURACY), report
    assert pool.stats.used == 2 and pool.stats.cold == 0
