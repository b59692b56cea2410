"""Fast set-up for leaderboard and draw tests: a fresh course, many students and replies
inserted directly (no HTTP, no password hashing, no grading), in the active stack."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
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
        if draw.beacon_round is not None:  # a lottery is frozen before its drand round exists
            seconds = min(seconds, 120)
        draw.created_at -= timedelta(seconds=seconds)
        draw.freeze_at = draw.created_at + timedelta(seconds=seconds // 2)
        if draw.version == 3:  # its record says the deadline was then, and binds the new times
            draw.deadline = draw.freeze_at
            reseal_draw(session, draw)


def reseal_draw(session: Any, draw: Any) -> None:
    """After a test moved a version 3 draw's times: its beacon round, metadata hash and
    commitment as the commit would have written them (the test acts as the operator)."""
    from app.draws import beacon, v3
    from app.draws.keys import commitment_v3
    from app.services.draws import to_record

    if draw.beacon_round is not None:
        draw.beacon_round = beacon.draw_round(draw.freeze_at)
    session.flush()
    draw.metadata_hash = v3.metadata_hash(to_record(session, draw))
    draw.commitment = commitment_v3(draw.seed, draw.metadata_hash)


# A real drand quicknet round (docs/draws.md §11.9): a lottery moved to these times names it.
ROUND_123_SIGNATURE = (
    "b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92"
)
COMMITTED_2023 = datetime(2023, 8, 22, 8, 0, tzinfo=UTC)
DEADLINE_2023 = datetime(2023, 8, 23, 15, 0, tzinfo=UTC)
FREEZE_2023 = datetime(2023, 8, 23, 15, 5, 33, tzinfo=UTC)  # + 10 min = round 123
REPLIED_2023 = datetime(2023, 8, 23, 14, 0, tzinfo=UTC)
ROUND_657413_SIGNATURE = (
    "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b"
)
REPLACED_2023 = datetime(2023, 9, 15, 10, 0, tzinfo=UTC)
REPLACEMENT_FREEZE_2023 = datetime(2023, 9, 15, 10, 50, 3, tzinfo=UTC)  # + 10 min = round 657413


def replies_2023(replies: list[Reply]) -> list[Reply]:
    """The same replies, posted before the 2023 deadline, a millisecond apart."""
    return [replace(r, at=r.at or REPLIED_2023 + timedelta(milliseconds=i)) for i, r in enumerate(replies)]


def move_draw(draw_id: int, committed: datetime, deadline: datetime, freeze: datetime,
              late: bool = False) -> None:
    """Time travel for a committed version 3 draw: new commit, deadline and freeze times (and
    so beacon round), re-sealed as the commit would have written them."""
    from app.db import session_scope
    from app.models import Draw

    with session_scope() as session:
        draw = session.get(Draw, draw_id)
        assert draw is not None and draw.status == "committed" and draw.version == 3
        draw.created_at, draw.deadline, draw.freeze_at, draw.late = committed, deadline, freeze, late
        reseal_draw(session, draw)


def move_draw_to_2023(draw_id: int) -> None:
    """Committed before the 2023 deadline: a lottery then names the real drand round 123 and
    is revealed with ROUND_123_SIGNATURE."""
    move_draw(draw_id, COMMITTED_2023, DEADLINE_2023, FREEZE_2023)


def move_replacement_to_2023(draw_id: int) -> None:
    """A replacement committed late, on 2023-09-15: a lottery then names round 657413."""
    move_draw(draw_id, REPLACED_2023, DEADLINE_2023, REPLACEMENT_FREEZE_2023, late=True)


def freeze_in_2023(draw_id: int, admin_name: str | None = None, at: datetime = FREEZE_2023,
                   **options: Any) -> None:
    """Freeze a draw moved to 2023 at its announced time (before its drand round exists)."""
    from app.db import session_scope
    from app.models import User
    from app.services import draws as service

    with session_scope() as session:
        query = select(User).where(User.role == "admin").order_by(User.id)
        if admin_name is not None:
            query = select(User).where(User.name == admin_name)
        admin = session.scalar(query)
        assert admin is not None
        service.freeze_draw(session, draw_id, admin, now=at, **options)


def move_replies_to_2023(slug: str, code: str) -> None:
    """Replies posted through the site now, moved before the 2023 deadline (time travel)."""
    from app.db import session_scope
    from app.models import Assignment, Course, Submission

    with session_scope() as session:
        assignment = session.scalar(select(Assignment).join(Course).where(
            Course.slug == slug, Assignment.code == code))
        assert assignment is not None
        session.execute(update(Submission).where(Submission.assignment_id == assignment.id)
                        .values(created_at=REPLIED_2023, queued_at=REPLIED_2023))


def homework_with_replies() -> tuple[str, list[int]]:
    """A conv_opcount homework with five replies for the staff pages: one scored, two failed with
    an escaped sandbox error, one wrong, one queued (on a queue no shared worker serves)."""
    slug = make_course({"code": "7-1", "grading": {"kind": "conv_opcount"}})
    own_queue(slug)  # the queued row stays queued: no worker of another test serves this queue
    alice, bob, carol = make_users(3, prefix="alice")
    ids = add_replies(slug, "7-1", [
        Reply(alice, score=1.0),
        Reply(bob, status="failed", score=None),
        Reply(carol, status="failed", score=None),
        Reply(bob, verdict="wrong", score=0.0),
        Reply(carol, status="queued", score=None),
    ])
    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        for sid in ids[1:3]:
            session.get(Submission, sid).error = "sandbox <broke>"  # type: ignore[union-attr]
    return slug, ids


def decorate_replies(ids: list[int], liker_ids: list[int]) -> None:
    """An attachment on every reply and a like or two on some: the parts a lazy page loads per row."""
    from app.db import session_scope
    from app.models import Attachment, Like

    with session_scope() as session:
        session.execute(insert(Attachment), [
            {"submission_id": sid, "filename": f"plot{sid}.png", "kind": "image", "size": 4,
             "sha256": hashlib.sha256(str(sid).encode()).hexdigest(), "content_type": "image/png"}
            for sid in ids])
        session.execute(insert(Like), [{"submission_id": sid, "user_id": uid}
                                       for sid in ids[::3] for uid in liker_ids])
