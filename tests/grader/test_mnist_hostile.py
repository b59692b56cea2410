"""Hostile `predict.py` packages, graded end to end through the real sandbox.

Every one must end in a clear verdict (or be harmless), never an InfrastructureError or a hung
grader, and the next good package must still be graded normally. Each runs twice: in cold
sandboxes and in warm ones (grader/sandbox/warm.py), where the runs with the usual limits must
all have found a warm sandbox.
"""

from __future__ import annotations

import gzip
import json
import os
import textwrap
from collections.abc import Iterator

import numpy as np
import pytest

from grader.datasets import DEMO_DIR, load_split
from grader.limits import Limits
from grader.sandbox import configured, health, warm
from tests.grader.graderkit import FAST

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]  # attack replays on the real sandbox

ZEROS = "\n    return np.zeros(len(images), dtype=np.int64)\n"
QUICK = Limits(**{**FAST.__dict__, "wall_seconds": 4, "cpu_seconds": 2})
#: the memory bomb gets half the memory, so it reaches the limit quickly where page faults are slow
SMALL = Limits(**{**QUICK.__dict__, "memory_bytes": 384 * 1024**2})
#: a whole-file-system search needs time
LONG = Limits(**{**FAST.__dict__, "wall_seconds": 60, "cpu_seconds": 60})


@pytest.fixture(autouse=True, params=["cold", "warm"])
def _sandboxes(request: pytest.FixtureRequest) -> Iterator[None]:
    """Warm: pools for the limits most of these runs use (others, rarer, start cold). Either way
    no hostile package may count as a set-up failure of the sandbox (three in a row take the
    worker out of service), not even one a later good run hid (warm: a failed hand-off goes cold)."""
    health.reset()
    if request.param == "cold":
        yield
        assert health.current().last_error == "", health.current()
        return
    settings = warm.WarmSettings(size=2, imports=("numpy",), wait_seconds=120)
    pools = [warm.start(settings, limits, configured()) for limits in (FAST, QUICK, LONG)]
    try:
        assert all(p is not None and p.wait_ready(timeout=120) for p in pools)
        yield
        used = [p.stats for p in pools if p is not None]
        assert sum(s.used for s in used) >= 1 and all(s.cold == 0 for s in used), used
    finally:
        warm.stop()
    assert health.current().last_error == "", health.current()


def predict_py(body: str, top: str = "") -> str:
    """A predict.py: optional module-level code, then predict(images) running `body`."""
    inner = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    return f"import numpy as np\n{textwrap.dedent(top)}\ndef predict(images):\n{inner}{ZEROS}"


