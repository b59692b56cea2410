"""The sandbox itself, exercised with real bubblewrap: what student code can see and do.

Each test runs a small script through `run_python` and checks, from outside, what the script
reported and what it could not change. Hostile whole-package runs are in test_mnist_hostile.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.limits import Limits
from grader.report import InfrastructureError
from grader.sandbox import SANDBOX_UID, check_reachable, failure_report, run_python, runtime, workspace
from grader.sandbox import process as sandbox_process
from grader.sandbox.runtime import Runtime
from tests.grader.graderkit import FAST, run_code

pytestmark = pytest.mark.sandbox


def reported(outcome) -> dict:
    """The last line of the log that parses as JSON: what the script found out."""
    for line in reversed(outcome.log.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError(f"no JSON report in log: {outcome.log[-2000:]}")


def test_identity_environment_and_view():
    outcome = run_code("""
        import json, os
        print(json.dumps({"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
                          "env": dict(os.environ), "cwd": os.getcwd(), "root": sorted(os.listdir("/")),
                          "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
                          "files": sorted(os.listdir("."))}))
    """, package={"weights.txt": "w"})
    assert outcome.ok, outcome.log
    seen = reported(outcome)
    assert seen["uid"] == SANDBOX_UID and seen["gid"] == SANDBOX_UID and seen["groups"] == []
    assert set(seen["env"]) <= {"PATH", "HOME", "LANG", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES", "PWD"}
    assert seen["cwd"] == "/box" and seen["files"] == ["weights.txt"]
    bound = {runtime().inside(p).split("/")[1] for p in runtime().ro_binds}
    assert seen["root"] == sorted({"bin", "box", "camp", "dev", "lib", "lib64", "proc", "tmp", *bound})
    assert max(seen["pids"]) < 10  # its own pid namespace: no host process is visible


def test_secrets_in_the_parent_environment_are_invisible(monkeypatch):
    secret = "camp-test-secret-" + os.urandom(8).hex()
    monkeypatch.setenv("CAMP_SECRET_KEY", secret)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://camp:{secret}@db/camp")
    outcome = run_code("""
        import json, os
        found, scanned = [], 0
        if "CAMP_SECRET_KEY" in os.environ or "DATABASE_URL" in os.environ:
            found.append("os.environ")
        for pid in os.listdir("/proc"):
            for name in ("environ", "cmdline"):
                try:
                    data = open(f"/proc/{pid}/{name}", "rb").read()
                    scanned += 1
                except OSError:
                    continue
                if b"CAMP_SECRET_KEY" in data or b"DATABASE_URL" in data:
                    found.append(f"/proc/{pid}/{name}")
        print(json.dumps({"found": found, "scanned": scanned}))
    """)
    seen = reported(outcome)
    assert seen["found"] == [] and seen["scanned"] >= 4
    assert secret not in outcome.log


def test_no_network_not_even_loopback():
    """A real server listens on the host's loopback; the sandbox must not reach it, nor DNS."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        host_port = server.getsockname()[1]
        outcome = run_code(f"""
            import json, socket
            results = {{}}
            for port in (6379, 5432, 8000, {host_port}):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    results[port] = "connected"
                except OSError as exc:
                    results[port] = type(exc).__name__
            for name in ("example.com", "pypi.org"):
                try:
                    socket.getaddrinfo(name, 443)
                    results[name] = "resolved"
                except OSError as exc:
                    results[name] = type(exc).__name__
            print(json.dumps(results))
        """)
    results = reported(outcome)
    assert len(results) == 6
    assert not {v for v in results.values() if v in ("connected", "resolved")}, results


def test_writes_outside_the_work_dir_fail(tmp_path):
    venv_file = Path(sys.prefix) / "pyvenv.cfg"
    before = venv_file.read_bytes()
    outcome = run_code(f"""
        import json
        results = {{}}
        for path in ("/evil", "/usr/evil", "/etc/evil", "/camp/evil", "/camp/main.py",
                     "/camp/bootstrap.py", "{venv_file}", "/proc/evil", "/dev/evil", "../evil"):
            try:
                with open(path, "a") as f:
                    f.write("owned")
                results[path] = "written"
            except OSError as exc:
                results[path] = exc.strerror
        for path in ("/box/ok", "/tmp/ok", "/dev/shm/ok"):
            open(path, "w").write("fine")
            results[path] = "written"
        print(json.dumps(results))
    """)
    results = reported(outcome)
    assert [p for p, r in results.items() if r == "written"] == ["/box/ok", "/tmp/ok", "/dev/shm/ok"]
    assert venv_file.read_bytes() == before


