"""Run untrusted Python in a bubblewrap sandbox; see `process` for the mechanics.

    with workspace() as ws:
        outcome = run_python(script, ["arg"], limits=Limits(), package=ws / "pkg")
        report = failure_report(outcome, limits)   # None when the run succeeded

Each run gets a slot (its own uid), a cgroup and a seccomp filter (`isolation`); the worker
sets where those live with `configure(SandboxConfig(...))` at start-up.
"""

from grader.sandbox import health
from grader.sandbox.command import inside_input, inside_output
from grader.sandbox.config import SandboxConfig, configure, configured
from grader.sandbox.health import Health
from grader.sandbox.isolation import Isolation, SandboxSetupError, isolation
from grader.sandbox.process import Outcome, run_python, workspace
from grader.sandbox.runtime import SANDBOX_UID, check_reachable, runtime
from grader.sandbox.slots import processes_of
from grader.sandbox.verdicts import failure_report

__all__ = [
    "SANDBOX_UID",
    "Health",
    "Isolation",
    "Outcome",
    "SandboxConfig",
    "SandboxSetupError",
    "check_reachable",
    "configure",
    "configured",
    "failure_report",
    "health",
    "inside_input",
    "inside_output",
    "isolation",
    "processes_of",
    "run_python",
    "runtime",
    "workspace",
]
