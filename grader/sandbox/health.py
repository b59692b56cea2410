"""How well this process's sandbox machinery works, for the worker's heartbeat and /healthz.

Two facts: whether runs get cgroups (without them the limits are per process and a warning is
logged once, loudly), and how many sandbox set-ups failed in a row. After `REFUSE_AFTER`
consecutive set-up failures the worker should stop taking work: the host is broken, and every
further attempt would only burn a student's retries.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from grader.sandbox.cgroups import Support

log = logging.getLogger("grader.sandbox")

REFUSE_AFTER = 3

_lock = threading.Lock()
_support: Support | None = None
_failures = 0
_last_error = ""


@dataclass(frozen=True)
class Health:
    #: "v2", "v1", or "none"
    cgroups: str
    #: why there are no cgroups ("" when there are)
    cgroups_reason: str
    consecutive_failures: int
    last_error: str

    @property
    def refusing(self) -> bool:
        return self.consecutive_failures >= REFUSE_AFTER

    def summary(self) -> str:
        """One line for the heartbeat row: "ok (cgroup v1)", a warning, or why it refuses."""
        if self.refusing:
            return (f"refusing work: {self.consecutive_failures} sandbox set-ups failed in a row; "
                    f"last: {self.last_error}")[:500]
        if self.cgroups == "none":
            return f"warning: no cgroups ({self.cgroups_reason}); limits are per process only"[:500]
        return f"ok (cgroup {self.cgroups})"


def note_cgroups(support: Support) -> None:
    global _support
    with _lock:
        first = _support is None
        _support = support
    if first and not support.available:
        log.warning("SANDBOX WITHOUT CGROUPS: %s. Falling back to per-process rlimits: memory, "
                    "process and CPU budgets are not shared by a run's processes, and processes "
                    "that escape the process group are found by uid only.", support.reason)


def record_failure(error: str) -> None:
    global _failures, _last_error
    with _lock:
        _failures += 1
        _last_error = error[:300]


def record_success() -> None:
    global _failures
    with _lock:
        _failures = 0


def current() -> Health:
    with _lock:
        support = _support
        return Health(support.version if support else "unknown", support.reason if support else "",
                      _failures, _last_error)


def reset() -> None:
    """Forget failures (an operator fixed the host; also used by tests)."""
    global _failures, _last_error
    with _lock:
        _failures, _last_error = 0, ""
