"""The serialisable result of grading one submission.

A report is a *verdict about the student's work*. When the grading machinery itself breaks
(the sandbox cannot start, a data set is missing) the grader raises `InfrastructureError`
instead: that is never a verdict and never counts against the student.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The verdicts and what they mean are listed once, in the catalog the web app may import too.
from grader.catalog import (
    ACCEPTED,
    BAD_OUTPUT,
    BAD_PACKAGE,
    FORMAT_ERROR,
    MEMORY_LIMIT,
    NOT_UNDERSTOOD,
    RUNTIME_ERROR,
    TIME_LIMIT,
    VERDICTS,
    WRONG,
)

__all__ = [
    "ACCEPTED",
    "BAD_OUTPUT",
    "BAD_PACKAGE",
    "FORMAT_ERROR",
    "MEMORY_LIMIT",
    "NOT_UNDERSTOOD",
    "RUNTIME_ERROR",
    "TIME_LIMIT",
    "VERDICTS",
    "WRONG",
    "ConfigError",
    "InfrastructureError",
    "Report",
    "say",
]


class InfrastructureError(RuntimeError):
    """The grader could not judge the work; retry later or show it to staff, not the student."""


class ConfigError(InfrastructureError):
    """The homework's grading config is unusable: staff must fix it, retrying will not help."""


@dataclass(frozen=True)
class Report:
    """What a reference task says about one submission.

    `messages` carries the human explanation in every language the site speaks, so the caller
    can show it without knowing the task. `detail` holds task-specific numbers (accuracy, parsed
    counts...) and must stay JSON-serialisable. `log` is what the student may see of the program's
    output (bounded); `staff_log` is output the student must not see (a run on hidden data).
    """

    verdict: str
    score: float | None
    messages: dict[str, str]
    detail: dict[str, Any] = field(default_factory=dict)
    log: str = ""
    staff_log: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")

    @property
    def passed(self) -> bool:
        return self.verdict == ACCEPTED

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data


def say(zh: str, en: str) -> dict[str, str]:
    """Both languages of one message, keyed by the locale names the site uses."""
    return {"zh_CN": zh, "en": en}
