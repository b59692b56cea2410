"""The bubblewrap command line for one sandboxed run (pure: builds a list of strings).

Layout inside the sandbox, all of it on an empty root that is remounted read-only:

    /box            cwd, size-capped tmpfs: a copy of the package, the only writable work dir
    /tmp, /dev/shm  fresh size-capped tmpfs
    /camp/bootstrap.py, /camp/main.py      the trusted bootstrap and the script it runs (ro)
    /camp/pkg       the unpacked package, copied into /box by the bootstrap (ro)
    /camp/in/NAME   input files (ro);   /camp/out/NAME   output files (rw, each a single file)
    /proc           a procfs of the sandbox's own pid namespace (no host processes, no environ)
    /camp/venv      the virtualenv (ro)
    runtime paths   the interpreter, stdlib and shared libraries, at their host paths (ro)

`--unshare-all` gives it fresh user, pid, net (loopback only), ipc, uts and cgroup namespaces;
`--clearenv` drops the caller's environment (secrets included) before a short allow-list is set.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping, Sequence
from pathlib import Path

from grader.limits import Limits
from grader.sandbox.runtime import SANDBOX_UID, Runtime

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
WORKDIR = "/box"
PKG = "/camp/pkg"
MAIN = "/camp/main.py"


def inside_input(name: str) -> str:
    return f"/camp/in/{name}"


def inside_output(name: str) -> str:
    return f"/camp/out/{name}"


def environment(runtime: Runtime, limits: Limits, gpu: str | None) -> dict[str, str]:
    """The whole environment of the sandboxed program: nothing inherited, nothing secret."""
    threads = str(limits.threads)
    return {
        "PATH": f"{Path(runtime.python).parent}:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "CUDA_VISIBLE_DEVICES": gpu if gpu is not None else "",
    }


def gpu_devices() -> list[str]:
    """NVIDIA device nodes present on the host (empty on CPU-only machines)."""
    return sorted(glob.glob("/dev/nvidia*"))


def bwrap_argv(
    *,
    runtime: Runtime,
    limits: Limits,
    script: Path,
    args: Sequence[str],
    status_fd: int,
    secret_fd: int = -1,
    seccomp_fd: int | None = None,
    package: Path | None,
    inputs: Mapping[str, Path],
    outputs: Mapping[str, Path],
    package_bytes: int,
    gpu: str | None,
) -> list[str]:
    """bwrap's arguments (without the privilege drop) for running `script` under the bootstrap."""
    argv = _common(runtime, limits, seccomp_fd, limits.scratch_bytes + package_bytes, gpu)
    argv += ["--ro-bind", str(BOOTSTRAP), "/camp/bootstrap.py", "--ro-bind", str(script), MAIN]
    # the same directories as a warm sandbox has, empty where this run has nothing to put there
    argv += ["--ro-bind", str(package), PKG] if package is not None else ["--dir", PKG]
    argv += ["--dir", "/camp/in", "--dir", "/camp/out"]
    for name, path in inputs.items():
        argv += ["--ro-bind", str(path), inside_input(name)]
    for name, path in outputs.items():
        argv += ["--bind", str(path), inside_output(name)]
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", WORKDIR, "--"]
    # -I: ignore PYTHON* variables and user site; -B: no .pyc; -u: output survives a kill
    argv += [runtime.python, "-I", "-B", "-u", "/camp/bootstrap.py", str(status_fd), str(secret_fd), MAIN]
    return argv + list(args)


def package_allowance(limits: Limits) -> int:
    """The most a package that passed `Limits` can take in the work dir's tmpfs (whole pages
    per file plus a page per entry), for a warm sandbox that starts before its package exists."""
    return limits.unpacked_bytes + 2 * 4096 * limits.package_files


def warm_bwrap_argv(
    *,
    runtime: Runtime,
    limits: Limits,
    home: Path,
    status_fd: int,
    secret_fd: int,
    request_fd: int,
    seccomp_fd: int | None,
    imports: Sequence[str],
    gpu: str | None,
) -> list[str]:
    """bwrap's arguments for a warm sandbox: the same sandbox as `bwrap_argv`, started before its
    run is known. `home` (a host directory made by the pool) holds `main.py` (empty until the
    hand-off), and the directories `pkg`, `in` and `out`, empty too: the grader fills them at the
    hand-off and they appear at the same paths as in a cold run."""
    argv = _common(runtime, limits, seccomp_fd, limits.scratch_bytes + package_allowance(limits), gpu)
    argv += ["--ro-bind", str(BOOTSTRAP), "/camp/bootstrap.py", "--ro-bind", str(home / "main.py"), MAIN]
    argv += ["--ro-bind", str(home / "pkg"), PKG, "--ro-bind", str(home / "in"), "/camp/in",
             "--bind", str(home / "out"), "/camp/out"]
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", WORKDIR, "--"]
    return [*argv, runtime.python, "-I", "-B", "-u", "/camp/bootstrap.py", "--warm", str(status_fd),
            str(secret_fd), str(request_fd), ",".join(imports), "1" if gpu is not None else "0"]


def _common(
    runtime: Runtime, limits: Limits, seccomp_fd: int | None, box_bytes: int, gpu: str | None
) -> list[str]:
    scratch = str(limits.scratch_bytes)
    # Inside, every slot's uid looks like "nobody"; outside it is the slot's own uid. The trusted
    # bootstrap is pid 1: signals from inside its pid namespace cannot kill it.
    argv = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--new-session",
            "--die-with-parent", "--as-pid-1", "--hostname", "camp", "--clearenv",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    for name, value in environment(runtime, limits, gpu).items():
        argv += ["--setenv", name, value]
    # bwrap's /dev has a devpts of its own, but every pty opened there counts against the host's
    # kernel.pty.max (4096, of which 1024 are kept for the host's own devpts): one run opening
    # 252 a process took them all. No program here needs a terminal: /dev/ptmx does not open.
    argv += ["--proc", "/proc", "--dev", "/dev", "--ro-bind", "/dev/null", "/dev/pts/ptmx"]
    for device in gpu_devices() if gpu is not None else []:
        argv += ["--dev-bind", device, device]
    argv += ["--size", scratch, "--tmpfs", "/dev/shm", "--size", scratch, "--tmpfs", "/tmp"]
    # After the fresh /tmp: a Python or venv that lives under /tmp stays visible inside.
    for system_path in runtime.ro_binds:
        argv += ["--ro-bind", system_path, runtime.inside(system_path)]
    for target, link in runtime.symlinks:
        argv += ["--symlink", target, link]
    # the work dir holds a copy of the package plus `scratch_bytes` of the program's own files
    return [*argv, "--size", str(box_bytes), "--tmpfs", WORKDIR]
