"""Warm sandboxes: started ahead of need with the heavy imports done, each used for one run.

    pool = warm.start(WarmSettings(size=2, imports=("numpy", "paddle")), limits, config)
    outcome = run_python(...)      # takes a warm sandbox of a matching pool, else starts cold
    warm.stop()                    # every warm sandbox is killed, its slot and cgroup freed

A warm sandbox is a cold one started early. It holds its own slot (uid) and cgroup from the
start, under the same limits, seccomp filter, namespaces and environment; its bootstrap (pid 1)
forks the child that will run the program, the child imports `imports` (and, on a GPU, creates
its own CUDA context) and then waits. Nothing of a student exists in it yet: its package,
input and output directories and its /camp/main.py are empty host paths bound in at start.
At the hand-off the grader fills them (the package, the hidden images, the script), writes the
run's arguments to the bootstrap's request pipe, and from there on the run is supervised exactly
like a cold one, with the wall clock and the CPU budget counting from the hand-off (the child
lowers its RLIMIT_CPU to what it used plus `cpu_seconds`; the cgroup's CPU time is measured from
what it had used). Memory is not reset: the imports count against the run's memory limit, as
they do when a cold run imports the same modules itself. After its one run the sandbox is
destroyed like a cold one; a background thread starts the next.

Differences a program can see, none of them about another student: the modules are already in
`sys.modules`, and pid 1's command line says `--warm`. The work dir's tmpfs is mounted for the
largest package `Limits` allow and, at the hand-off, remounted to the size a cold run would get
for this package (`_resize_box`).

Cold start stays the fallback: no pool for these limits, an empty pool, a sandbox that died
while it waited, or one that failed at the hand-off (the run is then retried cold).
"""

from __future__ import annotations

import atexit
import ctypes
import json
import logging
import math
import os
import secrets
import selectors
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.limits import Limits
from grader.sandbox import health, seccomp
from grader.sandbox.command import MAIN, WORKDIR, package_allowance, warm_bwrap_argv
from grader.sandbox.config import SandboxConfig
from grader.sandbox.isolation import Isolation, SandboxSetupError, close_preexec, isolation
from grader.sandbox.process import (
    _HOST_ENV,
    Outcome,
    _file_holding,
    _pipe_holding,
    _prepare,
    _supervise,
    gpu_for,
    take_back,
)
from grader.sandbox.runtime import runtime

log = logging.getLogger(__name__)
_WARM_LOG_CAP = 64 * 1024


@dataclass(frozen=True)
class WarmSettings:
    """How many warm sandboxes a grader process keeps and what they import (docs/grading.md)."""

    #: sandboxes kept ready (each holds a slot and its memory while it waits); 0 disables the pool
    size: int = 2
    #: modules imported by every warm sandbox before it waits (numpy is always imported)
    imports: tuple[str, ...] = ("numpy", "paddle")
    #: the most memory the waiting sandboxes may hold together (their cgroups' usage); 0: no cap
    memory_bytes: int = 0
    #: a warm-up that takes longer is abandoned (the pool tries again later)
    warmup_seconds: float = 120.0
    #: how long a run waits for a sandbox that is still warming up before it starts cold (one
    #: that is half-way through its imports is ready sooner than a cold start)
    wait_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.size < 0 or self.memory_bytes < 0 or self.warmup_seconds <= 0 or self.wait_seconds < 0:
            raise ValueError("warm pool: size, memory and times must not be negative")
        for name in self.imports:
            if not name or not all(part.isidentifier() for part in name.split(".")):
                raise ValueError(f"warm pool: {name!r} is not a module name")


@dataclass
class Stats:
    """What a pool did: sandboxes warmed, used, thrown away, and runs that went cold."""

    started: int = 0
    used: int = 0
    discarded: int = 0
    failed: int = 0
    cold: int = 0


