"""One cgroup per sandboxed run: memory, pids and CPU limits for the whole process tree,
CPU time and peak memory measured, and a kill that leaves nothing behind.

A process in the run's cgroup cannot leave it (the sandbox user owns none of the cgroup files),
so whatever it forks, double-forks, ptraces or parks stays countable and killable:

* memory: one budget for every process of the run, page cache and shared memory (tmpfs pages,
  memfds) included; the kernel's OOM killer acts inside the group only;
* pids: one budget for processes and threads of this run (not of a shared uid);
* cpu: a CFS quota (so sixteen busy processes get `cpus` CPUs together, not sixteen);
* kill: the group is frozen (no fork can race the kill), every member gets SIGKILL, the group is
  thawed, and the run is over only when the group is empty; then it is removed.

cgroup v2 (one unified hierarchy) is preferred; v1 (a hierarchy per controller, as on this kind
of host) is used when v2 lacks the memory and pids controllers. Groups are created below the
worker's own cgroup, in a directory named by `SandboxConfig.cgroup_name`. Without usable
cgroups, `detect` says why and the sandbox falls back to per-process rlimits (loudly).
"""

from __future__ import annotations

import errno
import functools
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

V1_CONTROLLERS = ("pids", "memory", "freezer", "cpu", "cpuacct")
V1_REQUIRED = ("pids", "memory", "freezer")
V2_REQUIRED = ("memory", "pids")
_PERIOD_US = 100_000


@dataclass(frozen=True)
class Support:
    """What this host offers: `version` is "v2", "v1" or "none" (then `reason` says why)."""

    version: str
    reason: str = ""
    #: v2: {"unified": base dir}; v1: {controller: base dir}
    bases: tuple[tuple[str, Path], ...] = ()

    @property
    def available(self) -> bool:
        return self.version != "none"


@dataclass(frozen=True)
class Usage:
    """What the cgroup counted for one run (None where the host cannot tell)."""

    cpu_seconds: float | None = None
    memory_peak_bytes: int | None = None
    oom_kills: int = 0


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(fstype, mount point, mount root, super options) of every cgroup mount."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((tail[0], fields[4], fields[3], set(tail[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under "" its v2 path."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def _below(mount: str, root: str, own: str) -> Path:
    rel = own[len(root):] if root != "/" and own.startswith(root) else own
    return Path(mount) / rel.lstrip("/")


def _write(path: Path, value: str) -> None:
    with open(path, "w") as stream:
        stream.write(value)


def _enable_v2(group: Path, wanted: Sequence[str]) -> None:
    """Delegate controllers to `group`'s children. A v2 group with processes cannot do that
    (no internal processes), so the worker's processes move into a leaf beside the runs first."""
    try:
        _write(group / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            raise
        leaf = group / "camp-supervisor"
        leaf.mkdir(exist_ok=True)
        for pid in (group / "cgroup.procs").read_text().split():
            try:
                _write(leaf / "cgroup.procs", pid)
            except ProcessLookupError:
                pass
        _write(group / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))


