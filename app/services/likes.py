"""Likes: one per account per reply, never on one's own reply, undo allowed, closed per homework.

`likes` holds the likes standing now (unique per reply and account, so a race of two likes
from one account inserts one row: `INSERT … ON CONFLICT DO NOTHING`); `like_events` gets one
row per like and per undo, so the count at any moment can be replayed: `likes_at`. Draws use
the same replay (`entries.likes_at`), so a draw and a page always agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, NotFound
from app.models import Like, LikeEvent, Submission, User, utcnow
from app.services import entries
from app.services.homework_settings import course_zone, likes_close_at


def _check(submission: Submission, user: User, now: datetime) -> None:
    if submission.hidden:
        raise NotFound("No submission {id}", id=submission.id)
    if submission.author_id == user.id:
        raise Forbidden("You cannot like your own reply")
    closes = likes_close_at(submission.assignment)
    if closes is not None and now >= closes:
        zone = course_zone(submission.assignment)
        raise Forbidden("Likes for homework {code} closed at {time} ({zone})",
                        code=submission.assignment.code,
                        time=closes.astimezone(zone).strftime("%Y-%m-%d %H:%M"), zone=zone.key)


def _insert_like(session: Session, submission_id: int, user_id: int, now: datetime) -> bool:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = session.execute(
        insert(Like)
        .values(submission_id=submission_id, user_id=user_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["submission_id", "user_id"])
        .returning(Like.id)
    ).scalar_one_or_none()
    return inserted is not None


def like(session: Session, submission: Submission, user: User, now: datetime | None = None) -> int:
    """Like the reply; returns its like count. A second like is refused."""
    now = now or utcnow()
    _check(submission, user, now)
    if not _insert_like(session, submission.id, user.id, now):
        raise Conflict("You already liked this reply")
    session.add(LikeEvent(submission_id=submission.id, user_id=user.id, liked=True, at=now))
    session.flush()
    return like_count(session, submission.id)


def unlike(session: Session, submission: Submission, user: User, now: datetime | None = None) -> int:
    """Take a like back; returns the like count. Refused when there is no like to take back."""
    now = now or utcnow()
    _check(submission, user, now)
    removed = session.execute(
        delete(Like).where(Like.submission_id == submission.id, Like.user_id == user.id).returning(Like.id)
    ).scalar_one_or_none()
    if removed is None:
        raise Conflict("You have not liked this reply")
    session.add(LikeEvent(submission_id=submission.id, user_id=user.id, liked=False, at=now))
    session.flush()
    return like_count(session, submission.id)


def like_count(session: Session, submission_id: int) -> int:
    return like_counts(session, [submission_id]).get(submission_id, 0)


def like_counts(session: Session, submission_ids: list[int]) -> dict[int, int]:
    if not submission_ids:
        return {}
    rows = session.execute(
        select(Like.submission_id, func.count()).where(Like.submission_id.in_(submission_ids))
        .group_by(Like.submission_id)
    )
    return {sid: count for sid, count in rows}


def liked_by(session: Session, user_id: int | None, submission_ids: list[int]) -> set[int]:
    if user_id is None or not submission_ids:
        return set()
    return set(session.scalars(
        select(Like.submission_id).where(Like.user_id == user_id, Like.submission_id.in_(submission_ids))
    ))


def likes_at(session: Session, submission_id: int, moment: datetime) -> int:
    """The likes a reply had at `moment`, replayed from the like events (the draws' replay)."""
    return entries.likes_at(session, [submission_id], moment).get(submission_id, 0)
