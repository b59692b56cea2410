"""Pure grading: reference tasks, sandbox and datasets. Knows nothing of the web or a database.

    from grader import grade
    report = grade("reply_format", assignment="1-1", text="作业1-1：已跑通")

Tasks: `reply_format`, `conv_opcount` (homework 7-1), `mnist` (6-2, runs code in the sandbox).
See docs/grading.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader import tasks as _tasks  # noqa: F401  (registers every reference task)
from grader.limits import Limits
from grader.registry import Job, ReferenceTask, get_task, register, task_names
from grader.report import ConfigError, InfrastructureError, Report


def grade(
    task: str,
    *,
    assignment: str,
    text: str = "",
    files: Mapping[str, bytes] | None = None,
    config: Mapping[str, Any] | None = None,
    student: str = "",
    limits: Limits | None = None,
) -> Report:
    """Run the reference task `task` on one submission given as plain data."""
    job = Job(
        assignment=assignment,
        text=text,
        files=dict(files or {}),
        config=dict(config or {}),
        student=student,
        limits=limits or Limits(),
    )
    return get_task(task).grade(job)


def variant_for(
    task: str, *, assignment: str, config: Mapping[str, Any] | None = None, student: str = ""
) -> dict[str, Any] | None:
    """What this student must solve, for tasks with per-student variants (pure, cheap)."""
    return get_task(task).variant(student, assignment, dict(config or {}))


def queue_for(task: str) -> str:
    """The Celery queue a task's submissions should go to."""
    return get_task(task).queue


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