class WarmSandbox:
    """One sandbox started ahead of need; `run` uses it once, `discard` throws it away."""

    def __init__(self, limits: Limits, config: SandboxConfig) -> None:
        self.limits, self.config, self._stack = limits, config, ExitStack()
        self.proc: subprocess.Popen[bytes] | None = None
        self.request_w = self.status_r = -1
        self.memory_bytes = 0
        self.cuda = False
        self.cancelled = threading.Event()

    def start(self, settings: WarmSettings) -> WarmSandbox:
        """Take a slot and a cgroup, start the sandbox and wait until its imports are done."""
        try:
            self.box: Isolation = self._stack.enter_context(isolation(self.limits, self.config))
            _remove_stale_homes(self.box.uid)
            self.home = Path(tempfile.mkdtemp(prefix=f"camp-warm-{self.box.uid}-"))
            self._stack.callback(shutil.rmtree, self.home, True)
            self._start(settings)
        except BaseException:
            self.discard()
            raise
        return self

    def cancel(self) -> None:
        """Stop a warm-up in progress (from another thread): its sandbox is killed."""
        self.cancelled.set()
        if self.proc is not None:
            _kill(self.proc)

    def _start(self, settings: WarmSettings) -> None:
        if self.box.cgroup is not None:  # warming up yields the CPU to runs that grade
            self.box.cgroup.weigh(idle=True)
        self.home.chmod(0o711)
        for name in ("pkg", "in", "out"):
            (self.home / name).mkdir(mode=0o755)
        (self.home / "main.py").write_bytes(b"")
        (self.home / "main.py").chmod(0o644)
        self.gpu = gpu_for(self.limits)
        self.secret = secrets.token_hex(16).encode()
        self.status_r, status_w = os.pipe()
        request_r, self.request_w = os.pipe()
        secret_r = _pipe_holding(self.secret + b"\n")
        seccomp_fd = seccomp.program_fd(self.box.allow_memfd)
        imports = ["numpy", *[m for m in settings.imports if m != "numpy"]]
        argv = warm_bwrap_argv(
            runtime=runtime(), limits=self.limits, home=self.home, status_fd=status_w,
            secret_fd=secret_r, request_fd=request_r, seccomp_fd=seccomp_fd, imports=imports,
            gpu=self.gpu,
        )
        split = argv.index("--")
        options = _file_holding(b"".join(a.encode() + b"\0" for a in argv[1:split]))
        command = [*self.box.privilege_drop(), "bwrap", "--args", str(options), *argv[split:]]
        # the imports run under the same rlimits, with CPU time to spare for them: the program's
        # own RLIMIT_CPU is set at the hand-off (bootstrap._start_clock)
        spare = replace(self.limits, cpu_seconds=self.limits.cpu_seconds + math.ceil(settings.warmup_seconds))
        hook = self.box.preexec(spare, self.gpu is not None)
        passed = (status_w, secret_r, request_r, seccomp_fd, options)
        try:
            self.proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                pass_fds=passed, start_new_session=True, env=_HOST_ENV, preexec_fn=hook,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxSetupError(f"sandbox: cannot start a warm bwrap: {exc}") from exc
        finally:
            for fd in passed:
                os.close(fd)
            close_preexec(hook)
        if self.cancelled.is_set():
            _kill(self.proc)
        self._await_warm(settings.warmup_seconds)

    def _await_warm(self, patience: float) -> None:
        """Read the sandbox's output (kept only for a failure's message) until it says `warm`."""
        assert self.proc is not None and self.proc.stdout is not None
        deadline, status, out = time.monotonic() + patience, bytearray(), bytearray()
        prefix = self.secret + b" "
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ, out)
            selector.register(self.status_r, selectors.EVENT_READ, status)
            while True:
                lines = [line[len(prefix):] for line in status.split(b"\n")[:-1] if line.startswith(prefix)]
                if lines:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.get_map() or self.cancelled.is_set():
                    break
                for key, _ in selector.select(min(remaining, 0.5)):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                    else:
                        key.data.extend(chunk)
                        del key.data[:-_WARM_LOG_CAP]
        if not lines or not lines[0].startswith(b"warm"):
            tail = out.decode("utf-8", "replace")[-2000:]
            raise SandboxSetupError(f"sandbox: a warm sandbox did not warm up: {tail}")
        info = json.loads(lines[0][len(b"warm"):] or b"{}")
        self.cuda = bool(info.get("cuda"))
        if self.box.cgroup is not None:
            self.memory_bytes = self.box.cgroup.memory_current() or 0

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def run(
        self, script: Path, args: Sequence[str], package: Path | None,
        inputs: Mapping[str, Path], outputs: Mapping[str, Path],
        started: Callable[[], None] = lambda: None,
    ) -> Outcome:
        """Hand this sandbox its one run and supervise it like a cold one; then destroy it.
        `started` is called once the run has its request (the hand-off is over)."""
        assert self.proc is not None
        try:
            outcome = self._hand_off(script, args, package, inputs, outputs, started)
        except BaseException:
            self.discard()
            raise
        # every process of the run is dead and its outputs are moved: the rest of the tear-down
        # (cgroup, slot, host directory) need not hold up the verdict
        _in_background(self.discard)
        return outcome

    def _hand_off(
        self, script: Path, args: Sequence[str], package: Path | None,
        inputs: Mapping[str, Path], outputs: Mapping[str, Path], on_started: Callable[[], None],
    ) -> Outcome:
        assert self.proc is not None
        if package is not None:
            shutil.copytree(package, self.home / "pkg", dirs_exist_ok=True, copy_function=_link_or_copy)
        for name, path in inputs.items():
            _link_or_copy(str(path), str(self.home / "in" / name))
        mine = {name: self.home / "out" / name for name in outputs}
        size = _prepare(self.home / "pkg", {n: self.home / "in" / n for n in inputs}, mine, self.box.uid)
        self._resize_box(self.limits.scratch_bytes + size)
        with open(self.home / "main.py", "wb") as main:  # the same inode: it is bound already
            main.write(script.read_bytes())
        request = {"script": MAIN, "args": list(args), "cpu_seconds": self.limits.cpu_seconds}
        cpu_base = 0.0
        if self.box.cgroup is not None:
            self.box.cgroup.weigh(idle=False)
            cpu_base = self.box.cgroup.cpu_seconds() or 0.0
        started = time.monotonic()
        try:
            os.write(self.request_w, json.dumps(request).encode())
        except OSError as exc:  # the bootstrap died while it waited
            raise SandboxSetupError(f"sandbox: the warm sandbox was gone at the hand-off: {exc}") from exc
        finally:
            os.close(self.request_w)
            self.request_w = -1
            on_started()
        outcome = _supervise(self.proc, self.box, self.status_r, self.secret, self.limits, started,
                             self.gpu is not None, cpu_base=cpu_base, warm=True)
        self.status_r = -1  # closed by _supervise
        for name, path in outputs.items():  # every process of the run is dead by now
            os.replace(mine[name], path)
        take_back(outputs.values())
        return outcome

    def _resize_box(self, size: int) -> None:
        """Give /box the size a cold run would get for this package (scratch plus the package):
        the tmpfs was mounted for the largest package; it is remounted, still empty, inside the
        sandbox's mount namespace by a helper process of the grader (root), before the hand-off.
        Nothing but the trusted warm-up has run in that namespace yet."""
        assert self.proc is not None
        try:
            pid1 = int(Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()[0])
            flags = _mount_flags(Path(f"/proc/{pid1}/mountinfo").read_text(), WORKDIR)
            namespace = os.open(f"/proc/{pid1}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
        except (OSError, IndexError, ValueError) as exc:
            raise SandboxSetupError(f"sandbox: the warm sandbox's /box cannot be sized: {exc}") from exc
        try:
            code = _remount_in(namespace, WORKDIR.encode(), flags, f"size={size}".encode())
        finally:
            os.close(namespace)
        if code:
            raise SandboxSetupError(f"sandbox: resizing the warm sandbox's /box failed: {os.strerror(code)}")

    def discard(self) -> None:
        """Kill the sandbox (if it runs), free its slot and cgroup, remove its host directory."""
        for attr in ("request_w", "status_r"):
            fd = getattr(self, attr, -1)
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, attr, -1)
        try:
            if self.proc is not None and self.proc.returncode is None:
                _kill(self.proc)
                self.box.terminate()
                self.proc.wait()
            if self.proc is not None and self.proc.stdout is not None:
                self.proc.stdout.close()
        finally:
            self._stack.close()


