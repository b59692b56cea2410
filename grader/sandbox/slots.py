"""A slot per concurrent sandbox: its own unprivileged uid, held through a lock file.

With one uid per slot no budget and no signal is shared between students: RLIMIT_NPROC counts
only this slot's processes, `kill(-1)` from inside reaches only this slot, and after the run
"every process of uid U" is exactly what is left of it. A slot is taken by an exclusive `flock`
on `lock_dir/UID.lock`, which the kernel releases when the holder dies, so a crashed worker
never leaks a slot; whatever a previous holder left running is killed before the slot is used.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grader.report import InfrastructureError
from grader.sandbox.config import SandboxConfig


@dataclass(frozen=True)
class Slot:
    index: int
    #: the host uid (and gid) the sandbox runs as; the worker's own uid when not root
    uid: int


def processes_of(uid: int) -> list[int]:
    """Pids whose real uid is `uid` (what `ps -U uid` lists), zombies left out: they run nothing
    and go away when their parent reaps them."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                for line in status:
                    if line.startswith("State:") and line.split()[1] == "Z":
                        break
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            found.append(int(entry))
                        break
        except (OSError, ValueError):
            continue
    return found


def kill_uid(uid: int, patience: float = 10.0) -> bool:
    """SIGKILL every process of `uid`, as `uid` itself: `kill(-1)` reaches exactly the processes
    that user may signal, forks included, until none is left. True when none remains."""
    if os.geteuid() != 0 or uid == 0:
        return not processes_of(uid) if uid != os.geteuid() else True
    deadline = time.monotonic() + patience
    while processes_of(uid) and time.monotonic() < deadline:
        pid = os.fork()
        if pid == 0:  # child: only syscalls until _exit
            try:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                for _ in range(10_000):
                    os.kill(-1, signal.SIGKILL)  # everyone this uid may signal, except itself
            except ProcessLookupError:
                os._exit(0)
            except BaseException:
                os._exit(1)
            os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.01)
    return not processes_of(uid)


def _lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        raise
    return fd


@contextmanager
def slot(config: SandboxConfig) -> Iterator[Slot]:
    """Hold a free slot for the duration of the block (waiting up to `slot_wait_seconds`)."""
    config.lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    root = os.geteuid() == 0
    deadline = time.monotonic() + config.slot_wait_seconds
    while True:
        for index in range(config.uid_count):
            uid = config.uid_first + index
            fd = _lock(config.lock_dir / f"{uid}.lock")
            if fd is None:
                continue
            try:
                if root and not kill_uid(uid):
                    continue  # something of this uid will not die: leave the slot alone
                yield Slot(index, uid if root else os.geteuid())
                return
            finally:
                os.close(fd)  # closing the only descriptor releases the lock
        if time.monotonic() > deadline:
            raise InfrastructureError(
                f"sandbox: all {config.uid_count} slots stayed busy for {config.slot_wait_seconds:g} s"
            )
        time.sleep(0.1)
