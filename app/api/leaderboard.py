"""Leaderboard of one homework as JSON (anyone, per visibility rules) and CSV (staff)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.db import session_scope
from app.deps import SessionDep, StaffUser, bearer_token, get_optional_user
from app.draws import format_time
from app.models import User, utcnow
from app.services.course_staff import is_course_staff, require_course_staff
from app.services.courses import get_assignment
from app.services.leaderboard import Board, Row, view
from app.services.page_cache import VersionedCache, database_version, next_boundary

router = APIRouter(tags=["leaderboard"])
BOARD = "/courses/{slug}/assignments/{code}/leaderboard"


class RowOut(BaseModel):
    rank: int | None
    floor: int
    submission_id: int
    name: str
    score: float
    public_score: float | None
    private_score: float | None
    grader_score: float | None
    submitted_at: datetime
    attempts: int
    mine: bool

    @classmethod
    def of(cls, row: Row, viewer: User | None, board: Board) -> RowOut:
        staff = viewer is not None and viewer.is_staff and is_course_staff(viewer, board.assignment.course)
        return cls(
            rank=row.rank, floor=row.floor, submission_id=row.submission_id, name=row.name,
            score=row.value, public_score=row.public, private_score=row.private,
            # the grader's own score may mix in the private part: staff, or after the deadline
            grader_score=row.score if staff or board.show_private else None,
            submitted_at=row.created_at, attempts=row.attempts,
            mine=viewer is not None and row.author_id == viewer.id,
        )


class BoardOut(BaseModel):
    course: str
    assignment: str
    mode: Literal["best", "last"]
    phase: Literal["public", "private"]
    split: bool
    hidden: bool
    due_at: datetime
    total: int
    offset: int
    limit: int
    rows: list[RowOut]
    me: RowOut | None


#: the serialised board as an anonymous reader sees it, per (course, homework, offset, limit)
ANONYMOUS_BOARDS = VersionedCache(max_entries=256)
JSON = "application/json"


def _anonymous(request: Request) -> bool:
    return bearer_token(request) is None and "user_id" not in request.session


@router.get(BOARD, response_model=BoardOut)
async def leaderboard(
    slug: str,
    code: str,
    request: Request,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """Each student's best (or last) counted submission, ranked; ties go to the earlier one."""
    if _anonymous(request):
        # Most readers: answered from the cache on the event loop, no thread hand-off.
        key = (slug, code, offset, limit)
        body = ANONYMOUS_BOARDS.get(key, database_version(connect=False))
        if body is not None:
            return Response(body, media_type=JSON)
    return await run_in_threadpool(_leaderboard, slug, code, request, offset, limit)


def _leaderboard(slug: str, code: str, request: Request, offset: int, limit: int) -> Response:
    with session_scope() as session:
        user = get_optional_user(request, session)
        if user is None:
            body = ANONYMOUS_BOARDS.get_or_compute(
                (slug, code, offset, limit), lambda: _board_json(session, slug, code, None, offset, limit))
        else:
            body, _ = _board_json(session, slug, code, user, offset, limit)
    return Response(body, media_type=JSON)


def _board_json(session: Session, slug: str, code: str, user: User | None, offset: int,
                limit: int) -> tuple[bytes, datetime | None]:
    """The board as JSON, and when it turns by itself (the deadline: public → private)."""
    now = utcnow()  # the board's phase and the moment it turns, from one clock reading
    assignment = get_assignment(session, slug, code)
    board = view(session, assignment, user, now)
    body = BoardOut(
        course=slug, assignment=code, mode=board.settings.mode, phase=board.phase,
        split=board.split, hidden=board.hidden, due_at=assignment.due_at, total=board.total,
        offset=offset, limit=limit,
        rows=[RowOut.of(r, user, board) for r in board.rows[offset:offset + limit]],
        me=RowOut.of(board.mine, user, board) if board.mine else None,
    ).model_dump_json().encode()
    return body, next_boundary(now, assignment.due_at)


CSV_HEADER = ["rank", "floor", "submission_id", "name", "score", "public_score", "private_score",
              "grader_score", "attempts", "submitted_at"]


def _cell(value: float | None) -> str:
    return "" if value is None else repr(value)


def board_csv(board: Board) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in board.rows:
        writer.writerow([r.rank, r.floor, r.submission_id, r.name, _cell(r.value), _cell(r.public),
                         _cell(r.private), _cell(r.score), r.attempts, format_time(r.created_at)])
    return out.getvalue()


@router.get(BOARD + ".csv", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "The board as CSV"}})
def leaderboard_csv(slug: str, code: str, session: SessionDep, user: StaffUser) -> Response:
    """The whole board for staff (public and private values), UTF-8 with a BOM for Excel."""
    assignment = get_assignment(session, slug, code)
    require_course_staff(session, user, assignment.course)
    body = "\ufeff" + board_csv(view(session, assignment, user))
    filename = f"leaderboard-{slug}-{code}.csv"
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{filename}"'})
