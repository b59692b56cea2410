"""Per-homework settings of the thread, read from the homework's grading config (course file):

    grading: {kind: mnist, daily_code_limit: 5}          # code submissions per student per day
    grading: {kind: reply_format, likes_close: due}       # default: likes close at the deadline
    grading: {kind: reply_format, likes_close: never}     # ... or never
    grading: {kind: reply_format, likes_close: "2020-01-20T12:00"}   # ... or at a time (course zone)

Graders ignore keys they do not know, so these live next to the grading settings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.models import Assignment
from grader import catalog


def grades_code(assignment: Assignment) -> bool:
    """Whether the homework's task grades a code package (else the reply's text)."""
    return catalog.grades_code(assignment.grading_kind)


def course_zone(assignment: Assignment) -> ZoneInfo:
    return ZoneInfo(assignment.course.timezone)


def daily_code_limit(assignment: Assignment) -> int | None:
    value = (assignment.grading_config or {}).get("daily_code_limit")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def likes_close_at(assignment: Assignment) -> datetime | None:
    """When likes (and undos) stop; None: never. Anything unreadable means the deadline."""
    value = (assignment.grading_config or {}).get("likes_close", "due")
    if value == "never":
        return None
    if isinstance(value, str) and value != "due":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return assignment.due_at
        return moment if moment.tzinfo else moment.replace(tzinfo=course_zone(assignment))
    return assignment.due_at


def local_day(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The calendar day (in `zone`) that contains `moment`, as [start, end) aware datetimes."""
    day = moment.astimezone(zone).date()
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    following = day + timedelta(days=1)
    return start, datetime(following.year, following.month, following.day, tzinfo=zone)
