"""Run untrusted Python in a bubblewrap sandbox; see `process` for the mechanics.

    with workspace() as ws:
        outcome = run_python(script, ["arg"], limits=Limits(), package=ws / "pkg")
        report = failure_report(outcome, limits)   # None when the run succeeded
"""

from grader.sandbox.command import inside_input, inside_output
from grader.sandbox.process import Outcome, run_python, workspace
from grader.sandbox.runtime import SANDBOX_UID, check_reachable, runtime
from grader.sandbox.verdicts import failure_report

__all__ = [
    "SANDBOX_UID",
    "Outcome",
    "check_reachable",
    "failure_report",
    "inside_input",
    "inside_output",
    "run_python",
    "runtime",
    "workspace",
]
