"""This test run's own sandbox slots: a uid range and a cgroup name no other run uses.

Hostile tests kill and count processes by uid and by cgroup; with their own range they can
never touch (or be confused by) the sandboxes of another test run sharing the machine.
"""

from __future__ import annotations

import os
from pathlib import Path

from grader.sandbox import SandboxConfig

RUN = os.getpid()
#: 16 uids per run, far above any real user (and above the default 60000 range)
UID_FIRST = 200_000 + (RUN % 50_000) * 16
UID_COUNT = 16
CGROUP_NAME = f"camp-test-{RUN}"


def config() -> SandboxConfig:
    return SandboxConfig(uid_first=UID_FIRST, uid_count=UID_COUNT, cgroup_name=CGROUP_NAME)


def env() -> dict[str, str]:
    """The same range for worker processes started by the tests (read by app.config). Their warm
    pools are off: a worker started per test would spend CPU importing Paddle for sandboxes it
    never uses, and hold slots that the hostile tests count (tests/test_warm_pool_worker.py turns
    it on)."""
    return {"CAMP_SANDBOX_UID_FIRST": str(UID_FIRST), "CAMP_SANDBOX_UID_COUNT": str(UID_COUNT),
            "CAMP_SANDBOX_CGROUP_NAME": CGROUP_NAME, "CAMP_WARM_POOL_SIZE": "0"}


def remove_cgroup_dirs() -> None:
    """The run's base cgroup directories, empty by now, are removed at the end of the session."""
    for base in Path("/sys/fs/cgroup").glob(f"**/{CGROUP_NAME}"):
        for child in sorted(base.glob("*/"), reverse=True):
            if child.is_dir() and not child.name.startswith("."):
                try:
                    child.rmdir()
                except OSError:
                    pass
        try:
            base.rmdir()
        except OSError:
            pass
