"""Pure grading: reference tasks, sandbox and datasets. Knows nothing of the web or a database.

    from grader import grade
    report = grade("reply_format", assignment="1-1", text="作业1-1：已跑通")

Tasks: `reply_format`, `conv_opcount` (homework 7-1), `mnist` (6-2, runs code in the sandbox).
See docs/grading.md. What the web app may know about them is in `grader.catalog`.

The names below are loaded on first use, not when the package is imported: the web app
imports `grader.catalog` (plain data), and that must not load the tasks, the sandbox or NumPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.api import (
        ConfigError,
        InfrastructureError,
        Job,
        Limits,
        ReferenceTask,
        Report,
        get_task,
        grade,
        queue_for,
        register,
        task_names,
        variant_for,
    )

__all__ = [
    "ConfigError",
    "InfrastructureError",
    "Job",
    "Limits",
    "ReferenceTask",
    "Report",
    "get_task",
    "grade",
    "queue_for",
    "register",
    "task_names",
    "variant_for",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from grader import api

        value = getattr(api, name)
        globals()[name] = value  # found once: later uses skip this hook (a worker asks per grading)
        return value
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
