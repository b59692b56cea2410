"""Start one sandboxed Python run, enforce its limits, and tell infrastructure from program failure.

Process tree, all in the run's cgroup and under the slot's uid (`isolation`):

    setpriv (root drops to the slot's uid, no groups) -> bwrap -> [pid ns] bwrap init
        -> bootstrap (trusted half: status pipe)  -> program (seccomp-filtered)

Rlimits are applied just before `setpriv` execs, after the child joined the cgroup, so both bind
from the first instruction. bwrap reads its options from a descriptor, so `/proc/1/cmdline`
inside shows no host path. Wall time and the cgroup's CPU time are watched here; at either limit,
on a flood, and after every normal exit too, the whole cgroup is frozen and killed, and the run
is over only when it is empty. stdout and stderr share one pipe, read into a bounded head+tail
buffer. The bootstrap authenticates its status lines with a per-run secret (see bootstrap.py).
"""

from __future__ import annotations

import json
import os
import secrets
import select
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from grader.limits import Limits
from grader.sandbox import health, seccomp
from grader.sandbox.capture import HeadTail
from grader.sandbox.cgroups import Usage
from grader.sandbox.command import bwrap_argv, gpu_devices
from grader.sandbox.config import SandboxConfig, configured
from grader.sandbox.isolation import Isolation, SandboxSetupError, close_preexec, isolation
from grader.sandbox.runtime import runtime

_HOST_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
_STATUS_CAP = 64 * 1024
_DRAIN_SECONDS = 2.0
_TICK = 0.25  # how often the cgroup's CPU time is looked at
_CHUNK = 65536
#: after a read of the program's output that did not fill a chunk, that pipe is not read for this
#: long: a program writing one byte at a time made this process (outside the run's cgroup and
#: its CPU quota) spend as much CPU reading as the program spent writing; now it reads the
#: output at most 500 times a second, and the bytes gather in the pipe meanwhile (`_pump`)
_TRICKLE_PAUSE = 0.002


@dataclass(frozen=True)
class Outcome:
    """How a sandboxed run ended, as plain data. `exit_code` is the program's status and
    `signal` the signal that killed it (from the bootstrap's authenticated report, else from
    bwrap's status); `error` is the exception type the program claims escaped it; `log` is the
    bounded stdout+stderr; CPU time and peak memory are the cgroup's (None without cgroups)."""

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
    cpu_seconds: float | None = None
    memory_peak_bytes: int | None = None
    #: the run's memory cgroup killed a process at its limit
    oom_killed: bool = False
    #: killed because the run's processes together used `Limits.cpu_seconds` of CPU
    cpu_exceeded: bool = False
    #: ran in a sandbox of the warm pool (started ahead of need), not a cold one
    warm: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not (
            self.timed_out or self.flooded or self.error or self.oom_killed or self.cpu_exceeded
        )


def _require_tools() -> None:
    needed = ["bwrap"] + (["setpriv"] if os.geteuid() == 0 else [])
    missing = [tool for tool in needed if shutil.which(tool, path=_HOST_ENV["PATH"]) is None]
    if missing:
        raise SandboxSetupError(
            f"sandbox: {', '.join(missing)} not installed (Debian packages bubblewrap, util-linux)"
        )


