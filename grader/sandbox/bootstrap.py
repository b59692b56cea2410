"""First code to run inside the sandbox (trusted, stdlib + numpy only, never imports grader).

    python -I -B -u /camp/bootstrap.py STATUS_FD SECRET_FD SCRIPT [ARGS...]

1. Copy the package from /camp/pkg into the working directory (a size-capped tmpfs), so the
   program can read its weights by relative path and write next to them.
2. Import numpy: a broken scientific stack is the grader's fault, not the student's.
3. Fork. This process is the pid namespace's init, so nothing inside can signal it. The child
   closes the status and secret descriptors and waits; the parent (this file's
   trusted half) makes itself non-dumpable (its memory and descriptors are no longer readable
   by the same uid), reads the per-run secret, writes `SECRET ready` on STATUS_FD and lets the
   child go. Outside, a run that never said `ready` is an infrastructure failure.
4. The child runs SCRIPT as `__main__`. An uncaught exception's type name goes to the parent on
   a claims pipe (the traceback to stderr for the log), then the child exits.
5. The parent reports `SECRET {"exit": .., "signal": .., "error": ..}` and exits like the child.

Warm mode (`bootstrap.py --warm ...`, see `warm_main` and grader/sandbox/warm.py): the same
steps, but the child imports the warm-up modules and waits before anything of a student exists
in the sandbox; the package, the script's arguments and step 1 come at the hand-off.

Only lines that carry the secret count outside. The program never held the secret (it was read
after the fork), so it cannot forge a line, even through a descriptor of bwrap's init; the
`error` it claims is relayed as a claim and only names the failure of a run that did fail.
"""

import ctypes
import importlib
import json
import math
import os
import re
import resource
import runpy
import shutil
import sys
import traceback

PACKAGE = "/camp/pkg"
PR_SET_DUMPABLE = 4


def _run_program(script: str, args: list[str], claims: int) -> None:
    """The child: run the student's script, then _exit with its status (never returns)."""
    code = 0
    try:
        sys.argv = [script, *args]
        sys.path.insert(0, os.getcwd())  # -I left the cwd off sys.path; the package imports from it
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        if isinstance(exc.code, int) or exc.code is None:
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException as exc:
        try:
            os.write(claims, type(exc).__name__.encode()[:100])
        except (OSError, MemoryError):
            pass
        try:
            sys.stderr.write(own_traceback(exc, os.getcwd()))
        except BaseException:
            pass
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(code & 0xFF)


def own_traceback(exc: BaseException, workdir: str) -> str:
    """The traceback as the student wrote it: only frames in their own files (under `workdir`),
    not Camp's bootstrap and runner, nor the library internals below their call."""
    mine = [f for f in traceback.extract_tb(exc.__traceback__)
            if f.filename.startswith(workdir.rstrip("/") + "/")]
    head = ["Traceback (most recent call last):\n", *traceback.format_list(mine)] if mine else []
    return "".join(head + traceback.format_exception_only(type(exc), exc))


def _claimed(claims: int) -> str | None:
    """What the program said escaped it. Non-blocking: processes it forked may hold the pipe."""
    os.set_blocking(claims, False)
    try:
        data = os.read(claims, 128).decode("ascii", "replace")
    except OSError:
        return None
    return data if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,99}", data) else None


def _reap_until(pid: int) -> int:
    """Wait for the program; as pid 1 also reap the orphans it leaves (they would stay zombies)."""
    while True:
        reaped, wait_status = os.wait()
        if reaped == pid:
            return wait_status


def _finish(status: int, secret: bytes, pid: int, claims_r: int) -> None:
    """Wait for the program, report how it ended on STATUS_FD, and exit like it (never returns)."""
    wait_status = _reap_until(pid)
    sig = os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else None
    code = os.WEXITSTATUS(wait_status) if os.WIFEXITED(wait_status) else None
    failed = code != 0  # a claim only names the failure of a run that did fail
    report = {"exit": code, "signal": sig, "error": _claimed(claims_r) if failed else None}
    os.write(status, secret + b" " + json.dumps(report).encode() + b"\n")
    os._exit(code if code is not None else 128 + (sig or 0))


def _read_all(fd: int, cap: int = 1 << 16) -> bytes:
    data = b""
    while len(data) < cap:
        chunk = os.read(fd, cap - len(data))
        if not chunk:
            break
        data += chunk
    os.close(fd)
    return data


