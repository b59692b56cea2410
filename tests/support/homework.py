"""Fast set-up for leaderboard and draw tests: a fresh course, many students and replies
inserted directly (no HTTP, no password hashing, no grading), in the active stack."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update


def now() -> datetime:
    from app.models import utcnow

    return utcnow()


def make_course(*assignments: dict[str, Any], opens: datetime | None = None,
                due: datetime | None = None) -> str:
    """A course with a unique slug; each assignment dict is a course-file homework entry
    (code, rewards, grading ...); opens a week ago and is due in a week unless given."""
    from app.db import session_scope
    from app.services.courses import CourseSpec, load_course

    slug = f"t-{secrets.token_hex(4)}"
    items = []
    for a in assignments:
        items.append({"title": f"homework {a['code']}", "opens": opens or now() - timedelta(days=7),
                      "due": due or now() + timedelta(days=7), **a})
    with session_scope() as session:
        load_course(session, CourseSpec.model_validate(
            {"slug": slug, "title": "test course", "timezone": "UTC", "assignments": items}))
    return slug


def own_queue(slug: str) -> str:
    """Give the course's homework a grading queue of their own (rows other tests left waiting
    stay out of its fair order); returns its name."""
    from app.db import session_scope
    from app.models import Assignment, Course

    queue = f"q{secrets.token_hex(4)}"
    with session_scope() as session:
        course_id = session.scalar(select(Course.id).where(Course.slug == slug))
        session.execute(update(Assignment).where(Assignment.course_id == course_id).values(queue=queue))
    return queue


def make_users(n: int, role: str = "student", prefix: str = "s") -> list[int]:
    """`n` accounts inserted in one statement (they cannot log in)."""
    from app.db import session_scope
    from app.models import User

    tag = secrets.token_hex(3)
    names = [f"{prefix}{tag}_{i}" for i in range(n)]
    with session_scope() as session:
        session.execute(insert(User), [{"name": name, "password_hash": "!", "role": role,
                                        "is_active": True, "created_at": now()} for name in names])
        rows = session.execute(select(User.id, User.name).where(User.name.in_(names))).all()
    ids = {name: uid for uid, name in rows}
    return [ids[name] for name in names]


@dataclass
class Reply:
    author_id: int
    verdict: str | None = "accepted"
    score: float | None = 1.0
    status: str = "scored"
    at: datetime | None = None
    hidden: bool = False
    detail: dict[str, Any] | None = None
    review_score: float | None = None


def add_replies(slug: str, code: str, replies: list[Reply]) -> list[int]:
    """Insert replies with consecutive floors in list order; returns their submission ids."""
    from app.db import session_scope
    from app.models import Assignment, Course, Submission

    with session_scope() as session:
        assignment = session.scalar(select(Assignment).join(Course).where(
            Course.slug == slug, Assignment.code == code))
        assert assignment is not None
        first = assignment.next_floor
        base = now() - timedelta(hours=1)
        rows = []
        for i, r in enumerate(replies):
            at = r.at or base + timedelta(milliseconds=i)
            rows.append({
                "assignment_id": assignment.id, "author_id": r.author_id, "floor": first + i,
                "text": f"作业{code}：{i}", "is_late": at > assignment.due_at, "hidden": r.hidden,
                "status": r.status, "verdict": r.verdict if r.status == "scored" else None,
                "score": r.score if r.status == "scored" else None, "messages": {},
                "detail": r.detail or {}, "log": "", "attempts": 1, "created_at": at,
                "queued_at": at, "updated_at": at, "review_score": r.review_score,
            })
        if rows:
            session.execute(insert(Submission), rows)
        session.execute(update(Assignment).where(Assignment.id == assignment.id)
                        .values(next_floor=first + len(rows)))
        found = session.execute(select(Submission.floor, Submission.id).where(
            Submission.assignment_id == assignment.id, Submission.floor >= first)).all()
    ids = dict(found)
    return [ids[first + i] for i in range(len(replies))]


def send_to_queue(slug: str, code: str, queue: str) -> None:
    """Route a homework to another queue than its grading kind's (grader/catalog.py): a cheap
    homework on the gpu queue, for tests of queue order and of ids waiting in the broker."""
    from app.db import session_scope
    from app.models import Assignment, Course

    with session_scope() as session:
        course_id = select(Course.id).where(Course.slug == slug).scalar_subquery()
        session.execute(update(Assignment).where(Assignment.course_id == course_id,
                                                 Assignment.code == code).values(queue=queue))


def backdate_draw(draw_id: int, seconds: int = 3600) -> None:
    """Move a committed draw's commit and freeze times into the past (a test's time travel),
    so that it can be frozen on time instead of early."""
    from app.db import session_scope
    from app.models import Draw

    with session_scope() as session:
        draw = session.get(Draw, draw_id)
        assert draw is not None and draw.status == "committed"
        draw.created_at -= timedelta(seconds=seconds)
        draw.freeze_at = draw.created_at + timedelta(seconds=seconds // 2)