def test_disk_filling_is_capped_by_tmpfs_sizes():
    limits = Limits(**{**FAST.__dict__, "scratch_bytes": 8 * 1024**2, "file_bytes": 4 * 1024**2})
    outcome = run_code("""
        import json
        import os
        chunk, results = b"x" * 65536, {}
        try:  # one file beyond RLIMIT_FSIZE, while there is still room
            with open("/box/huge", "wb") as f:
                f.write(b"y" * (5 * 1024 * 1024))
        except OSError as exc:
            results["huge"] = exc.strerror
        os.remove("/box/huge")
        for where in ("/box", "/tmp", "/dev/shm"):
            written = 0
            try:
                for i in range(100000):
                    with open(f"{where}/fill{i}", "wb") as f:
                        for _ in range(16):
                            f.write(chunk)
                            written += len(chunk)
            except OSError as exc:
                results[where] = [written, exc.strerror]
        print(json.dumps(results))
    """, limits=limits)
    results = reported(outcome)
    for where in ("/box", "/tmp", "/dev/shm"):
        written, error = results[where]
        assert written <= 9 * 1024**2 and error == "No space left on device"
    assert results["huge"] == "File too large"


@pytest.mark.slow  # waits out the time limit
def test_fork_bomb_is_contained_and_the_next_run_works():
    outcome = run_code("""
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """, limits=Limits(**{**FAST.__dict__, "wall_seconds": 3}))
    assert outcome.timed_out
    assert failure_report(outcome, FAST).verdict == "time_limit"
    after = run_code("print('alive')")
    assert after.ok and "alive" in after.log


def test_processes_and_threads_are_limited():
    outcome = run_code("""
        import json, os, threading, time
        started, error = 0, None
        try:
            for _ in range(10000):
                threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
                started += 1
        except RuntimeError as exc:
            error = str(exc)
        children = 0
        try:
            for _ in range(1000):
                if os.fork() == 0:
                    time.sleep(5)
                    os._exit(0)
                children += 1
        except OSError as exc:
            error = error or str(exc)
        print(json.dumps({"threads": started, "children": children, "error": error}))
        os._exit(0)
    """)
    seen = reported(outcome)
    assert seen["threads"] < FAST.processes and seen["children"] < FAST.processes
    assert seen["error"]


def test_killing_everything_it_can_see_harms_only_itself():
    """kill(-1) and killing its parents inside the sandbox; a host process of the same uid lives."""
    sentinel = subprocess.Popen(
        ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups", "sleep", "30"]
    ) if os.geteuid() == 0 else subprocess.Popen(["sleep", "30"])
    try:
        outcome = run_code("""
            import os, signal
            for target in (os.getppid(), 1, -1):
                try:
                    os.kill(target, signal.SIGKILL)
                except OSError as exc:
                    print(target, exc)
            print("still here")
        """)
        assert sentinel.poll() is None, "a host process was killed from inside the sandbox"
        assert outcome.exit_code == 0 and "still here" in outcome.log
    finally:
        sentinel.kill()
        sentinel.wait()


def test_output_flood_is_cut_and_the_log_bounded():
    outcome = run_code("""
        import sys
        while True:
            sys.stdout.write("o" * 4096)
            sys.stderr.write("e" * 4096)
    """)
    assert outcome.flooded and not outcome.timed_out
    assert len(outcome.log.encode()) < FAST.output_bytes + 200
    report = failure_report(outcome, FAST)
    assert report.verdict == "runtime_error" and "too much" in report.messages["en"]


def test_output_in_single_bytes_costs_the_grader_few_reads(monkeypatch):
    """One byte per write(2), a little apart: the supervisor, outside the run's cgroup and CPU
    quota, woke for every byte and spent about as much CPU reading as the program spent writing
    (a second CPU for the run, taken from its neighbours). Now after a read that did not fill a
    chunk the pipe rests: the supervisor reads it at most once per `_TRICKLE_PAUSE` of the run's
    wall time, however the program writes, and the bytes gather in the pipe meanwhile."""
    reads = []
    write = sandbox_process.HeadTail.write

    def counted(self, chunk: bytes) -> None:
        reads.append(len(chunk))
        write(self, chunk)

    monkeypatch.setattr(sandbox_process.HeadTail, "write", counted)
    outcome = run_code("""
        import os, time
        for _ in range(10_000):
            os.write(1, b"x")
            time.sleep(0.0001)
        print("done")
    """, limits=Limits(**{**FAST.__dict__, "wall_seconds": 60, "cpu_seconds": 30}))  # room on a busy machine
    assert outcome.ok and outcome.output_bytes == 10_005, outcome
    # it was one read per byte: 10,000 reads in a second or two
    pause = sandbox_process._TRICKLE_PAUSE
    assert len(reads) <= outcome.wall_seconds / pause + outcome.output_bytes / 65536 + 5, len(reads)


