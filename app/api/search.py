"""Search a course or one homework thread as JSON (the same service and rules as the pages)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from app import paging
from app.deps import OptionalUser, SessionDep
from app.search_gate import request_key, search_slot
from app.services import search
from app.services.courses import get_assignment, get_course

router = APIRouter(tags=["thread"])


class PieceOut(BaseModel):
    text: str
    match: bool


class HitOut(BaseModel):
    kind: str  # "reply" or "post"
    url: str
    author: str
    at: datetime
    code: str | None
    floor: int | None
    hidden: bool
    snippet: list[PieceOut]


class SearchOut(BaseModel):
    terms: list[str]
    total: int
    more: bool  # more matched than `total`; only the newest are listed
    page: int
    pages: int
    hits: list[HitOut]

    @classmethod
    def of(cls, found: search.Results) -> SearchOut:
        return cls(terms=list(found.terms), total=found.total, more=found.more, page=found.page,
                   pages=found.pages, hits=[
                       HitOut(kind=h.kind, url=h.url, author=h.author, at=h.at, code=h.code, floor=h.floor,
                              hidden=h.hidden, snippet=[PieceOut(text=t, match=m) for t, m in h.snippet])
                       for h in found.hits])


@router.get("/courses/{slug}/search")
def search_course(slug: str, request: Request, session: SessionDep, user: OptionalUser, q: str = "",
                  code: str | None = None,
                  page: Annotated[int, Query(ge=1, le=paging.MAX_SEARCH_PAGES)] = 1) -> SearchOut:
    """Replies (and, without `code`, course-thread posts) whose text holds every word of `q`,
    newest first; others' sealed answers and hidden replies are never found (docs/thread.md)."""
    with search_slot(request_key(request, user.id if user else None)):
        if code is not None:
            homework = get_assignment(session, slug, code)
            return SearchOut.of(search.search_homework(session, homework, q, user, page))
        return SearchOut.of(search.search_course(session, get_course(session, slug), q, user, page))
