"""Turn a failed sandboxed run into the student's verdict, with a message in both languages."""

from __future__ import annotations

import re
import signal
from collections.abc import Mapping

from grader.limits import Limits
from grader.report import MEMORY_LIMIT, RUNTIME_ERROR, TIME_LIMIT, Report, say
from grader.sandbox.process import Outcome

# what running out of address space looks like from Python, C++ (Paddle) and the loader
_OUT_OF_MEMORY = re.compile(
    r"MemoryError|std::bad_alloc|Cannot allocate memory|failed to map segment|"
    r"ResourceExhaustedError|[Oo]ut of memory"
)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def failure_report(outcome: Outcome, limits: Limits) -> Report | None:
    """The verdict for a run that failed (None when it exited cleanly).

    Order matters: a run whose memory cgroup OOM-killed one of its processes hit the memory limit
    (the kernel's counter, whatever happened next); otherwise a killed run is a time limit even
    if it also printed a traceback; a run that hit RLIMIT_AS shows
    up as MemoryError (claimed through the bootstrap) or as a C++ allocation failure in the log,
    whatever exit status followed.
    """
    detail = {"exit_code": outcome.exit_code, "signal": outcome.signal,
              "wall_seconds": outcome.wall_seconds, "cpu_seconds": outcome.cpu_seconds}
    if outcome.oom_killed:  # the kernel's own counter: the run's memory cgroup hit its limit
        return _memory_limit(limits, detail, outcome.log)
    if outcome.cpu_exceeded:
        return Report(TIME_LIMIT, 0.0, say(
            f"超出 CPU 时间限制（所有进程合计 {limits.cpu_seconds} 秒），程序被终止。",
            f"CPU time limit exceeded ({limits.cpu_seconds} s for all processes together); "
            "the program was killed.",
        ), detail, outcome.log)
    if outcome.timed_out:
        return Report(TIME_LIMIT, 0.0, say(
            f"超出时间限制（{limits.wall_seconds:g} 秒），程序被终止。",
            f"Time limit exceeded ({limits.wall_seconds:g} s wall time); the program was killed.",
        ), detail, outcome.log)
    if outcome.flooded:
        mib = f"{limits.flood_bytes / 1024**2:g}"
        return Report(RUNTIME_ERROR, 0.0, say(
            f"程序输出过多（超过 {mib} MiB），已被终止。",
            f"The program printed too much (over {mib} MiB) and was killed.",
        ), detail, outcome.log)
    if outcome.signal == signal.SIGXCPU:
        return Report(TIME_LIMIT, 0.0, say(
            f"超出 CPU 时间限制（{limits.cpu_seconds} 秒）。",
            f"CPU time limit exceeded ({limits.cpu_seconds} s).",
        ), detail, outcome.log)
    if outcome.ok:
        return None
    # the program's claim and its log only name the failure of a run that did fail
    if outcome.error == "MemoryError" or _OUT_OF_MEMORY.search(outcome.log):
        return _memory_limit(limits, detail, outcome.log)
    if outcome.signal is not None:
        name = _signal_name(outcome.signal)
        return Report(RUNTIME_ERROR, 0.0, say(
            f"程序被信号 {name} 终止，详见日志。", f"The program was killed by {name}; see the log.",
        ), detail, outcome.log)
    what = outcome.error or f"exit status {outcome.exit_code}"
    return Report(RUNTIME_ERROR, 0.0, say(
        f"程序运行出错（{what}），详见日志。", f"The program failed ({what}); see the log.",
    ), detail, outcome.log)


def _memory_limit(limits: Limits, detail: Mapping[str, object], log: str) -> Report:
    mib = f"{limits.memory_bytes / 1024**2:g}"
    return Report(MEMORY_LIMIT, 0.0, say(
        f"超出内存限制（所有进程合计 {mib} MiB）。",
        f"Memory limit exceeded ({mib} MiB for all processes together).",
    ), dict(detail), log)
