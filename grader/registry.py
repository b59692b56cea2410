"""Reference tasks: a small base class and a registry. Adding a task is one module."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from grader.catalog import KINDS
from grader.limits import Limits
from grader.report import Report


@dataclass(frozen=True)
class Job:
    """Everything a task may look at, as plain data (no web, no database).

    `student` is an opaque, stable key for the author: tasks that give each student their own
    variant derive it from this key and the homework code.
    """

    assignment: str
    text: str = ""
    files: Mapping[str, bytes] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    student: str = ""
    limits: Limits = field(default_factory=Limits)


class ReferenceTask(ABC):
    """One kind of homework check. Subclasses set `name` and implement `grade`; the kind's queue,
    whether it grades code and its verdicts are listed in grader/catalog.py."""

    name: ClassVar[str]

    @abstractmethod
    def grade(self, job: Job) -> Report:
        """Judge one submission. Raise `InfrastructureError` only when the grader itself fails."""

    def variant(self, student: str, assignment: str, config: Mapping[str, Any]) -> dict[str, Any] | None:
        """The student's own version of the homework as JSON data, or None when all share one."""
        return None


_TASKS: dict[str, ReferenceTask] = {}


def register(task_class: type[ReferenceTask]) -> type[ReferenceTask]:
    """Class decorator: make a task available by its name."""
    if task_class.name in _TASKS:
        raise ValueError(f"reference task {task_class.name!r} registered twice")
    if task_class.name not in KINDS:
        raise ValueError(f"reference task {task_class.name!r} is not in grader/catalog.py")
    _TASKS[task_class.name] = task_class()
    return task_class


def get_task(name: str) -> ReferenceTask:
    try:
        return _TASKS[name]
    except KeyError:
        raise KeyError(f"no reference task named {name!r}; known: {sorted(_TASKS)}") from None


def task_names() -> list[str]:
    return sorted(_TASKS)
