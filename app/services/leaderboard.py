"""Leaderboards: each student's best (or last) scored submission of one homework, ranked.

Settings, from the homework's grading config (``grading:`` in the course file):

* ``leaderboard: best | last`` (default ``best``): which submission of a student counts.
* ``leaderboard_hidden_until_due: true``: before the deadline students see only their own row
  (without a rank); staff always see everything.

Public/private split: when the grader writes ``public_score``/``private_score`` (or
``public_accuracy``/``private_accuracy``, as the MNIST task does) into ``submission.detail``,
the board ranks by the public value before the deadline and by the private value after it;
otherwise by ``submission.score``. Students never see private values before the deadline.

What counts: scored, measured (verdict ``accepted`` or ``wrong``), not hidden, not late,
posted by a student (staff test runs stay off the board). Ties go to the earlier submission
(smaller floor, i.e. the order the database assigned). Everything comes from one query with
window functions, so 10,000 submissions cost one round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from sqlalchemy import Float, and_, case, cast, func, literal, select, true, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.models import Assignment, Role, Status, Submission, User, utcnow
from app.services import final_picks
from app.services.page_cache import VersionedCache
from app.services.visibility import board_sight

Mode = Literal["best", "last"]
Phase = Literal["public", "private"]
PUBLIC_KEYS = ("public_score", "public_accuracy")
PRIVATE_KEYS = ("private_score", "private_accuracy")
MEASURED_VERDICTS = ("accepted", "wrong")
#: ranked rows per (homework, phase, mode), reused until the database changes (see page_cache)
BOARDS = VersionedCache(max_entries=64)


@dataclass(frozen=True)
class BoardSettings:
    mode: Mode
    hidden_until_due: bool


def board_settings(assignment: Assignment) -> BoardSettings:
    config = assignment.grading_config or {}
    mode: Mode = "last" if config.get("leaderboard") == "last" else "best"
    return BoardSettings(mode, config.get("leaderboard_hidden_until_due") is True)


def has_leaderboard(assignment: Assignment) -> bool:
    """Worth a link: a reference task scores the work, or the course file asks for a board."""
    config = assignment.grading_config or {}
    return assignment.grading_kind != "reply_format" or "leaderboard" in config


def phase_at(assignment: Assignment, now: datetime) -> Phase:
    return "private" if now > assignment.due_at else "public"


@dataclass(frozen=True)
class Row:
    rank: int | None
    submission_id: int
    floor: int
    author_id: int
    name: str
    value: float
    public: float | None
    private: float | None
    score: float | None
    created_at: datetime
    attempts: int


@dataclass(frozen=True)
class Board:
    """The ranked rows as one viewer may see them (see `view`)."""

    assignment: Assignment
    settings: BoardSettings
    phase: Phase
    split: bool
    hidden: bool
    rows: list[Row]
    total: int
    mine: Row | None
    show_private: bool


def json_number(session: Session, key: str) -> ColumnElement[float | None]:
    """`detail[key]` as a float when it is a JSON number, else NULL (never a cast error)."""
    if session.get_bind().dialect.name == "postgresql":
        element = Submission.detail.op("->")(literal(key))
        number = Submission.detail.op("->>")(literal(key))
        return case((func.jsonb_typeof(element) == "number", cast(number, Float)))
    path = f'$."{key}"'
    return case(
        (
            func.json_type(Submission.detail, path).in_(("real", "integer")),
            type_coerce(func.json_extract(Submission.detail, path), Float),
        )
    )


def detail_number(session: Session, keys: tuple[str, ...]) -> ColumnElement[float | None]:
    return func.coalesce(*(json_number(session, key) for key in keys))


def ranked_rows(session: Session, assignment: Assignment, phase: Phase, mode: Mode) -> list[Row]:
    """All students' counted submissions, ranked: one query (window functions)."""
    public = detail_number(session, PUBLIC_KEYS)
    private = detail_number(session, PRIVATE_KEYS)
    value = func.coalesce(public if phase == "public" else private, Submission.score)
    order = (value.desc(), Submission.floor.asc()) if mode == "best" else (Submission.floor.desc(),)
    counted = (
        select(
            Submission.id.label("submission_id"),
            Submission.floor,
            Submission.author_id,
            User.name,
            value.label("value"),
            public.label("public"),
            private.label("private"),
            Submission.score,
            Submission.created_at,
            func.row_number().over(partition_by=Submission.author_id, order_by=order).label("pick"),
            func.count().over(partition_by=Submission.author_id).label("attempts"),
        )
        .join(User, User.id == Submission.author_id)
        .where(
            and_(
                Submission.assignment_id == assignment.id,
                Submission.status == Status.scored.value,
                Submission.verdict.in_(MEASURED_VERDICTS),
                Submission.hidden.is_(False),
                Submission.is_late.is_(False),
                User.role == Role.student.value,
                value.is_not(None),
                # after the deadline a split homework ranks only final picks (final_picks.py)
                final_picks.counted(session, assignment, public)
                if phase == "private" and final_picks.has_split(assignment) else true(),
            )
        )
        .subquery()
    )
    query = (
        select(counted)
        .where(counted.c.pick == 1)
        .order_by(counted.c.value.desc(), counted.c.floor.asc())
    )
    return [
        Row(
            rank=rank,
            submission_id=r.submission_id,
            floor=r.floor,
            author_id=r.author_id,
            name=r.name,
            value=float(r.value),
            public=r.public,
            private=r.private,
            score=r.score,
            created_at=r.created_at,
            attempts=r.attempts,
        )
        for rank, r in enumerate(session.execute(query), 1)
    ]


def cached_rows(session: Session, assignment: Assignment, phase: Phase, mode: Mode) -> list[Row]:
    """`ranked_rows`, computed once per database version (rows are frozen; callers copy)."""
    rows = BOARDS.get_or_compute(
        ("rows", assignment.id, phase, mode),
        lambda: (ranked_rows(session, assignment, phase, mode), None))
    assert rows is not None
    return rows


def view(session: Session, assignment: Assignment, viewer: User | None,
         now: datetime | None = None) -> Board:
    """The board as `viewer` may see it (rules in `visibility.board_sight`): staff everything;
    others no private values before the deadline, and only their own row (unranked) when the
    board is hidden until then or the homework's answers are sealed."""
    now = now or utcnow()
    settings = board_settings(assignment)
    phase = phase_at(assignment, now)
    rows = list(cached_rows(session, assignment, phase, settings.mode))
    split = any(row.public is not None or row.private is not None for row in rows)
    seen = board_sight(assignment, viewer, settings.hidden_until_due, now)
    if not seen.private:
        # the grader's own score may mix in the private part when there is a split
        rows = [replace(row, private=None, score=None if split else row.score) for row in rows]
    mine = next((row for row in rows if viewer is not None and row.author_id == viewer.id), None)
    if seen.own_row_only:
        mine = replace(mine, rank=None) if mine else None
        rows = [mine] if mine else []
    return Board(assignment, settings, phase, split, seen.own_row_only, rows, len(rows), mine, seen.private)
