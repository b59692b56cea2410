"""The leaderboard page: ranked rows (my row highlighted), a score histogram in SVG, CSV for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app import paging
from app.deps import OptionalUser, SessionDep, get_locale
from app.i18n import translate
from app.models import utcnow
from app.services import final_picks
from app.services.chart import score_chart
from app.services.courses import get_assignment
from app.services.leaderboard import view
from app.templating import render

router = APIRouter()


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
    pages = paging.page_count(len(board.rows), paging.LEADERBOARD_PAGE)
    offset, size = paging.window(page, paging.LEADERBOARD_PAGE)
    return render(
        request, "leaderboard.html",
        course=assignment.course, assignment=assignment, board=board, chart=chart,
        rows=board.rows[offset:offset + size], page=page, pages=pages,
        timezone=assignment.course.timezone, now=utcnow(),
        final_limit=final_picks.final_limit(assignment.course) if final_picks.has_split(assignment) else None,
    )