_LIBC = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNS = 0x00020000
_CLONE_FS = 0x00000200
_MS_REMOUNT = 32
#: per-mount flags as /proc/PID/mountinfo names them (a remount must repeat them)
_MS_FLAGS = {"ro": 1, "nosuid": 2, "nodev": 4, "noexec": 8, "noatime": 1 << 10, "nodiratime": 1 << 11,
             "relatime": 1 << 21, "strictatime": 1 << 24}


def _mount_flags(mountinfo: str, target: str) -> int:
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[4] == target:
            flags = 0
            for option in fields[5].split(","):
                flags |= _MS_FLAGS.get(option, 0)
            return flags
    raise ValueError(f"{target} is not a mount point there")


def _remount_in(namespace: int, target: bytes, flags: int, data: bytes) -> int:
    """Remount `target` in the mount namespace `namespace`; 0, or the errno of what failed.

    From a thread of its own: setns needs a task that shares no file-system state, which a
    thread gets with unshare(CLONE_FS); namespaces and that state are per task, so joining the
    sandbox's namespace changes nothing for the grader's other threads, and the thread ends
    with the remount (a forked child did the same by copying the whole grading process; the
    syscalls themselves take about 0.2 ms)."""
    result: list[int] = []

    def remount() -> None:
        code = 0
        if (_LIBC.unshare(_CLONE_FS) != 0 or _LIBC.setns(namespace, _CLONE_NEWNS) != 0
                or _LIBC.mount(b"tmpfs", target, b"tmpfs", _MS_REMOUNT | flags, data) != 0):
            code = ctypes.get_errno() or 255
        result.append(code)

    thread = threading.Thread(target=remount, name="camp-sandbox-remount", daemon=True)
    thread.start()
    thread.join()
    return result[0] if result else 255