def _prepare(
    package: Path | None, inputs: Mapping[str, Path], outputs: Mapping[str, Path], uid: int
) -> int:
    """Make inputs readable and outputs writable by the slot's uid; return the package size
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
            os.chown(path, uid, uid)
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
    sandbox: SandboxConfig | None = None,
) -> Outcome:
    """Run `script` (bound read-only as /camp/main.py) in a fresh sandbox, cwd = copy of `package`:
    a warm one from this process's pool for these limits when there is one ready, else cold.

    `inputs` are bound read-only at /camp/in/NAME, `outputs` (created empty here) read-write at
    /camp/out/NAME. Host paths must live in a directory the sandbox user can traverse (see
    `workspace`). Raises `InfrastructureError` (`SandboxSetupError`) when the sandbox cannot
    start or cannot be cleaned up; those count towards the worker's sandbox health.
    """
    from grader.sandbox import warm  # a warm sandbox is this run started early (warm.py)

    config = sandbox or configured()
    ins, outs = dict(inputs or {}), dict(outputs or {})
    try:
        _require_tools()
        outcome = warm.run_warm(script, args, limits, package, ins, outs, config)
        if outcome is None:
            with isolation(limits, config) as box:
                outcome = _run_in(box, script, args, limits, package, ins, outs)
    except SandboxSetupError as exc:
        health.record_failure(str(exc))
        raise
    health.record_success()
    return outcome


def _run_in(
    box: Isolation, script: Path, args: Sequence[str], limits: Limits, package: Path | None,
    inputs: dict[str, Path], outputs: dict[str, Path],
) -> Outcome:
    rt = runtime()
    gpu = gpu_for(limits)
    package_size = _prepare(package, inputs, outputs, box.uid)
    secret = secrets.token_hex(16).encode()
    status_r, status_w = os.pipe()
    secret_r = _pipe_holding(secret + b"\n")
    seccomp_fd = seccomp.program_fd(box.allow_memfd)
    argv = bwrap_argv(
        runtime=rt, limits=limits, script=script, args=args, status_fd=status_w, secret_fd=secret_r,
        seccomp_fd=seccomp_fd, package=package, inputs=inputs, outputs=outputs,
        package_bytes=package_size, gpu=gpu,
    )
    split = argv.index("--")
    options = _file_holding(b"".join(a.encode() + b"\0" for a in argv[1:split]))
    command = [*box.privilege_drop(), "bwrap", "--args", str(options), *argv[split:]]
    hook = box.preexec(limits, gpu is not None)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(status_w, secret_r, seccomp_fd, options), start_new_session=True,
            env=_HOST_ENV, preexec_fn=hook,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        os.close(status_r)
        raise SandboxSetupError(f"sandbox: cannot start bwrap: {exc}") from exc
    finally:
        for fd in (status_w, secret_r, seccomp_fd, options):
            os.close(fd)
        close_preexec(hook)
    outcome = _supervise(proc, box, status_r, secret, limits, started, gpu is not None)
    take_back(outputs.values())
    return outcome


def take_back(outputs: Iterable[Path]) -> None:
    """Output files are the grader's again once every process of the run is dead: root's, mode
    0600. The program owned them while it ran and could leave one set-uid to its slot's uid and
    writable by everyone, with contents it chose, in the workspace until the grading ended."""
    for path in outputs:
        if os.geteuid() == 0:
            os.chown(path, 0, 0)  # a change of owner also clears set-uid and set-gid
        os.chmod(path, 0o600)


def gpu_for(limits: Limits) -> str | None:
    """The GPU handed to the sandbox: the one asked for where the host has NVIDIA devices, else
    None (the run falls back to the CPU)."""
    return limits.gpu if limits.gpu is not None and gpu_devices() else None


def _pipe_holding(data: bytes) -> int:
    read, write = os.pipe()
    try:
        os.write(write, data)
    finally:
        os.close(write)
    return read


def _file_holding(data: bytes) -> int:
    fd = os.memfd_create("bwrap-args", 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _supervise(
    proc: subprocess.Popen[bytes], box: Isolation, status_r: int, secret: bytes, limits: Limits,
    started: float, gpu: bool, cpu_base: float = 0.0, warm: bool = False,
) -> Outcome:
    """Watch the run from `started` on; `cpu_base` is the CPU time its cgroup had used before
    (a warm sandbox's imports), which counts against no limit and is not reported."""
    assert proc.stdout is not None
    log, status = HeadTail(limits.output_bytes), bytearray()
    deadline = started + limits.wall_seconds

    def cpu() -> float | None:
        used = box.cgroup.cpu_seconds() if box.cgroup is not None else None
        return None if used is None else used - cpu_base
    exited: list[int] = []

    def finished() -> bool:
        if not exited:
            reaped, wait_status = os.waitpid(proc.pid, os.WNOHANG)
            if reaped:
                exited.append(wait_status)
        return bool(exited)

    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, log)
        selector.register(status_r, selectors.EVENT_READ, status)
        stop = _pump(selector, deadline, status, limits, cpu, finished)
        if stop is None and not exited:  # both pipes closed: wait for the exit status
            wait_status = _wait(proc.pid, deadline)
            if wait_status is None:
                stop = "cpu" if _over_cpu(cpu, limits) else "wall"
            else:
                exited.append(wait_status)
        # the program is done or out of time: nothing of the run may outlive this point
        _end_everything(box, proc.pid)
        wait_status = exited[0] if exited else _wait(proc.pid, None)
        usage = box.terminate()
        if usage.cpu_seconds is not None:
            usage = replace(usage, cpu_seconds=max(0.0, usage.cpu_seconds - cpu_base))
        # output written just before the end (every holder is dead now, so this ends quickly; no
        # rest after a short read: nothing can trickle any more)
        _pump(selector, time.monotonic() + _DRAIN_SECONDS, status, limits, lambda: None, lambda: False,
              rest=0.0)
    proc.stdout.close()
    os.close(status_r)
    assert wait_status is not None
    proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped above: Popen must not wait
    return _outcome(wait_status, stop, bytes(status), secret, log, started, gpu, usage, warm)


