"""The daily code-submission limit: per homework, per student, per calendar day in the course's
time zone. Replies the platform failed to grade (status `failed`) do not count; replies the
student deleted still do (deleting is not a way to get tries back).

`check_code_quota` runs inside `submit`, after the floor number was taken: that UPDATE locks the
homework's row until the transaction ends, so two uploads at once cannot both take the last try.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Exists, exists, func, select
from sqlalchemy.orm import Session

from app.errors import CampError
from app.i18n import lazy
from app.models import Assignment, Attachment, Status, Submission
from app.services.homework_settings import course_zone, daily_code_limit, local_day


class LimitReached(CampError):
    status_code = 429
    code = "daily_limit"


@dataclass(frozen=True)
class CodeQuota:
    limit: int | None  # None: no limit on this homework
    used: int
    resets_at: datetime  # the next midnight in the course's zone
    timezone: str

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)


def _has_code() -> Exists:
    return exists().where(Attachment.submission_id == Submission.id, Attachment.kind == "code")


def code_quota(session: Session, assignment: Assignment, author_id: int, now: datetime) -> CodeQuota:
    zone = course_zone(assignment)
    start, end = local_day(now, zone)
    limit = daily_code_limit(assignment)
    used = 0
    if limit is not None:
        used = session.scalar(
            select(func.count()).select_from(Submission).where(
                Submission.assignment_id == assignment.id,
                Submission.author_id == author_id,
                Submission.created_at >= start,
                Submission.created_at < end,
                Submission.status != Status.failed.value,
                _has_code(),
            )
        ) or 0
    return CodeQuota(limit, used, end, assignment.course.timezone)


def check_code_quota(session: Session, assignment: Assignment, author_id: int, now: datetime) -> None:
    quota = code_quota(session, assignment, author_id, now)
    if quota.remaining == 0:
        resets = quota.resets_at.strftime("%Y-%m-%d %H:%M")
        raise LimitReached(
            lazy("Homework {code} takes at most {limit} code submissions a day; "
                 "the next one is possible from {time} ({zone})"),
            code=assignment.code, limit=quota.limit, time=resets, zone=quota.timezone,
        )
