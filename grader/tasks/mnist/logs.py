"""What the student sees of a run on hidden digits: the verdict and a bounded, scrubbed summary.

A program can print the images it is given; a log of the hidden run handed to the student gave
away about a thousand hidden digits per submission. So the student's log comes from a run on a
few public sample digits (where printing shows nothing secret), and of the hidden run only facts
the grader measured itself: exit status, a builtin exception's name (an arbitrary class name
could carry data), wall and CPU seconds, peak memory and how much it printed. The full log of
the hidden run goes to `Report.staff_log`.
"""

from __future__ import annotations

import builtins
import signal

from grader.sandbox import Outcome

#: exception names a student's log may show: Python's own, never a class the program named
_BUILTIN_ERRORS = frozenset(
    name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)


def scrubbed_error(name: str | None) -> str | None:
    """The exception name a run on hidden data may report to the student."""
    if name is None or name in _BUILTIN_ERRORS:
        return name
    return "Exception"


def sample_header(count: int) -> str:
    return f"=== run on {count} public sample digits (training set) ===\n"


def sample_footer(predicted: list[int], expected: list[int]) -> str:
    return (f"\npredicted: {' '.join(map(str, predicted))}\n"
            f"expected:  {' '.join(map(str, expected))}\n")


def hidden_summary(outcome: Outcome) -> str:
    """The hidden run, as numbers the grader measured (nothing the program chose to print)."""
    facts = [f"exit status {outcome.exit_code}" if outcome.signal is None else _signal(outcome.signal)]
    if outcome.error is not None:
        facts.append(str(scrubbed_error(outcome.error)))
    facts.append(f"{outcome.wall_seconds:.1f} s wall")
    if outcome.cpu_seconds is not None:
        facts.append(f"{outcome.cpu_seconds:.1f} s CPU")
    if outcome.memory_peak_bytes is not None:
        facts.append(f"peak memory {outcome.memory_peak_bytes / 1024**2:.0f} MiB")
    facts.append(f"{outcome.output_bytes} bytes of output (shown to staff only)")
    return "\n=== run on the hidden test digits ===\n" + ", ".join(facts) + "\n"


def _signal(number: int) -> str:
    try:
        return f"killed by {signal.Signals(number).name}"
    except ValueError:
        return f"killed by signal {number}"