def _over_cpu(cpu: Callable[[], float | None], limits: Limits) -> bool:
    used = cpu()
    return used is not None and used >= limits.cpu_seconds


def _pump(
    selector: selectors.BaseSelector, deadline: float, status: bytearray, limits: Limits,
    cpu: Callable[[], float | None], finished: Callable[[], bool], rest: float = _TRICKLE_PAUSE,
) -> str | None:
    """Read both pipes until both close, the outer process exits, or a limit is hit: None, or
    "wall", "cpu", "flood". (A process the program left behind may hold the pipes open.)

    After a read of the program's output that did not fill a chunk, that pipe rests for `rest`
    seconds (out of the selector, so the status pipe and the limits are still watched at once):
    a trickle gathers in the pipe instead of waking this process once per write. A pipe still
    resting when this returns is put back, so the drain after the run reads what it holds."""
    resting: tuple[object, HeadTail] | None = None
    rested = 0.0
    try:
        while selector.get_map() or resting is not None:
            if finished():
                return None
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                return "wall"
            if _over_cpu(cpu, limits):
                return "cpu"
            if resting is not None and now >= rested:
                selector.register(resting[0], selectors.EVENT_READ, resting[1])  # type: ignore[arg-type]
                resting = None
            wait = min(remaining, _TICK) if resting is None else min(remaining, rested - now)
            for key, _ in selector.select(wait):
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif key.data is status:
                    status += chunk[: max(0, _STATUS_CAP - len(status))]
                else:
                    key.data.write(chunk)
                    if key.data.total > limits.flood_bytes:
                        return "flood"
                    if len(chunk) < _CHUNK and rest > 0:
                        selector.unregister(key.fileobj)
                        resting, rested = (key.fileobj, key.data), time.monotonic() + rest
        return None
    finally:
        if resting is not None:
            selector.register(resting[0], selectors.EVENT_READ, resting[1])  # type: ignore[arg-type]


def _wait(pid: int, deadline: float | None) -> int | None:
    """waitpid the outer process; None if it is still running at the deadline. Its pipes have
    closed, so it is usually exiting: a pidfd wakes us the moment it has (a fixed sleep cost a
    grading up to its length, twice, on every run)."""
    if deadline is None:
        return os.waitpid(pid, 0)[1]
    try:
        exits: int | None = os.pidfd_open(pid)
    except OSError:  # a kernel before 5.3: poll
        exits = None
    try:
        while True:
            reaped, wait_status = os.waitpid(pid, os.WNOHANG)
            if reaped:
                return wait_status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if exits is None:
                time.sleep(min(0.02, remaining))
            else:
                select.select([exits], [], [], remaining)
    finally:
        if exits is not None:
            os.close(exits)


def _end_everything(box: Isolation, pgid: int) -> None:
    """Kill what is left of the run: the cgroup (or the slot's uid), and the process group."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    box.terminate()


def _authenticated(status: bytes, secret: bytes) -> list[bytes]:
    prefix = secret + b" "
    return [line[len(prefix):] for line in status.splitlines() if line.startswith(prefix)]


def _outcome(
    wait_status: int, stop: str | None, status: bytes, secret: bytes, log: HeadTail,
    started: float, gpu: bool, usage: Usage, warm: bool = False,
) -> Outcome:
    code = os.waitstatus_to_exitcode(wait_status)
    lines = _authenticated(status, secret)
    if not lines or lines[0] != b"ready":
        why = "within the wall time" if stop == "wall" else f"(exit status {code})"
        raise SandboxSetupError(f"sandbox did not start {why}: {log.text()[-2000:]}")
    report = _report(lines[1:])
    sig: object = -code if code < 0 else (code - 128 if 128 < code <= 128 + 64 else None)
    exit_code: object = None if code < 0 else code
    error: object = None
    if report is not None:
        exit_code, sig, error = report.get("exit"), report.get("signal"), report.get("error")
    return Outcome(
        exit_code=exit_code if isinstance(exit_code, int) else None,
        signal=sig if isinstance(sig, int) else None,
        timed_out=stop in ("wall", "cpu"),
        error=error if isinstance(error, str) else None,
        log=log.text(),
        output_bytes=log.total,
        wall_seconds=round(time.monotonic() - started, 3),
        gpu=gpu,
        flooded=stop == "flood",
        cpu_seconds=None if usage.cpu_seconds is None else round(usage.cpu_seconds, 3),
        memory_peak_bytes=usage.memory_peak_bytes,
        oom_killed=usage.oom_kills > 0,
        cpu_exceeded=stop == "cpu",
        warm=warm,
    )


def _report(lines: list[bytes]) -> dict[str, object] | None:
    """The bootstrap's final report: the last authenticated line that is a JSON object."""
    for line in reversed(lines):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None