class _HandOffs:
    """Hand-offs in progress in this process. The pool's own work (starting the next sandbox: a
    fork of this large process, holding the GIL; tearing a used one down: a scan of /proc)
    waits until none is, at most `PATIENCE` seconds, so it does not hold up the few
    milliseconds between taking a sandbox and its run starting (measured: 2-7 ms a hand-off)."""

    PATIENCE = 1.0

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._count = 0

    def begin(self) -> Callable[[], None]:
        """One hand-off begins; the function returned ends it (once, however often called)."""
        with self._cond:
            self._count += 1
        ended = threading.Event()

        def end() -> None:
            if not ended.is_set():
                ended.set()
                with self._cond:
                    self._count -= 1
                    self._cond.notify_all()
        return end

    def wait_quiet(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._count == 0, timeout=self.PATIENCE)


_hand_offs = _HandOffs()


_teardowns: set[threading.Thread] = set()


def _in_background(discard: Callable[[], None]) -> None:
    def run() -> None:
        try:
            _hand_offs.wait_quiet()
            discard()
        except Exception as exc:  # a broken tear-down is the host's: said loudly
            health.record_failure(str(exc))
            log.error("warm pool: tear-down failed: %s", exc)
        finally:
            with _lock:
                _teardowns.discard(thread)

    thread = threading.Thread(target=run, name="camp-warm-teardown", daemon=True)
    with _lock:
        _teardowns.add(thread)
    thread.start()


def _join_teardowns() -> None:
    with _lock:
        pending = list(_teardowns)
    for thread in pending:
        thread.join()


def _remove_stale_homes(uid: int) -> None:
    """Host directories of this slot's warm sandboxes whose grading process died (SIGKILL: no
    tear-down ran). The caller holds the slot, so none of them is in use."""
    for stale in Path(tempfile.gettempdir()).glob(f"camp-warm-{uid}-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass


def _link_or_copy(src: str, dst: str) -> str:
    """A hard link where the file system allows it (the bind is read-only), else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


@dataclass
class WarmPool:
    """Warm sandboxes for one set of limits and one sandbox configuration, refilled by a thread."""

    settings: WarmSettings
    limits: Limits
    config: SandboxConfig
    stats: Stats = field(default_factory=Stats)

    def __post_init__(self) -> None:
        self.pid = os.getpid()
        self._ready: list[WarmSandbox] = []
        self._warming: list[WarmSandbox] = []
        self._closed = False
        self._failures = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._refill, name="camp-warm-pool", daemon=True)
        self._thread.start()

    def _wanted(self) -> bool:
        if self._closed or len(self._ready) + len(self._warming) >= self.settings.size:
            return False
        if self.settings.memory_bytes and self._ready:
            held = sum(box.memory_bytes for box in self._ready)
            each = max(box.memory_bytes for box in self._ready)
            return held + each <= self.settings.memory_bytes
        return True

    def _refill(self) -> None:
        while True:
            with self._cond:
                while not self._wanted():
                    if self._closed:
                        return
                    self._cond.wait()
            # not during a hand-off; and not yet listed as warming: a run taking a sandbox now
            # goes cold rather than wait for one that waits for it
            _hand_offs.wait_quiet()
            with self._cond:
                if not self._wanted():
                    continue
                warming = WarmSandbox(self.limits, self.config)
                self._warming.append(warming)
            sandbox: WarmSandbox | None = None
            try:
                sandbox = warming.start(self.settings)
            except Exception as exc:  # the host, not a student: said loudly, retried with back-off
                if not warming.cancelled.is_set():
                    log.warning("warm pool: %s", exc)
                    self.stats.failed += 1
            with self._cond:
                self._warming.remove(warming)
                if sandbox is not None and not self._closed:
                    self._ready.append(sandbox)
                    self.stats.started += 1
                    self._failures = 0
                    sandbox = None
                elif sandbox is None and not self._closed:
                    self._failures += 1
                self._cond.notify_all()
                pause = min(60.0, 0.5 * 2 ** self._failures) if self._failures else 0.0
                if pause:
                    self._cond.wait(pause)
            if sandbox is not None:  # warmed while the pool closed
                sandbox.discard()

    def take(self) -> WarmSandbox | None:
        """A live warm sandbox (waiting up to `wait_seconds` for one still warming), or None."""
        deadline = time.monotonic() + self.settings.wait_seconds
        with self._cond:
            while True:
                while self._ready:
                    sandbox = self._ready.pop(0)
                    self._cond.notify_all()
                    if sandbox.alive():
                        self.stats.used += 1
                        return sandbox
                    self.stats.discarded += 1
                    threading.Thread(target=sandbox.discard, daemon=True).start()
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0 or not self._warming:
                    self.stats.cold += 1
                    return None
                self._cond.wait(remaining)

    def idle_uids(self) -> list[int]:
        """The slot uids of the sandboxes waiting in the pool."""
        with self._cond:
            return [sandbox.box.uid for sandbox in self._ready]

    def ready(self) -> int:
        with self._cond:
            return len(self._ready)

    def wait_ready(self, count: int | None = None, timeout: float = 300.0) -> bool:
        """Block until `count` (default: the pool's size) sandboxes are ready; False on timeout."""
        want = self.settings.size if count is None else count
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._ready) < want:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self) -> None:
        """Stop refilling and destroy every waiting sandbox (the one warming is destroyed when
        its warm-up returns); returns once no sandbox of this pool is left."""
        with self._cond:
            self._closed = True
            waiting, self._ready = self._ready, []
            for warming in self._warming:
                warming.cancel()
            self._cond.notify_all()
        for sandbox in waiting:
            sandbox.discard()
        if threading.current_thread() is not self._thread:
            self._thread.join()
        _join_teardowns()


