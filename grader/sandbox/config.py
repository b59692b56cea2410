"""Where a worker's sandboxes live on the host: their uid range, cgroup name and lock directory.

Explicit and typed like `Limits`; the worker builds one from its settings at start-up and calls
`configure`, tests build their own (a uid range and a cgroup name per test run, so hostile tests
never touch another run's sandboxes). `run_python` takes one explicitly or uses the configured one.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_MODES = ("auto", "v2", "v1", "none")


def _default_lock_dir() -> Path:
    # /run is root's; an unprivileged worker keeps its slot locks in its own temp dir
    if os.geteuid() == 0:
        return Path("/run/camp-sandbox")
    return Path(tempfile.gettempdir()) / f"camp-sandbox-{os.geteuid()}"


@dataclass(frozen=True)
class SandboxConfig:
    #: first uid of the slot range: slot i runs as uid `uid_first + i` (gid the same number)
    uid_first: int = 60000
    #: number of slots, i.e. sandboxes that may run at once on this machine
    uid_count: int = 64
    #: cgroup directory (under the worker's own cgroup) that holds one child group per run
    cgroup_name: str = "camp-sandbox"
    #: `auto` prefers cgroup v2, then v1; `none` runs with rlimits only (a loud warning)
    cgroups: str = "auto"
    #: one lock file per slot uid; shared by every worker process on the machine
    lock_dir: Path = field(default_factory=_default_lock_dir)
    #: how long a run waits for a free slot before it is an infrastructure failure
    slot_wait_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.cgroups not in CGROUP_MODES:
            raise ValueError(f"cgroups must be one of {CGROUP_MODES}, not {self.cgroups!r}")
        if self.uid_first < 1000 or self.uid_count < 1 or self.uid_first + self.uid_count > 2**31:
            raise ValueError("the sandbox uid range must lie above 999 and hold at least one uid")
        if not self.cgroup_name or "/" in self.cgroup_name or self.cgroup_name.startswith("."):
            raise ValueError(f"bad cgroup name {self.cgroup_name!r}")


_configured = SandboxConfig()


def configure(config: SandboxConfig) -> None:
    """Set the sandbox configuration of this process (the worker does it once at start-up)."""
    global _configured
    _configured = config


def configured() -> SandboxConfig:
    return _configured
