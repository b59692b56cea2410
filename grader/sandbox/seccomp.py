"""The seccomp filter of the student's process, compiled once per worker by libseccomp.

bwrap loads it (`--seccomp FD`) just before it execs the program, so it binds the program and
every descendant; bwrap's own set-up is not filtered. Denied calls fail with EPERM (the program
sees an ordinary error, not a crash). libseccomp also refuses foreign ABIs (x32, i386) on x86_64,
which would otherwise be a way around a list of syscall numbers.

Denied: looking into or steering other processes (`ptrace`, `process_vm_readv/writev`, `kcmp`),
kernel keyrings, eBPF, perf events, userfaultfd, io_uring (its own syscall surface), Linux AIO
(`io_setup` reserves events from one host-wide budget, `fs.aio-max-nr`), reading or emptying
the host's page cache of a file (`fadvise64`, `cachestat`, `preadv2` with RWF_NOWAIT), mounts and
namespaces (`mount`, `unshare`, `setns`, `clone` with a CLONE_NEW* flag; `clone3` answers ENOSYS
so the C library falls back to `clone`, whose flags can be checked), modules, reboot, clocks,
`memfd_create` unless the run's memory cgroup counts what a memfd holds, and `fallocate` with any
mode but 0: FALLOC_FL_KEEP_SIZE reserves blocks past the end of a file without growing it, which
RLIMIT_FSIZE does not check, and the output files bound in lie on the worker's disk (a program
took all of it through a file of size 0). Mode 0 grows the file and stays within RLIMIT_FSIZE.
The same reservation through `ioctl` (FS_IOC_RESVSP, FS_IOC_RESVSP64, FS_IOC_ZERO_RANGE: the
kernel turns them into fallocate with FALLOC_FL_KEEP_SIZE on any file system) is refused too;
their request numbers are compared on the low 32 bits, all the kernel reads of them.
"""

from __future__ import annotations

import errno
import functools
import os
import tempfile

import pyseccomp

DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # Linux AIO: its contexts count against fs.aio-max-nr, one budget for the whole host, not
    # per namespace or cgroup; one io_setup of 65536 events took all of it while the run lasted
    "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
    # the host's page cache as a channel between runs (see RWF_NOWAIT below): emptying the cache
    # of a shared file, and asking how much of a file is cached
    "fadvise64", "cachestat",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "open_by_handle_at",
    "name_to_handle_at", "fanotify_init", "init_module", "finit_module", "delete_module",
    "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl",
    "syslog", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname",
    "setdomainname", "iopl", "ioperm", "personality", "lookup_dcookie", "vhangup",
)
#: ioctls that reserve blocks like fallocate(FALLOC_FL_KEEP_SIZE): FS_IOC_RESVSP,
#: FS_IOC_RESVSP64, FS_IOC_ZERO_RANGE (_IOW('X', 40 / 42 / 57, struct space_resv))
RESERVING_IOCTLS = (0x40305828, 0x4030582A, 0x40305839)
RWF_NOWAIT = 0x00000008
#: every CLONE_NEW* flag: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
CLONE_NEW_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 \
    | 0x40000000 | 0x00000080


def _known(name: str) -> bool:
    try:
        pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
    except Exception:
        return False
    return True


@functools.cache
def program(allow_memfd: bool) -> bytes:
    """The BPF program (raw `struct sock_filter` array) bwrap expects on its --seccomp fd."""
    deny = pyseccomp.ERRNO(errno.EPERM)
    flt = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    for name in (*DENIED, *(() if allow_memfd else ("memfd_create",))):
        if _known(name):
            flt.add_rule(deny, name)
    flt.add_rule(deny, "fallocate", pyseccomp.Arg(1, pyseccomp.NE, 0))
    # preadv2(..., RWF_NOWAIT) fails rather than wait for the disk: it tells, page by page and
    # without any timing, what the host's page cache holds of a file every run can read (the
    # venv's). With fadvise to empty it, one run wrote 64 bits there and a later run read them.
    flt.add_rule(deny, "preadv2", pyseccomp.Arg(5, pyseccomp.MASKED_EQ, RWF_NOWAIT, RWF_NOWAIT))
    for request in RESERVING_IOCTLS:  # `unsigned int`: a raw call may set the upper half
        flt.add_rule(deny, "ioctl", pyseccomp.Arg(1, pyseccomp.MASKED_EQ, 0xFFFFFFFF, request))
    for flag in _flags(CLONE_NEW_FLAGS):
        flt.add_rule(deny, "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    flt.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as out:
        flt.export_bpf(out)
        out.seek(0)
        return out.read()


def _flags(mask: int) -> list[int]:
    return [1 << bit for bit in range(32) if mask & (1 << bit)]


def program_fd(allow_memfd: bool) -> int:
    """A fresh pipe holding the program, for bwrap to read (the caller passes it on and closes it)."""
    data = program(allow_memfd)
    read, write = os.pipe()
    try:
        os.write(write, data)  # a few hundred bytes: far below the pipe buffer
    finally:
        os.close(write)
    return read