_pools: dict[tuple[Limits, SandboxConfig], WarmPool] = {}
_lock = threading.Lock()


def start(settings: WarmSettings, limits: Limits, config: SandboxConfig) -> WarmPool | None:
    """Keep `settings.size` warm sandboxes for runs with exactly these limits and this config
    (None when the size is 0). Only as root: there every sandbox has a uid of its own."""
    if settings.size == 0:
        return None
    if os.geteuid() != 0:
        log.warning("warm pool: disabled, the worker does not run as root (every run starts cold)")
        return None
    with _lock:
        key = (limits, config)
        existing = _pools.get(key)
        if existing is not None and existing.pid == os.getpid() and existing.settings == settings:
            return existing
        if existing is not None and existing.pid == os.getpid():
            existing.close()
        pool = _pools[key] = WarmPool(settings, limits, config)
        return pool


def pools() -> list[WarmPool]:
    """This process's pools."""
    return [p for p in _pools.values() if p.pid == os.getpid()]


def pool_for(limits: Limits, config: SandboxConfig) -> WarmPool | None:
    """The pool of this process that serves runs with these limits, if any."""
    pool = _pools.get((limits, config))
    return pool if pool is not None and pool.pid == os.getpid() and not pool._closed else None


def stop() -> None:
    """Destroy every pool of this process (worker shutdown; also at interpreter exit)."""
    with _lock:
        pools = [p for p in _pools.values() if p.pid == os.getpid()]
        _pools.clear()
    for pool in pools:
        pool.close()
    _join_teardowns()


def run_warm(
    script: Path, args: Sequence[str], limits: Limits, package: Path | None,
    inputs: Mapping[str, Path], outputs: Mapping[str, Path], config: SandboxConfig,
) -> Outcome | None:
    """The run in a warm sandbox, or None when there is none to use (the caller starts cold).
    A sandbox that fails at the hand-off is an infrastructure failure of the pool, not of the
    run: it is counted, logged, and the run goes cold."""
    pool = pool_for(limits, config)
    if pool is None:
        return None
    if package is not None and _footprint(package) > package_allowance(limits):
        pool.stats.cold += 1
        return None
    end_hand_off = _hand_offs.begin()  # before the take: it wakes the pool's refill
    try:
        sandbox = pool.take()
        if sandbox is None:
            return None
        return sandbox.run(script, args, package, inputs, outputs, started=end_hand_off)
    except (SandboxSetupError, OSError) as exc:  # the hand-off, not the program, went wrong
        health.record_failure(str(exc))
        log.warning("warm pool: %s; the run starts cold", exc)
        pool.stats.failed += 1
        return None
    finally:
        end_hand_off()


def _footprint(package: Path) -> int:
    size = 0
    for root, dirs, files in os.walk(package):
        size += 4096 * len(dirs)
        size += sum(-(-os.path.getsize(os.path.join(root, f)) // 4096) * 4096 + 4096 for f in files)
    return size


atexit.register(stop)
