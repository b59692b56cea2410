"""The grader's entry points, loaded on first use through `grader` (see grader/__init__.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader import tasks as _tasks  # noqa: F401  (registers every reference task)
from grader.catalog import queue_of
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
    """The Celery queue a task's submissions should go to (from the catalog)."""
    return queue_of(task)


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