def _detect_v2(name: str) -> Support:
    mount = next((m for m in _mounts() if m[0] == "cgroup2"), None)
    if mount is None:
        return Support("none", "no cgroup2 mount")
    own = _below(mount[1], mount[2], _own_paths().get("", "/"))
    offered = (own / "cgroup.controllers").read_text().split()
    missing = [c for c in V2_REQUIRED if c not in offered]
    if missing:
        return Support("none", f"cgroup v2 at {mount[1]} lacks {', '.join(missing)}")
    wanted = [c for c in ("memory", "pids", "cpu") if c in offered]
    base = own / name
    _enable_v2(own, wanted)
    base.mkdir(exist_ok=True)
    _write(base / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
    return Support("v2", bases=(("unified", base),))


def _detect_v1(name: str) -> Support:
    own, bases = _own_paths(), {}
    for fstype, point, root, options in _mounts():
        for controller in V1_CONTROLLERS:
            if fstype == "cgroup" and controller in options and controller not in bases:
                bases[controller] = _below(point, root, own.get(controller, "/")) / name
    missing = [c for c in V1_REQUIRED if c not in bases]
    if missing:
        return Support("none", f"cgroup v1 lacks {', '.join(missing)}")
    for base in set(bases.values()):
        base.mkdir(exist_ok=True)
    return Support("v1", bases=tuple(sorted(bases.items())))


@functools.cache
def detect(mode: str, name: str) -> Support:
    """Which cgroups this worker can use (checked once per process, by creating its base)."""
    if mode == "none":
        return Support("none", "disabled by configuration")
    if os.geteuid() != 0:
        return Support("none", "the worker does not run as root")
    reasons = []
    for version, probe in (("v2", _detect_v2), ("v1", _detect_v1)):
        if mode not in ("auto", version):
            continue
        try:
            found = probe(name)
        except OSError as exc:
            found = Support("none", f"cgroup {version}: {exc}")
        if found.available:
            return found
        reasons.append(found.reason)
    return Support("none", "; ".join(reasons))


class RunCgroup:
    """The cgroup of one run (a directory per v1 controller, or one v2 directory)."""

    def __init__(self, support: Support, run: str, create: bool = True) -> None:
        self.version = support.version
        self.dirs = {controller: base / run for controller, base in support.bases}
        for path in set(self.dirs.values()) if create else ():
            path.mkdir()

    def _dir(self, controller: str) -> Path | None:
        return self.dirs.get("unified" if self.version == "v2" else controller)

    def _read(self, controller: str, name: str) -> str | None:
        path = self._dir(controller)
        try:
            return (path / name).read_text() if path is not None else None
        except OSError:
            return None

    def limit(self, memory_bytes: int, processes: int, cpus: float) -> None:
        quota = max(1000, int(cpus * _PERIOD_US))
        if self.version == "v2":
            d = self.dirs["unified"]
            _write(d / "memory.max", str(memory_bytes))
            _optional(d / "memory.swap.max", "0")
            _write(d / "pids.max", str(processes))
            _optional(d / "cpu.max", f"{quota} {_PERIOD_US}")
            return
        _write(self.dirs["memory"] / "memory.limit_in_bytes", str(memory_bytes))
        _optional(self.dirs["memory"] / "memory.memsw.limit_in_bytes", str(memory_bytes))
        _write(self.dirs["pids"] / "pids.max", str(processes))
        if "cpu" in self.dirs:
            _optional(self.dirs["cpu"] / "cpu.cfs_period_us", str(_PERIOD_US))
            _optional(self.dirs["cpu"] / "cpu.cfs_quota_us", str(quota))

    def weigh(self, idle: bool) -> None:
        """CPU weight against the other runs: the lowest while a warm sandbox imports and waits,
        the default (as every cold run has) once it runs a program."""
        if self.version == "v2":
            _optional(self.dirs["unified"] / "cpu.weight", "1" if idle else "100")
        elif "cpu" in self.dirs:
            _optional(self.dirs["cpu"] / "cpu.shares", "2" if idle else "1024")

    def procs_fds(self) -> list[int]:
        """Open `cgroup.procs` files: writing "0" to each moves the writer into the run's group
        (done between fork and exec, so the sandbox starts inside it)."""
        return [os.open(p / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for p in set(self.dirs.values())]

    def pids(self) -> list[int]:
        members: set[int] = set()
        for path in set(self.dirs.values()):
            try:
                members.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return sorted(members)

    def usage(self) -> Usage:
        cpu = None
        if self.version == "v2":
            stat = dict(line.split() for line in (self._read("cpu", "cpu.stat") or "").splitlines())
            cpu = int(stat["usage_usec"]) / 1e6 if "usage_usec" in stat else None
            peak = self._read("memory", "memory.peak")
            events = self._read("memory", "memory.events") or ""
        else:
            used = self._read("cpuacct", "cpuacct.usage")
            cpu = int(used) / 1e9 if used else None
            peak = self._read("memory", "memory.max_usage_in_bytes")
            events = self._read("memory", "memory.oom_control") or ""
        counters = dict(line.split() for line in events.splitlines() if len(line.split()) == 2)
        return Usage(cpu, int(peak) if peak else None, int(counters.get("oom_kill", 0)))

    def memory_current(self) -> int | None:
        """Memory the run's processes hold now (page cache and tmpfs included)."""
        name = "memory.current" if self.version == "v2" else "memory.usage_in_bytes"
        value = self._read("memory", name)
        return int(value) if value else None

    def cpu_seconds(self) -> float | None:
        return self.usage().cpu_seconds

    def _freeze(self, frozen: bool) -> None:
        if self.version == "v2":
            _optional(self.dirs["unified"] / "cgroup.freeze", "1" if frozen else "0")
        else:
            _optional(self.dirs["freezer"] / "freezer.state", "FROZEN" if frozen else "THAWED")

    def _wait_frozen(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.version == "v2":
                if "frozen 1" in (self._read("unified", "cgroup.events") or ""):
                    return
            elif (self._read("freezer", "freezer.state") or "").strip() == "FROZEN":
                return
            time.sleep(0.01)

    def kill(self, patience: float = 10.0) -> bool:
        """SIGKILL every member and wait until the group is empty; False if it would not empty."""
        deadline = time.monotonic() + patience
        while self.pids():
            if self.version == "v2" and _optional(self.dirs["unified"] / "cgroup.kill", "1"):
                pass  # the kernel kills the whole group atomically (Linux 5.14+)
            else:
                self._freeze(True)
                self._wait_frozen(min(deadline, time.monotonic() + 1.0))
                for pid in self.pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self._freeze(False)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def remove(self) -> None:
        for path in set(self.dirs.values()):
            for _ in range(50):  # a just-emptied group can be busy for a moment
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def remove_stale(support: Support, prefix: str) -> int:
    """Kill and remove run groups named `prefix*` (a slot's, left by a holder that died before
    tearing down; the caller holds that slot, so none of them is live). Returns how many."""
    names = {child.name for _, base in support.bases for child in base.glob(f"{prefix}*") if child.is_dir()}
    for name in names:
        stale = RunCgroup(support, name, create=False)
        stale.kill()
        stale.remove()
    return len(names)


def _optional(path: Path, value: str) -> bool:
    """Write a setting this kernel may not have (swap accounting, cgroup.kill...)."""
    try:
        _write(path, value)
        return True
    except OSError:
        return False
