"""Explicit, typed resource limits for running student code (never read from the environment)."""

from __future__ import annotations

from dataclasses import dataclass

from grader.catalog import PACKAGE_FILES, PACKAGE_UNPACKED_BYTES


@dataclass(frozen=True)
class Limits:
    #: whole run, start-up and imports included; the process group is killed at the limit
    wall_seconds: float = 120.0
    #: CPU time of the whole run (its cgroup), and RLIMIT_CPU of each process
    cpu_seconds: int = 120
    #: memory of the whole run (its cgroup: shared memory and memfds included), and RLIMIT_AS
    #: (address space) of each process; Paddle needs about 1 GiB just to import
    memory_bytes: int = 4 * 1024**3
    #: processes *and threads* of the run (pids cgroup), and RLIMIT_NPROC of its slot's uid
    processes: int = 64
    #: RLIMIT_FSIZE: the largest file the program may write (and the largest package file)
    file_bytes: int = 64 * 1024**2
    open_files: int = 256
    #: stdout+stderr kept for the log (head and tail); the rest is counted and dropped
    output_bytes: int = 64 * 1024
    #: stdout+stderr beyond this much in total kills the run (a flood, not a log)
    flood_bytes: int = 16 * 1024**2
    #: size of each writable tmpfs (work dir beyond the package, /tmp, /dev/shm)
    scratch_bytes: int = 256 * 1024**2
    #: OMP/OpenBLAS/MKL threads inside the sandbox
    threads: int = 1
    #: CPU quota of the whole run (cgroup): its processes together get this many CPUs
    cpus: float = 1.0
    #: uploaded code package: compressed size, unpacked size and number of entries
    package_bytes: int = 32 * 1024**2
    unpacked_bytes: int = PACKAGE_UNPACKED_BYTES
    package_files: int = PACKAGE_FILES
    #: GPU index handed to the sandbox, or None for CPU only
    gpu: str | None = None