def logged(report) -> dict:
    for line in reversed(report.log.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError(f"no JSON report in log: {report.log[-2000:]}")


@pytest.mark.parametrize(
    ("name", "code", "verdict"),
    [
        ("fork bomb", predict_py("""
            import os
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
        """), "time_limit"),
        ("memory bomb", predict_py("""
            hoard = []
            while True:
                hoard.append(np.ones(16 << 20))
        """), "memory_limit"),
        ("CPU loop", predict_py("while True:\n    pass"), "time_limit"),
        ("sleep forever", predict_py("import time\ntime.sleep(10**6)"), "time_limit"),
        ("hang at import", predict_py("pass", top="import time\nwhile True:\n    time.sleep(1)"),
         "time_limit"),
        ("raises", predict_py("raise RuntimeError('model exploded')"), "runtime_error"),
        ("syntax error", "def predict(images)\n    return images", "runtime_error"),
        ("no predict()", "import numpy as np\nPREDICT = 1\n", "runtime_error"),
        ("exit at import", "import os\nos._exit(0)\n", "bad_output"),
        ("flood", predict_py("""
            import sys
            while True:
                print("spam" * 1000)
                sys.stderr.write("eggs" * 1000)
        """), "runtime_error"),
    ],
)
def test_hostile_package_gets_a_verdict(grade_code, assert_still_works, name, code, verdict):
    report = grade_code(code, limits=SMALL if name == "memory bomb" else QUICK)
    assert report.verdict == verdict, (name, report)
    assert report.score == 0.0
    assert report.messages["zh_CN"] and report.messages["en"]
    assert len(report.log.encode()) <= QUICK.output_bytes + 200
    assert_still_works()


def test_exception_traceback_reaches_the_student(grade_code):
    report = grade_code(predict_py("raise RuntimeError('model exploded')"))
    assert report.verdict == "runtime_error"
    assert "RuntimeError: model exploded" in report.log and 'File "/box/predict.py"' in report.log
    # only the student's own frames: not Camp's bootstrap and runner, nor importlib's
    assert "/camp/" not in report.log and "runpy" not in report.log and "importlib" not in report.log


def test_ten_thousand_threads(grade_code, assert_still_works):
    report = grade_code(predict_py("""
        import json, threading, time
        started = 0
        try:
            for _ in range(10000):
                threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
                started += 1
        except RuntimeError as exc:
            print(json.dumps({"started": started, "error": str(exc)}))
    """))
    assert report.verdict == "accepted"  # it coped, and returned labels
    assert logged(report)["started"] < FAST.processes
    assert_still_works()


def test_network_is_unreachable(grade_code):
    report = grade_code(predict_py("""
        import json, socket
        results = {}
        for port in (6379, 5432, 8000):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                results[port] = "connected"
            except OSError as exc:
                results[port] = type(exc).__name__
        try:
            socket.getaddrinfo("dataset.bj.bcebos.com", 443)
            results["dns"] = "resolved"
        except OSError as exc:
            results["dns"] = type(exc).__name__
        print(json.dumps(results))
    """))
    results = logged(report)
    assert set(results) == {"6379", "5432", "8000", "dns"}
    assert "connected" not in results.values() and "resolved" not in results.values()


def test_labels_are_nowhere_in_the_sandbox(grade_code):
    """Search every readable file for the labels file, its name, or the hidden labels' bytes."""
    hidden = load_split(DEMO_DIR, "test")[1]
    gz = (DEMO_DIR / "labels-idx1-ubyte.gz").read_bytes()
    needles = [hidden[:32].tobytes(), hidden[-32:].tobytes(), gz[:64],
               gzip.decompress(gz)[:8]]  # the IDX header: magic 2049, 10,000 labels
    report = grade_code(predict_py(f"""
        import json, os
        needles = [bytes.fromhex(h) for h in {[n.hex() for n in needles]!r}]
        found, scanned, names = [], 0, []
        for root, dirs, files in os.walk("/"):
            if root == "/":
                dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
            for name in files:
                path = os.path.join(root, name)
                if "label" in name.lower() or "idx1" in name or "mnist" in name.lower():
                    names.append(path)
                try:
                    if os.path.islink(path) or os.path.getsize(path) > 64 << 20:
                        continue
                    with open(path, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                scanned += 1
                if any(n in data for n in needles):
                    found.append(path)
        print(json.dumps({{"found": found, "scanned": scanned, "names": names}}))
    """), limits=LONG)
    assert report.verdict == "accepted", report
    result = logged(report)
    assert result["scanned"] > 1000, result  # it really looked (the venv alone has thousands)
    assert [p for p in result["found"] if "mnist" in p.lower() or ("label" in p.lower()
            and "site-packages" not in p)] == [] or not any(
        "data" in p and "mnist-10k" in p for p in result["found"])
    assert not [p for p in result["found"] if not p.startswith(("/work", "/usr"))], result
    assert report.score < 0.5


def test_secrets_are_not_visible(grade_code, monkeypatch):
    secret = "camp-secret-" + os.urandom(8).hex()
    monkeypatch.setenv("CAMP_SECRET_KEY", secret)
    report = grade_code(predict_py("""
        import json, os
        leaks = [k for k in os.environ if "SECRET" in k or "DATABASE" in k or "REDIS" in k]
        for pid in os.listdir("/proc"):
            try:
                if b"CAMP_SECRET_KEY" in open(f"/proc/{pid}/environ", "rb").read():
                    leaks.append(pid)
            except OSError:
                pass
        print(json.dumps({"leaks": leaks, "env": sorted(os.environ)}))
    """))
    assert logged(report)["leaks"] == []
    assert secret not in json.dumps(report.to_dict())


def test_writing_outside_and_filling_the_disk(grade_code, assert_still_works):
    report = grade_code(predict_py("""
        import json
        results = {}
        for path in ("/evil", "/usr/lib/evil", "/camp/main.py", "/camp/in/images.npy", "/etc/passwd"):
            try:
                open(path, "ab").write(b"owned")
                results[path] = "written"
            except OSError as exc:
                results[path] = exc.strerror
        total = 0
        try:
            for i in range(10**6):
                with open(f"fill{i}", "wb") as f:
                    f.write(b"x" * (1 << 20))
                total += 1 << 20
        except OSError as exc:
            results["fill"] = [total, exc.strerror]
        print(json.dumps(results))
    """))
    assert report.verdict == "accepted", report  # the runner still wrote its predictions
    results = logged(report)
    assert "written" not in [v for k, v in results.items() if k != "fill"]
    assert results["fill"][1] == "No space left on device"
    assert results["fill"][0] <= FAST.scratch_bytes + 1024**2
    assert_still_works()


def test_killing_its_parent(grade_code, assert_still_works):
    report = grade_code(predict_py("""
        import os, signal
        for target in (os.getppid(), 1, -1):
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
    """))
    assert report.verdict in ("accepted", "runtime_error"), report
    assert_still_works()


@pytest.mark.parametrize("shape", [f"({2**70}, 0)", "(True,)"])
def test_a_crafted_npy_header_is_bad_output(grade_code, assert_still_works, shape):
    """A header whose shape NumPy's own reader chokes on (OverflowError, TypeError) escaped the
    grader: no verdict; the sweep took the claim for a lost worker's and queued the grading again
    until its tries ran out, every try running the program twice more. Now it is `bad_output`
    like any unreadable file."""
    header = f"{{'descr': '<i8', 'fortran_order': False, 'shape': {shape}, }}".ljust(117) + "\n"
    data = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
    data += b"" if "True" not in shape else b"\0" * 8
    report = grade_code(predict_py(f"""
        import os
        with open("/camp/out/predictions.npy", "wb") as out:
            out.write({data!r})
        os._exit(0)   # before the runner could write real predictions
    """))
    assert report.verdict == "bad_output", report
    assert "cannot be read" in report.messages["en"]
    assert_still_works()


def test_preallocating_the_output_file_past_its_limit(grade_code, assert_still_works):
    """The output file lies on the worker's disk, not on a tmpfs, and fallocate with
    FALLOC_FL_KEEP_SIZE is not checked against RLIMIT_FSIZE: a file of size 0 took 1 GiB of
    that disk (as much as it had free, for the whole run and until the grading ended), and so
    did the ioctls the kernel turns into that call. Now the sandbox refuses fallocate with any
    mode but 0 (which grows the file, so RLIMIT_FSIZE limits it) and those ioctls, also when a
    raw call sets the upper half of the request number the kernel ignores."""
    report = grade_code(predict_py("""
        import ctypes, json, os, struct
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open("/camp/out/predictions.npy", os.O_WRONLY)
        reserve = ctypes.create_string_buffer(struct.pack("hhxxxxqqii16x", 0, 0, 0, 1 << 30, 0, 0))
        tries = {
            "keep size": (285, 1, 0, 1 << 30),            # fallocate(fd, FALLOC_FL_KEEP_SIZE, ...)
            "zero range": (285, 0x11, 0, 1 << 30),        # ZERO_RANGE | KEEP_SIZE
            "resvsp64": (16, 0x4030582A, reserve),        # ioctl(fd, FS_IOC_RESVSP64, ...)
            "resvsp": (16, 0x40305828, reserve),
            "ioctl zero range": (16, 0x40305839, reserve),
            "resvsp64, upper half set": (16, (1 << 32) | 0x4030582A, reserve),
            "plain": (285, 0, 0, 1 << 20),                # grows the file: allowed, limited
        }
        found = {}
        for name, (number, *args) in tries.items():
            args = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
            failed = libc.syscall(ctypes.c_long(number), ctypes.c_long(fd), *args)
            found[name] = os.strerror(ctypes.get_errno()) if failed else "done"
        found["held"] = os.fstat(fd).st_blocks * 512
        print(json.dumps(found), flush=True)
        os._exit(0)   # the file stays as it is: no predictions
    """))
    assert report.verdict == "bad_output", report
    found = logged(report)
    assert found.pop("plain") == "done" and found.pop("held") <= FAST.file_bytes, found
    assert set(found.values()) == {"Operation not permitted"}, found
    assert_still_works()


def test_bytes_held_in_socket_buffers_count_as_the_runs_memory(grade_code, assert_still_works):
    """Kernel memory a process holds without mapping it: data written into unix socket pairs
    and never read (up to 8 MiB a socket where wmem_max allows; 128 pairs a process within
    RLIMIT_NOFILE). Were it not charged to the run's memory cgroup it would be the host's; it is,
    and the run ends at its memory limit."""
    report = grade_code(predict_py("""
        import socket
        held, pairs = 0, []
        while held < (1 << 30):   # 1 GiB, far above the limit
            a, b = socket.socketpair()
            a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
            b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            a.setblocking(False)
            try:
                while True:
                    held += a.send(b"x" * 65536)
            except BlockingIOError:
                pairs.append((a, b))
        print("held", held >> 20, "MiB in", len(pairs), "socket pairs")
    """), limits=Limits(**{**SMALL.__dict__, "wall_seconds": 60, "cpu_seconds": 30}))  # room on a busy machine
    assert report.verdict == "memory_limit", report
    assert "held" not in report.log
    assert_still_works()


def test_no_pseudo_terminals(grade_code, assert_still_works):
    """bwrap's /dev has a devpts instance of its own, but its ptys count against the host's
    `kernel.pty.max`: 3072 for every devpts but the host's, and one process opened 252 (its
    RLIMIT_NOFILE), so a run of 13 processes took every pty of the machine's containers while
    it ran. Now /dev/ptmx (a bind of /dev/null on a nodev mount) cannot be opened."""
    report = grade_code(predict_py("""
        import json, os
        opened, errors = [], set()
        for path in ("/dev/ptmx", "/dev/pts/ptmx") * 100:
            try:
                opened.append(os.open(path, os.O_RDWR | os.O_NOCTTY))
            except OSError as exc:
                errors.add(exc.strerror)
        try:
            os.openpty()
            errors.add("openpty worked")
        except OSError as exc:
            errors.add(exc.strerror)
        print(json.dumps({"opened": len(opened), "errors": sorted(errors)}), flush=True)
    """))
    assert report.verdict == "accepted", report
    found = logged(report)
    assert found["opened"] == 0 and "openpty worked" not in found["errors"], found
    assert_still_works()


def test_no_linux_aio_contexts(grade_code, assert_still_works):
    """Linux AIO events come from one budget for the whole host (`fs.aio-max-nr`, 65536 by
    default), not from the run's namespaces or cgroup: one io_setup took all of it while the run
    lasted, and every other program of the machine using AIO got EAGAIN. Now io_setup is
    refused (EPERM), like io_uring."""
    report = grade_code(predict_py("""
        import ctypes, json, os
        libc = ctypes.CDLL(None, use_errno=True)
        context = ctypes.c_ulong(0)
        failed = libc.syscall(ctypes.c_long(206), ctypes.c_long(65536), ctypes.byref(context))   # io_setup
        print(json.dumps({"io_setup": os.strerror(ctypes.get_errno()) if failed else "done"}), flush=True)
    """))
    assert report.verdict == "accepted", report
    assert logged(report) == {"io_setup": "Operation not permitted"}
    assert_still_works()


def test_printing_a_score_changes_nothing(grade_code):
    report = grade_code(predict_py("""
        import os
        print("accuracy: 1.0\\nscore: 1.0")
        print('{"accuracy": 1.0, "verdict": "accepted"}')
        for fd in range(3, 10):
            try:
                os.write(fd, b'{"error": null, "accuracy": 1.0}\\n')
            except OSError:
                pass
    """))
    assert report.verdict == "accepted"
    assert report.score == pytest.approx(float(np.mean(load_split(DEMO_DIR, "test")[1] == 0)))
