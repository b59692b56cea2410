"""How many replies one account may post: `replies_per_minute` and `replies_per_hour` (a reply
split into several homework, or a course-thread post, is one). The course's staff are exempt.

Each account has one row (`reply_rates`) with the start and the count of its current minute
and hour. A window starts with the first reply after the previous one ended, so a burst is
refused at once and the refusal can say when the window ends; over any 60 s no more than twice
the minute's limit get through, over any hour no more than twice the hour's.

The count is one upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING), taken before the
reply's floor: on PostgreSQL it locks the account's row until the reply commits, so two
replies of one account at once, to the same homework or to different ones, are counted one
after the other and cannot both take the last place. A refused reply raises, and the request
rolls back: its count, like everything else it did, is not written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.config import get_settings
from app.errors import CampError
from app.i18n import lazy
from app.models import Course, ReplyRate, User
from app.models.base import UTCDateTime
from app.services.course_staff import is_course_staff

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


class PostingTooFast(CampError):
    status_code = 429
    code = "reply_rate"


@dataclass(frozen=True)
class Counted:
    minute_start: datetime
    minute_count: int
    hour_start: datetime
    hour_count: int


def count_reply(session: Session, author_id: int, now: datetime) -> Counted:
    """One more reply in the account's minute and hour (a window that ended starts again at 1)."""
    statement = _upsert(session.get_bind().dialect.name)
    row = session.execute(statement, {"author": author_id, "now": now, "minute_ago": now - MINUTE,
                                      "hour_ago": now - HOUR}).one()
    return Counted(*row)


@lru_cache(maxsize=2)
def _upsert(dialect: str) -> Any:
    """`count_reply`'s statement, built once per dialect (every reply runs it)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, ReplyRate.__table__)
    at = bindparam("now", type_=UTCDateTime())

    def window(start: str, count: str, ago: str) -> dict[str, object]:
        ended = table.c[start] <= bindparam(ago, type_=UTCDateTime())
        return {count: case((ended, 1), else_=table.c[count] + 1),
                start: case((ended, at), else_=table.c[start])}

    first = insert(table).values(user_id=bindparam("author"), minute_start=at, minute_count=1,
                                 hour_start=at, hour_count=1)
    return first.on_conflict_do_update(
        index_elements=[table.c.user_id],
        set_={**window("minute_start", "minute_count", "minute_ago"),
              **window("hour_start", "hour_count", "hour_ago")},
    ).returning(table.c.minute_start, table.c.minute_count, table.c.hour_start, table.c.hour_count)


def refusal(counted: Counted, per_minute: int, per_hour: int, now: datetime) -> PostingTooFast | None:
    """The error to raise when the reply just counted is one too many (the longer wait, when both are)."""
    def wait(start: datetime, length: timedelta) -> int:
        return max(1, math.ceil((start + length - now).total_seconds()))

    refusals = []
    if counted.hour_count > per_hour:
        seconds = wait(counted.hour_start, HOUR)
        refusals.append((seconds, PostingTooFast(
            lazy("You have posted {limit} replies within an hour, the most allowed: "
                 "you may post again in {minutes} minutes."),
            limit=per_hour, minutes=math.ceil(seconds / 60))))
    if counted.minute_count > per_minute:
        seconds = wait(counted.minute_start, MINUTE)
        refusals.append((seconds, PostingTooFast(
            lazy("You are posting replies too fast (at most {limit} a minute): "
                 "you may post again in {seconds} seconds."),
            limit=per_minute, seconds=seconds)))
    if not refusals:
        return None
    seconds, error = max(refusals, key=lambda r: r[0])
    error.retry_after = seconds
    return error


def check_reply_rate(session: Session, course: Course, author: User, now: datetime) -> None:
    """Count this reply, or raise `PostingTooFast` (429, with when to try again)."""
    if is_course_staff(author, course):
        return
    settings = get_settings()
    refused = refusal(count_reply(session, author.id, now), settings.replies_per_minute,
                      settings.replies_per_hour, now)
    if refused is not None:
        raise refused