def main() -> None:
    if sys.argv[1] == "--warm":
        warm_main()
    status, secret_fd, script = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    if os.path.isdir(PACKAGE):
        shutil.copytree(PACKAGE, ".", dirs_exist_ok=True)
    import numpy  # noqa: F401

    go_r, go_w = os.pipe()
    claims_r, claims_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        for fd in (status, secret_fd, go_w, claims_r):
            os.close(fd)
        os.read(go_r, 1)
        os.close(go_r)
        _run_program(script, sys.argv[4:], claims_w)
    for fd in (go_r, claims_w):
        os.close(fd)
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    secret = os.read(secret_fd, 64).strip()
    os.close(secret_fd)
    os.write(status, secret + b" ready\n")
    os.write(go_w, b"g")
    os.close(go_w)
    _finish(status, secret, pid, claims_r)


def _warm_up(modules: list[str], gpu: bool) -> bool:
    """The warm child's imports, done before any student file exists in this sandbox. With a GPU
    the CUDA context is created here, in the process that will run the program (never shared)."""
    for name in modules:
        importlib.import_module(name)
    if gpu and "paddle" in sys.modules:
        paddle = sys.modules["paddle"]
        if paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0:
            paddle.device.set_device("gpu:0")
            paddle.zeros([1]).numpy()  # the context exists once a kernel ran
            return True
    return False


def warm_main() -> None:
    """Warm mode (never returns): import ahead of need, then wait for the one run of this sandbox.

        bootstrap.py --warm STATUS_FD SECRET_FD REQUEST_FD MODULES GPU

    The child imports MODULES (comma-separated) and waits; the trusted parent says `SECRET warm`
    once it is ready. The grader then fills /camp/pkg, /camp/in, /camp/main.py on the host and
    writes the run's arguments (JSON) to REQUEST_FD; from there on it is a cold run: the package
    is copied into the work dir, `SECRET ready` is said, the child's CPU-time limit is set to
    count from now, and the child runs the script.
    """
    status, secret_fd, request_fd = (int(a) for a in sys.argv[2:5])
    modules, gpu = [m for m in sys.argv[5].split(",") if m], sys.argv[6] == "1"
    import numpy  # noqa: F401

    go_r, go_w = os.pipe()
    claims_r, claims_w = os.pipe()
    warmed_r, warmed_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        for fd in (status, secret_fd, request_fd, go_w, claims_r, warmed_r):
            os.close(fd)
        try:
            cuda = _warm_up(modules, gpu)
        except BaseException:
            traceback.print_exc()
            os._exit(3)
        os.write(warmed_w, b"w" + json.dumps({"cuda": cuda}).encode())
        os.close(warmed_w)
        request = json.loads(_read_all(go_r))
        _start_clock(int(request["cpu_seconds"]))
        importlib.invalidate_caches()  # the work dir was empty when the finders last looked
        _run_program(request["script"], request["args"], claims_w)
    for fd in (go_r, claims_w, warmed_w):
        os.close(fd)
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    secret = os.read(secret_fd, 64).strip()
    os.close(secret_fd)
    warmed = _read_all(warmed_r, 256)
    if not warmed.startswith(b"w"):  # the warm-up failed: its traceback is on stderr
        os.write(status, secret + b" cold\n")
        _finish(status, secret, pid, claims_r)
    os.write(status, secret + b" warm " + warmed[1:] + b"\n")
    request = _read_all(request_fd)
    if not request:  # the pool let this sandbox go unused
        os.kill(pid, 9)
        os._exit(0)
    if os.path.isdir(PACKAGE):
        shutil.copytree(PACKAGE, ".", dirs_exist_ok=True)
    os.write(status, secret + b" ready\n")
    os.write(go_w, request)
    os.close(go_w)
    _finish(status, secret, pid, claims_r)


def _start_clock(cpu_seconds: int) -> None:
    """RLIMIT_CPU counts this process's CPU time since fork, imports included: from the hand-off
    on the program gets the same `cpu_seconds` as a cold run (lowering a limit needs no right)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = math.ceil(used.ru_utime + used.ru_stime)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    want = spent + cpu_seconds
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard - 1)
    resource.setrlimit(resource.RLIMIT_CPU, (want, want + 1))


if __name__ == "__main__":
    main()
