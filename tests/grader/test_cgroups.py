"""The run cgroup on its own: both hierarchies create, fill, kill until empty and remove.

The sandbox picks one version per host; these tests drive each version this host mounts, so the
v2 code (cgroup.kill, cgroup.procs, cpu.stat) is exercised even on a host that grades with v1.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from grader.sandbox.cgroups import RunCgroup, Support, _below, _mounts, _own_paths, detect, remove_stale
from tests.support import sandbox as test_sandbox

# each test kills and times real processes in cgroups of their own (seconds each)
pytestmark = [pytest.mark.skipif(os.geteuid() != 0, reason="cgroups are created by root"), pytest.mark.slow]


def spawn_into(group: RunCgroup) -> subprocess.Popen[bytes]:
    """A shell that forks two sleepers and a busy loop, started inside `group`."""
    fds = group.procs_fds()

    def enter() -> None:
        for fd in fds:
            os.write(fd, b"0")

    try:
        return subprocess.Popen(["sh", "-c", "sleep 100 & sleep 100 & while :; do :; done"],
                                preexec_fn=enter, start_new_session=True)
    finally:
        for fd in fds:
            os.close(fd)


def exercise(support: Support) -> None:
    group = RunCgroup(support, f"probe-{os.getpid()}")
    try:
        proc = spawn_into(group)
        deadline = 200
        while len(group.pids()) < 4 and deadline:  # sh, two sleeps, and the loop is sh itself
            deadline -= 1
            subprocess.run(["sleep", "0.05"], check=True)
        assert len(group.pids()) >= 3, group.pids()
        assert group.kill()
        assert group.pids() == []
        proc.wait(timeout=30)
        assert group.usage().cpu_seconds is not None
    finally:
        group.remove()
    assert not any(path.exists() for path in group.dirs.values())


def test_the_hierarchy_this_host_grades_with() -> None:
    support = detect("auto", test_sandbox.CGROUP_NAME)
    assert support.available, support.reason
    exercise(support)


def test_cgroup_v2_kill_and_cpu_time() -> None:
    mount = next((m for m in _mounts() if m[0] == "cgroup2"), None)
    assert mount is not None, "no cgroup2 mount on this host"
    base = _below(mount[1], mount[2], _own_paths().get("", "/")) / f"{test_sandbox.CGROUP_NAME}-v2"
    base.mkdir(exist_ok=True)
    try:
        exercise(Support("v2", bases=(("unified", base),)))
    finally:
        base.rmdir()
    assert not Path(base).exists()


def test_groups_left_by_a_lost_worker_are_removed_with_what_runs_in_them() -> None:
    """A worker killed mid-run never tore its group down; the next holder of the slot does."""
    support = detect("auto", test_sandbox.CGROUP_NAME)
    uid = test_sandbox.UID_FIRST + test_sandbox.UID_COUNT - 1
    left = RunCgroup(support, f"run-{uid}-99999-0")
    proc = spawn_into(left)
    assert left.pids()
    assert remove_stale(support, f"run-{uid}-") == 1
    assert proc.wait(timeout=30) != 0
    assert not any(path.exists() for path in left.dirs.values())
