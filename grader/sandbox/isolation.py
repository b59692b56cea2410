"""Prepare, enter and tear down the isolation of one run: a slot uid, a cgroup, a seccomp filter.

    with isolation(limits, config) as box:
        argv = box.privilege_drop() + bwrap argv with "--seccomp", str(fd) ...
        proc = Popen(argv, preexec_fn=box.preexec(limits, gpu), pass_fds=(fd, ...))
        ...
        usage = box.terminate()     # every process of the run is dead when this returns

Anything started with `box.preexec` (a run, or a process started ahead of time and kept warm)
lands in the run's cgroup and, through `privilege_drop`, under the slot's uid. Leaving the block
kills what is left, checks that no process of the slot's uid survives, removes the cgroup and
frees the slot. A failure of that machinery raises `SandboxSetupError` (never a verdict).
"""

from __future__ import annotations

import itertools
import logging
import os
import resource
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from grader.limits import Limits
from grader.report import InfrastructureError
from grader.sandbox import health
from grader.sandbox.cgroups import RunCgroup, Support, Usage, detect, remove_stale
from grader.sandbox.config import SandboxConfig
from grader.sandbox.slots import Slot, kill_uid, processes_of, slot

log = logging.getLogger(__name__)
_runs = itertools.count()


class SandboxSetupError(InfrastructureError):
    """The isolation could not be prepared or torn down (a host problem, retried elsewhere)."""


@dataclass
class Isolation:
    slot: Slot
    support: Support
    cgroup: RunCgroup | None
    usage: Usage = field(default_factory=Usage)
    _done: bool = False

    @property
    def uid(self) -> int:
        return self.slot.uid

    @property
    def allow_memfd(self) -> bool:
        """memfds are only allowed where the memory cgroup charges their pages to the run."""
        return self.cgroup is not None

    def privilege_drop(self) -> list[str]:
        """Root sheds its uid *before* bwrap: as root RLIMIT_NPROC is not enforced, and a uid
        of its own keeps the slot's processes apart from every other slot's."""
        if os.geteuid() != 0:
            return []
        ids = str(self.uid)
        return ["setpriv", f"--reuid={ids}", f"--regid={ids}", "--clear-groups", "--"]

    def preexec(self, limits: Limits, gpu: bool) -> Callable[[], None]:
        """What the child does between fork and exec: join the cgroup, then set its rlimits."""
        procs = self.cgroup.procs_fds() if self.cgroup is not None else []
        pairs = _rlimit_pairs(limits, gpu)

        def apply() -> None:  # only syscalls: the parent may have threads
            for fd in procs:
                os.write(fd, b"0")
            for which, soft, hard in pairs:
                resource.setrlimit(which, (soft, hard))

        apply.fds = procs  # type: ignore[attr-defined]  # closed by `close_preexec`
        return apply

    def terminate(self) -> Usage:
        """Kill every process of the run and wait until none is left; return what it used."""
        if self._done:
            return self.usage
        if self.cgroup is not None:
            emptied = self.cgroup.kill()
            self.usage = self.cgroup.usage()
            if not emptied:
                raise SandboxSetupError("sandbox: the run's cgroup would not empty after SIGKILL")
        if os.geteuid() == 0 and not kill_uid(self.uid):
            raise SandboxSetupError(f"sandbox: processes of uid {self.uid} survived SIGKILL")
        self._done = True
        return self.usage


def close_preexec(hook: Callable[[], None]) -> None:
    for fd in getattr(hook, "fds", []):
        os.close(fd)


def _rlimit_pairs(limits: Limits, gpu: bool) -> list[tuple[int, int, int]]:
    memory = resource.RLIMIT_DATA if gpu else resource.RLIMIT_AS
    return [
        (resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1),
        (memory, limits.memory_bytes, limits.memory_bytes),
        (resource.RLIMIT_NPROC, limits.processes, limits.processes),
        (resource.RLIMIT_FSIZE, limits.file_bytes, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files, limits.open_files),
        (resource.RLIMIT_CORE, 0, 0),
    ]


def cgroup_support(config: SandboxConfig) -> Support:
    """Which cgroups runs get; warns once per process when there are none. A version asked for
    by name ("v1", "v2") is required: without it every set-up fails (and the worker stops)."""
    support = detect(config.cgroups, config.cgroup_name)
    health.note_cgroups(support)
    if config.cgroups in ("v1", "v2") and support.version != config.cgroups:
        raise SandboxSetupError(f"sandbox: cgroup {config.cgroups} was required: {support.reason}")
    return support


@contextmanager
def isolation(limits: Limits, config: SandboxConfig) -> Iterator[Isolation]:
    """Hold a slot and a fresh cgroup for one run; tear both down, checked, on the way out."""
    support = cgroup_support(config)
    with slot(config) as held:
        cgroup = None
        if support.available:
            try:
                if remove_stale(support, f"run-{held.uid}-"):  # a worker died mid-run: its groups
                    log.warning("sandbox: removed cgroups left by a lost run of uid %s", held.uid)
                cgroup = RunCgroup(support, f"run-{held.uid}-{os.getpid()}-{next(_runs)}")
                cgroup.limit(limits.memory_bytes, limits.processes, limits.cpus)
            except OSError as exc:
                if cgroup is not None:
                    cgroup.remove()
                raise SandboxSetupError(f"sandbox: cannot prepare the run's cgroup: {exc}") from exc
        box = Isolation(held, support, cgroup)
        try:
            yield box
        finally:
            try:
                box.terminate()
            finally:
                if cgroup is not None:
                    cgroup.remove()
        if os.geteuid() == 0 and processes_of(held.uid):
            raise SandboxSetupError(f"sandbox: processes of uid {held.uid} outlived the run")