def test_output_written_while_its_pipe_rests_reaches_the_log():
    """The run ends while its output pipe rests after a short read: the drain after the run must
    still read the pipe (it was left out of the selector, and the end of a log was lost: a
    program printing `memfd` and then ` 1` was logged as `memfd`). The two reads of
    `_supervise`, on a pipe of our own: deterministic, no sandbox."""
    import selectors

    read_end, write_end = os.pipe()
    log, status = sandbox_process.HeadTail(FAST.output_bytes), bytearray()
    calls = []

    def finished() -> bool:  # the outer process exits right after the first read
        calls.append(1)
        return len(calls) > 1

    try:
        with selectors.DefaultSelector() as selector, os.fdopen(read_end, "rb", buffering=0) as pipe:
            selector.register(pipe, selectors.EVENT_READ, log)
            os.write(write_end, b"memfd")
            assert sandbox_process._pump(selector, time.monotonic() + 10, status, FAST, lambda: None,
                                         finished, rest=60.0) is None
            os.write(write_end, b" 1\n")
            os.close(write_end)
            write_end = -1
            sandbox_process._pump(selector, time.monotonic() + 10, status, FAST, lambda: None,
                                  lambda: False, rest=0.0)
    finally:
        if write_end >= 0:
            os.close(write_end)
    assert log.text() == "memfd 1\n"


PAGE_CACHE_PAGES = """
        import glob, os
        # the largest file every sandbox can read (the venv's): its page cache is the host's
        files = [p for p in glob.glob("/camp/venv/lib/**/*", recursive=True) if os.path.isfile(p)]
        fd = os.open(max(files, key=os.path.getsize), os.O_RDONLY)
        pages = [os.fstat(fd).st_size // 2 + i * 64 * 4096 for i in range(64)]   # far apart, rarely read
"""


def test_no_page_cache_channel_between_runs():
    """A covert channel from one run to a later one through the host's page cache, without
    timing: the first run empties the cache of a big file of the venv (posix_fadvise
    DONTNEED) and reads the pages whose bits are 1; the second asks, page by page, whether a
    read would wait (preadv2 with RWF_NOWAIT). All 64 bits came through, so a run on the hidden
    digits could hand them to the student's next submission, whose log the student reads. Now
    both calls are refused (and mincore, cachestat tell nothing of files the run cannot write).
    Narrowed, not closed: docs/grading.md, "Not covered" (a page can still be read into the
    cache, once, and found cached by timing or by fault-around and /proc/self/pagemap)."""
    secret = "1011001110001111000011111000001111110000000111111100000000111111"
    wrote = run_code(PAGE_CACHE_PAGES + f"""
        import json
        found = {{}}
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            found["fadvise"] = "done"
        except OSError as exc:
            found["fadvise"] = exc.strerror
        for bit, offset in zip({secret!r}, pages):
            if bit == "1":
                os.pread(fd, 1, offset)
        print(json.dumps(found))
    """)
    read = run_code(PAGE_CACHE_PAGES + """
        import ctypes, json
        bits, errors = "", set()
        for offset in pages:
            try:
                os.preadv(fd, [bytearray(1)], offset, os.RWF_NOWAIT)
                bits += "1"
            except BlockingIOError:
                bits += "0"
            except OSError as exc:
                errors.add(exc.strerror)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        size = os.fstat(fd).st_size
        start = libc.mmap(None, ctypes.c_size_t(size), 1, 1, fd, ctypes.c_long(0))   # PROT_READ, MAP_SHARED
        resident, mincore = ctypes.create_string_buffer(1), ""
        for offset in pages:
            libc.mincore(ctypes.c_void_p(start + offset - offset % 4096), ctypes.c_size_t(4096), resident)
            mincore += str(resident.raw[0] & 1)
        print(json.dumps({"bits": bits, "errors": sorted(errors), "mincore": mincore}))
    """)
    assert wrote.ok and read.ok, (wrote.log, read.log)
    assert reported(wrote)["fadvise"] == "Operation not permitted", wrote.log
    seen = reported(read)
    assert seen["bits"] == "" and seen["errors"] == ["Operation not permitted"], seen
    assert seen["mincore"] == "1" * 64, seen   # the kernel's answer for a file the run cannot write


