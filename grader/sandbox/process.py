"""Start one sandboxed Python run, enforce its limits, and tell infrastructure from program failure.

Process tree, all in one new process group started by us:

    setpriv (root drops to uid 65534, no groups)  ->  bwrap  ->  [pid ns] bwrap init  ->  python

Limits are applied as rlimits just before `setpriv` execs, so they bind the sandbox user from
its first instruction: RLIMIT_CPU, RLIMIT_AS (RLIMIT_DATA with a GPU, whose driver reserves huge
address ranges), RLIMIT_NPROC (enforced because the real uid is no longer root), RLIMIT_FSIZE,
RLIMIT_NOFILE, and no core dumps. Wall time is watched here: at the limit the whole process
group is SIGKILLed; bwrap's `--die-with-parent` and the pid namespace take every descendant
with it. stdout and stderr share one pipe, read continuously into a bounded head+tail buffer.

The bootstrap writes `ready` on a private status pipe before any student code runs. No `ready`
means the sandbox itself failed (bwrap missing or refused, a path not reachable, numpy broken),
which raises `InfrastructureError`; everything after `ready` is recorded in the `Outcome`.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grader.limits import Limits
from grader.report import InfrastructureError
from grader.sandbox.capture import HeadTail
from grader.sandbox.command import bwrap_argv, gpu_devices, privilege_drop
from grader.sandbox.runtime import SANDBOX_UID, runtime

_HOST_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
_STATUS_CAP = 4096
_DRAIN_SECONDS = 2.0


@dataclass(frozen=True)
class Outcome:
    """How a sandboxed run ended, as plain data. `exit_code` is the program's status (bwrap
    reports death by signal N as 128+N, decoded into `signal`); `error` is the exception type
    the bootstrap saw escape the program; `log` is the bounded stdout+stderr. (No CPU time:
    rusage of the outer bwrap does not include the sandboxed tree.)"""

    exit_code: int | None
    signal: int | None
    timed_out: bool
    error: str | None
    log: str
    output_bytes: int
    wall_seconds: float
    gpu: bool
    #: killed for writing more than `Limits.flood_bytes` to stdout+stderr
    flooded: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not (self.timed_out or self.flooded or self.error)


def _rlimits(limits: Limits, gpu: bool) -> Callable[[], None]:
    memory = resource.RLIMIT_DATA if gpu else resource.RLIMIT_AS
    pairs = [
        (resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1),
        (memory, limits.memory_bytes, limits.memory_bytes),
        (resource.RLIMIT_NPROC, limits.processes, limits.processes),
        (resource.RLIMIT_FSIZE, limits.file_bytes, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files, limits.open_files),
        (resource.RLIMIT_CORE, 0, 0),
    ]

    def apply() -> None:  # runs in the child between fork and exec: keep it to syscalls
        for which, soft, hard in pairs:
            resource.setrlimit(which, (soft, hard))

    return apply


def _require_tools() -> None:
    needed = ["bwrap"] + (["setpriv"] if os.geteuid() == 0 else [])
    missing = [tool for tool in needed if shutil.which(tool, path=_HOST_ENV["PATH"]) is None]
    if missing:
        raise InfrastructureError(
            f"sandbox: {', '.join(missing)} not installed (Debian packages bubblewrap, util-linux)"
        )


def _prepare(package: Path | None, inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> int:
    """Make inputs readable and outputs writable by the sandbox user; return the package size
    as tmpfs will charge it (whole pages per file and directory)."""
    size = 0
    if package is not None:
        os.chmod(package, 0o755)
        for root, dirs, files in os.walk(package):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)
                size += 4096
            for name in files:
                file = os.path.join(root, name)
                os.chmod(file, 0o644)
                size += -(-os.path.getsize(file) // 4096) * 4096 + 4096
    for path in inputs.values():
        os.chmod(path, 0o644)
    for path in outputs.values():
        path.write_bytes(b"")
        if os.geteuid() == 0:
            os.chown(path, SANDBOX_UID, SANDBOX_UID)
        os.chmod(path, 0o600)
    return size


@contextmanager
def workspace() -> Iterator[Path]:
    """A private host directory for one run's package, inputs and outputs, removed afterwards.

    Mode 0711: the sandbox user may reach the paths bound from it, but no one can list it.
    """
    path = Path(tempfile.mkdtemp(prefix="camp-grade-"))
    try:
        path.chmod(0o711)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_python(
    script: Path,
    args: Sequence[str] = (),
    *,
    limits: Limits,
    package: Path | None = None,
    inputs: Mapping[str, Path] | None = None,
    outputs: Mapping[str, Path] | None = None,
) -> Outcome:
    """Run `script` (bound read-only as /camp/main.py) in a fresh sandbox, cwd = copy of `package`.

    `inputs` are bound read-only at /camp/in/NAME, `outputs` (created empty here) read-write at
    /camp/out/NAME. Host paths must live in a directory the sandbox user can traverse (see
    `workspace`). Raises `InfrastructureError` when the sandbox cannot start.
    """
    inputs, outputs = dict(inputs or {}), dict(outputs or {})
    _require_tools()
    rt = runtime()
    gpu = limits.gpu if limits.gpu is not None and gpu_devices() else None  # else CPU fallback
    package_size = _prepare(package, inputs, outputs)
    status_r, status_w = os.pipe()
    argv = privilege_drop(os.geteuid()) + bwrap_argv(
        runtime=rt, limits=limits, script=script, args=args, status_fd=status_w, package=package,
        inputs=inputs, outputs=outputs, package_bytes=package_size, gpu=gpu,
    )
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(status_w,), start_new_session=True, env=_HOST_ENV,
            preexec_fn=_rlimits(limits, gpu is not None),
        )
    except OSError as exc:
        os.close(status_r)
        raise InfrastructureError(f"sandbox: cannot start bwrap: {exc}") from exc
    finally:
        os.close(status_w)
    return _supervise(proc, status_r, limits, started, gpu is not None)


def _supervise(
    proc: subprocess.Popen[bytes], status_r: int, limits: Limits, started: float, gpu: bool
) -> Outcome:
    assert proc.stdout is not None
    log, status = HeadTail(limits.output_bytes), bytearray()
    deadline = started + limits.wall_seconds
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, log)
        selector.register(status_r, selectors.EVENT_READ, status)
        flooded = _pump(selector, deadline, status, limits.flood_bytes)
        wait_status = None if flooded else _wait(proc.pid, deadline)
        timed_out = wait_status is None and not flooded
        if wait_status is None:
            _kill_group(proc.pid)
            wait_status = _wait(proc.pid, None)
        # output written just before the end; bounded, in case a stray holder keeps a pipe open
        _pump(selector, time.monotonic() + _DRAIN_SECONDS, status, limits.flood_bytes)
    proc.stdout.close()
    os.close(status_r)
    assert wait_status is not None
    proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped above: Popen must not wait
    return _outcome(wait_status, timed_out, flooded, bytes(status), log, started, gpu)


def _pump(
    selector: selectors.BaseSelector, deadline: float, status: bytearray, flood: int
) -> bool:
    """Read both pipes until both close or the deadline passes; True if output hit `flood`."""
    while selector.get_map():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        for key, _ in selector.select(remaining):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                selector.unregister(key.fileobj)
            elif key.data is status:
                status += chunk[: max(0, _STATUS_CAP - len(status))]
            else:
                key.data.write(chunk)
                if key.data.total > flood:
                    return True
    return False


def _wait(pid: int, deadline: float | None) -> int | None:
    """waitpid the outer process; None if it is still running at the deadline."""
    while True:
        reaped, wait_status = os.waitpid(pid, 0 if deadline is None else os.WNOHANG)
        if reaped:
            return wait_status
        assert deadline is not None
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.02)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _outcome(
    wait_status: int,
    timed_out: bool,
    flooded: bool,
    status: bytes,
    log: HeadTail,
    started: float,
    gpu: bool,
) -> Outcome:
    code = os.waitstatus_to_exitcode(wait_status)
    if not status.startswith(b"ready\n"):
        why = "within the wall time" if timed_out else f"(exit status {code})"
        raise InfrastructureError(f"sandbox did not start {why}: {log.text()[-2000:]}")
    sig = -code if code < 0 else (code - 128 if 128 < code <= 128 + 64 else None)
    return Outcome(
        exit_code=None if code < 0 else code,
        signal=sig,
        timed_out=timed_out,
        error=_reported_error(status),
        log=log.text(),
        output_bytes=log.total,
        wall_seconds=round(time.monotonic() - started, 3),
        gpu=gpu,
        flooded=flooded,
    )


def _reported_error(status: bytes) -> str | None:
    """The last well-formed `{"error": NAME}` line after `ready`, if any."""
    error = None
    for line in status.splitlines()[1:]:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("error"), str):
            error = value["error"][:100]
    return error
