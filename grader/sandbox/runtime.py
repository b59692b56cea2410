"""What the sandbox must see of the host to run Python with NumPy and Paddle, and nothing more.

The Python that runs the grader also runs the student's code, so its files are bound read-only:
the interpreter binary (and the symlink hops that lead to it from the venv), the standard
library and the system's shared libraries at their own paths, the venv (`sys.prefix`, which holds
numpy and paddle) at the neutral `/camp/venv`. The repository, the data sets and the rest of the
host are simply absent.

Student code runs as the unprivileged uid 65534, so every bound path must be reachable by it:
a venv under a 0700 home directory is not, and is reported as an `InfrastructureError` up front
instead of surfacing as the student's "ImportError".
"""

from __future__ import annotations

import functools
import os
import stat
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from grader.report import InfrastructureError

#: the unprivileged user student code runs as (the traditional "nobody")
SANDBOX_UID = 65534


#: where the virtualenv appears inside: its host path (a checkout's location) stays outside
VENV_INSIDE = "/camp/venv"


@dataclass(frozen=True)
class Runtime:
    """Host paths bound read-only into every sandbox (`ro_binds`) plus symlinks to recreate.
    `python` is the interpreter's path inside; `renamed` maps a bound host path to the neutral
    path it appears at (the virtualenv), every other bind keeps its host path."""

    python: str
    ro_binds: tuple[str, ...]
    symlinks: tuple[tuple[str, str], ...]  # (target, link path)
    renamed: tuple[tuple[str, str], ...] = ()  # (host path, path inside)

    def inside(self, host_path: str) -> str:
        """Where a bound host path appears inside the sandbox."""
        return dict(self.renamed).get(host_path, host_path)

    def exposes(self, path: str | Path) -> bool:
        """Whether a host path would be visible inside the sandbox."""
        resolved = Path(path).resolve()
        return any(resolved.is_relative_to(Path(b).resolve()) for b in self.ro_binds)


def _lib_dirs() -> list[str]:
    """Shared-library directories: the multiarch dirs (or all of lib) and the lib64 dirs."""
    arch = sysconfig.get_config_var("MULTIARCH")
    libs = [f"/usr/lib/{arch}", f"/lib/{arch}"] if arch else ["/usr/lib", "/lib"]
    found: list[str] = []
    for path in [*libs, "/usr/lib64", "/lib64"]:
        # skip paths reached through a symlink (/lib -> usr/lib): the link is recreated instead
        if os.path.isdir(path) and os.path.realpath(path) == path and path not in found:
            found.append(path)
    return found


def _top_symlinks() -> list[tuple[str, str]]:
    """Merged-/usr systems link /lib, /lib64, /bin into /usr; the sandbox needs the same links."""
    return [(os.readlink(p), p) for p in ("/lib", "/lib64", "/bin") if os.path.islink(p)]


def _executable_chain(executable: str, bound: list[str]) -> tuple[list[tuple[str, str]], str]:
    """Symlink hops from `executable` to the real binary that lie outside `bound` dirs."""
    links: list[tuple[str, str]] = []
    path = os.path.join(os.path.realpath(os.path.dirname(executable)), os.path.basename(executable))
    for _ in range(16):  # a symlink loop would be a broken host; stop rather than spin
        if not os.path.islink(path):
            break
        target = os.readlink(path)
        if not any(Path(path).is_relative_to(b) for b in bound):
            links.append((target, path))
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
    return links, path


@functools.cache
def runtime() -> Runtime:
    """The binds for this process's Python, computed and checked once per process.

    Besides Python, `/bin/sh` is needed: `import paddle` runs `ldd --version | awk ...` through
    the shell (and shrugs off the missing ldd and awk), but raises if there is no shell at all.
    """
    prefix = os.path.realpath(sys.prefix)
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    dirs = [prefix, *([] if Path(stdlib).is_relative_to(prefix) else [stdlib]), *_lib_dirs()]
    binds, links = list(dirs), _top_symlinks()
    for executable in (sys.executable, "/bin/sh"):
        hops, binary = _executable_chain(os.path.abspath(executable), dirs)
        links += hops
        if not any(Path(binary).is_relative_to(d) for d in dirs):
            binds.append(binary)
    if os.path.isfile("/etc/ld.so.cache"):
        binds.append("/etc/ld.so.cache")  # faster library lookup; lists paths, holds no secrets
    python = os.path.abspath(sys.executable)
    renamed: tuple[tuple[str, str], ...] = ()
    venv = os.path.abspath(sys.prefix)
    if sys.prefix != sys.base_prefix and Path(python).is_relative_to(venv):
        # a virtualenv is relocatable: inside it is /camp/venv, so no host path shows up in
        # tracebacks, sys.path or /proc/self/cmdline
        python = f"{VENV_INSIDE}/{Path(python).relative_to(venv)}"
        renamed = ((prefix, VENV_INSIDE),)
    rt = Runtime(python, tuple(binds), tuple(links), renamed)
    if os.geteuid() == 0:
        for path in [*rt.ro_binds, *_import_probes()]:
            check_reachable(path)
    return rt


def _import_probes() -> list[str]:
    """A few files deep in the venv: a venv installed with umask 077 fails here, not later."""
    probes = []
    for name in ("numpy", "paddle"):
        spec_path = Path(sysconfig.get_paths()["purelib"]) / name / "__init__.py"
        if spec_path.exists():
            probes.append(str(spec_path))
    return probes


def check_reachable(path: str | Path, uid: int = SANDBOX_UID) -> None:
    """Raise `InfrastructureError` unless `uid` (no groups) can reach and read `path`.

    Checks the permission bits of every ancestor (search) and of the path itself (read, and
    search for a directory) the way the kernel would for a user who owns none of them.
    """
    target = Path(path).resolve()
    for directory in [*reversed(target.parents), target]:
        st = directory.stat()
        need = stat.S_IXOTH if directory != target else stat.S_IROTH
        if directory == target and stat.S_ISDIR(st.st_mode):
            need |= stat.S_IXOTH
        owner_bits = (st.st_mode >> 6) & 0o7
        allowed = owner_bits if st.st_uid == uid else st.st_mode & 0o7
        if allowed & need != need:
            raise InfrastructureError(
                f"sandbox: {path} is not readable by uid {uid} ({directory} has mode "
                f"{stat.filemode(st.st_mode)}); install the grader's virtualenv where every user "
                "can read it (for example with Debian's /usr/bin/python3 outside /root)"
            )
