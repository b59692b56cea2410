"""Counting failures per key, with growing delays and a temporary lock-out.

Keys name what is counted: `login:name:<name key>` and `login:addr:<address>` for wrong
passwords, `register:addr:<address>` for new accounts, `reset:addr:<address>` for reset mails.
Rows live in the database (`auth_throttle`) so that every web process sees the same counts.

A key's first `free` failures cost nothing; after that each attempt must wait
`2 ** (count - free)` seconds (at most `max_delay`) after the previous one, and an attempt made
too early counts as one more failure, so hammering does not outrun the delays; at `lock_after`
failures the key is locked for `lock_seconds`. A quiet `window` resets the count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, case, delete, literal
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import AuthThrottle, utcnow
from app.models.base import UTCDateTime


@dataclass(frozen=True)
class Policy:
    free: int
    lock_after: int
    lock_seconds: int
    window_seconds: int = 3600
    max_delay_seconds: int = 300


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused now: `locked` (for minutes) or an early retry (seconds)."""

    seconds: int
    locked: bool

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))


def refusal(session: Session, key: str, policy: Policy, now: datetime | None = None) -> Refusal | None:
    """None when an attempt for `key` may go ahead now."""
    now = now or utcnow()
    row = session.get(AuthThrottle, key, populate_existing=True)
    if row is None:
        return None
    if row.locked_until is not None and row.locked_until > now:
        return Refusal(math.ceil((row.locked_until - now).total_seconds()), locked=True)
    if (now - row.last_at).total_seconds() > policy.window_seconds or row.count < policy.free:
        return None
    delay = min(2 ** (row.count - policy.free), policy.max_delay_seconds)
    ready = row.last_at + timedelta(seconds=delay)
    if now < ready:
        return Refusal(math.ceil((ready - now).total_seconds()), locked=False)
    return None


def count_failure(session: Session, key: str, policy: Policy, now: datetime | None = None) -> int:
    """One more failure for `key` (an upsert, safe under concurrent requests); the new count."""
    now = now or utcnow()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = cast(Table, AuthThrottle.__table__)
    stale = now - timedelta(seconds=policy.window_seconds)
    statement = insert(table).values(key=key, count=1, window_start=now, last_at=now)
    # A quiet window (or an expired lock) starts the count again.
    fresh = (table.c.last_at < stale) | (table.c.locked_until.is_not(None) & (table.c.locked_until <= now))
    new_count = case((fresh, 1), else_=table.c.count + 1)
    lock_end = literal(now + timedelta(seconds=policy.lock_seconds), UTCDateTime())
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"count": new_count, "last_at": now,
              "window_start": case((fresh, literal(now, UTCDateTime())), else_=table.c.window_start),
              "locked_until": case((new_count >= policy.lock_after, lock_end),
                                   else_=literal(None, UTCDateTime()))},
    ).returning(table.c.count)
    return int(session.execute(upsert).scalar_one())


def clear(session: Session, key: str) -> None:
    session.execute(delete(AuthThrottle).where(AuthThrottle.key == key))
