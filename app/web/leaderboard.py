"""The leaderboard page: ranked rows (my row highlighted), a score histogram in SVG, CSV for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.deps import OptionalUser, SessionDep, get_locale
from app.i18n import translate
from app.models import utcnow
from app.services import final_picks
from app.services.chart import score_chart
from app.services.courses import get_assignment
from app.services.leaderboard import view
from app.templating import render

router = APIRouter()
PAGE_SIZE = 100


@router.get("/courses/{slug}/assignments/{code}/leaderboard")
def leaderboard_page(
    slug: str,
    code: str,
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    assignment = get_assignment(session, slug, code)
    board = view(session, assignment, user, utcnow())
    locale = get_locale(request)
    chart = None
    if board.rows and not board.hidden:
        chart = score_chart(
            [r.value for r in board.rows],
            title=translate(locale, "Score distribution ({n} students)", n=len(board.rows)),
            mine=board.mine.value if board.mine else None,
            mine_label=translate(locale, "Your score"),
        )
    pages = max(1, -(-len(board.rows) // PAGE_SIZE))
    return render(
        request, "leaderboard.html",
        course=assignment.course, assignment=assignment, board=board, chart=chart,
        rows=board.rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], page=page, pages=pages,
        timezone=assignment.course.timezone, now=utcnow(),
        final_limit=final_picks.final_limit(assignment.course) if final_picks.has_split(assignment) else None,
    )