def test_chatty_but_finite_output_keeps_head_and_tail():
    outcome = run_code("""
        print("FIRST LINE")
        for i in range(20000):
            print(f"line {i}")
        print("LAST LINE")
    """)
    assert outcome.ok
    assert outcome.log.startswith("FIRST LINE") and outcome.log.rstrip().endswith("LAST LINE")
    assert "bytes of output omitted" in outcome.log


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        # each waits out a time limit
        pytest.param("while True: pass", "time_limit", marks=pytest.mark.slow),  # CPU limit (SIGXCPU) first
        pytest.param("import time\ntime.sleep(1000)", "time_limit", marks=pytest.mark.slow),
        ("x = []\nwhile True: x.append(bytearray(64 << 20))", "memory_limit"),
        ("import numpy\nnumpy.ones((1 << 20, 1 << 10))", "memory_limit"),
        ("raise ValueError('boom')", "runtime_error"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)", "runtime_error"),
        ("import sys\nsys.exit(3)", "runtime_error"),
    ],
)
def test_failures_become_verdicts(code, verdict):
    # 384 MiB: the memory limit is reached quickly even where page faults are slow
    limits = Limits(**{**FAST.__dict__, "wall_seconds": 4, "cpu_seconds": 2, "memory_bytes": 384 * 1024**2})
    report = failure_report(run_code(code, limits=limits), limits)
    assert report is not None and report.verdict == verdict, report
    assert report.messages["zh_CN"] and report.messages["en"]


def test_paddle_imports_inside_the_sandbox():
    limits = Limits(**{**FAST.__dict__, "memory_bytes": 2 * 1024**3, "wall_seconds": 30})
    outcome = run_code("""
        import json, numpy, paddle
        x = paddle.to_tensor(numpy.arange(6, dtype="float32").reshape(2, 3))
        print(json.dumps({"sum": float(x.sum()), "argmax": paddle.argmax(x, axis=1).tolist()}))
    """, limits=limits)
    assert outcome.ok, outcome.log
    assert reported(outcome) == {"sum": 15.0, "argmax": [2, 2]}


def test_missing_bwrap_is_an_infrastructure_error(monkeypatch):
    monkeypatch.setattr(sandbox_process.shutil, "which", lambda *a, **k: None)
    with pytest.raises(InfrastructureError, match="bwrap"):
        run_code("print('never')")


def test_a_sandbox_that_cannot_start_is_an_infrastructure_error(monkeypatch):
    real = runtime()
    broken = Runtime(real.python, (*real.ro_binds, "/nonexistent/camp-venv"), real.symlinks, real.renamed)
    monkeypatch.setattr(sandbox_process, "runtime", lambda: broken)
    with pytest.raises(InfrastructureError, match="did not start"):
        run_code("print('never')")


def test_unreachable_paths_are_reported_up_front(tmp_path):
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    (private / "venv").mkdir()
    os.chmod(private, 0o700)
    with pytest.raises(InfrastructureError, match="not readable by uid 65534"):
        check_reachable(private / "venv")
    check_reachable(Path(sys.prefix))  # the venv the tests run in is usable


def test_labels_directory_is_not_visible():
    from grader.datasets import DEMO_DIR

    assert not runtime().exposes(DEMO_DIR / "labels-idx1-ubyte.gz")
    outcome = run_code(f"""
        import os
        print(os.path.exists("{DEMO_DIR}"), os.path.exists("{DEMO_DIR.parent.parent}/grader"))
    """)
    assert outcome.log.strip() == "False False"


def test_no_host_path_shows_inside():
    """/proc/1/cmdline, the program's own command line, sys.path and tracebacks through the
    venv show neutral paths: neither the checkout nor the venv's host location leaks."""
    outcome = run_code("""
        import json, os, sys, numpy
        seen = {"cmdline": [open(f"/proc/{p}/cmdline", "rb").read().decode(errors="replace")
                            for p in os.listdir("/proc") if p.isdigit()],
                "path": sys.path, "numpy": numpy.__file__, "executable": sys.executable}
        print(json.dumps(seen))
        numpy.ones(-1)   # raised inside numpy's Python code: the traceback names its file
    """)
    assert outcome.error == "ValueError"
    seen = json.loads(outcome.log.splitlines()[0])
    assert seen["executable"] == "/camp/venv/bin/python3"
    assert seen["numpy"].startswith("/camp/venv/lib/")
    for host in {str(Path(__file__).resolve().parents[2]), os.path.realpath(sys.prefix), sys.prefix}:
        assert host not in outcome.log, host
    seen = reported(outcome)
    assert seen["executable"].startswith("/camp/venv/") and seen["numpy"].startswith("/camp/venv/")


def test_memfd_only_where_a_memory_cgroup_counts_it():
    """Without cgroups a memfd's pages would be charged to no run: memfd_create is refused."""
    from dataclasses import replace

    from grader.sandbox import configured

    code = "import os\ntry:\n    os.memfd_create('x')\n    print('memfd ok')\nexcept OSError as e:\n    print('memfd', e.errno)\n"
    with workspace() as ws:
        script = ws / "main.py"
        script.write_text(code)
        counted = run_python(script, limits=FAST, sandbox=configured())
        uncounted = run_python(script, limits=FAST, sandbox=replace(configured(), cgroups="none"))
    assert "memfd ok" in counted.log and counted.memory_peak_bytes is not None
    assert "memfd 1" in uncounted.log  # EPERM from the seccomp filter
