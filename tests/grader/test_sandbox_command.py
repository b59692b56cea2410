"""The order of bwrap's mounts matters: later mounts cover earlier ones."""

from __future__ import annotations

from pathlib import Path

from grader.limits import Limits
from grader.sandbox.command import bwrap_argv
from grader.sandbox.runtime import Runtime


def test_a_python_under_tmp_is_bound_after_the_fresh_tmp() -> None:
    """A checkout (and its venv) under /tmp must stay visible: bound after `--tmpfs /tmp`."""
    venv = "/tmp/checkout/.venv"
    argv = bwrap_argv(
        runtime=Runtime(python=f"{venv}/bin/python3", ro_binds=("/usr", venv), symlinks=(("usr/bin", "/bin"),)),
        limits=Limits(), script=Path("/camp/main.py"), args=[], status_fd=3, package=None,
        inputs={}, outputs={}, package_bytes=0, gpu=None,
    )
    tmpfs_tmp = next(i for i, a in enumerate(argv) if a == "/tmp" and argv[i - 1] == "--tmpfs")
    venv_bind = next(i for i, a in enumerate(argv) if a == venv and argv[i - 1] == "--ro-bind")
    assert tmpfs_tmp < venv_bind
    assert argv.index("--symlink") > tmpfs_tmp
