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

Only lines that carry the secret count outside. The program never held the secret (it was read
after the fork), so it cannot forge a line, even through a descriptor of bwrap's init; the
`error` it claims is relayed as a claim and only names the failure of a run that did fail.
"""

import ctypes
import json
import os
import re
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


def main() -> None:
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
    wait_status = _reap_until(pid)
    sig = os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else None
    code = os.WEXITSTATUS(wait_status) if os.WIFEXITED(wait_status) else None
    failed = code != 0  # a claim only names the failure of a run that did fail
    report = {"exit": code, "signal": sig, "error": _claimed(claims_r) if failed else None}
    os.write(status, secret + b" " + json.dumps(report).encode() + b"\n")
    os._exit(code if code is not None else 128 + (sig or 0))


if __name__ == "__main__":
    main()
