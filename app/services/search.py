"""Search in a course (every homework thread and the course thread) or in one homework thread.

A search is up to `MAX_TERMS` words (split at white space, full-width space included) of at most
`MAX_QUERY_CHARS` characters in all; a reply matches when its text holds every word, as a
substring and case-insensitively (Chinese has no spaces between words, so substrings are what a
reader expects: `卷积` finds `卷积层`). Results are newest first, `paging.SEARCH_PAGE` a page, at
most `paging.MAX_SEARCH_PAGES` pages deep.

The index (migration `0014_search_index`): on SQLite an FTS5 trigram table per searched table,
kept up to date by triggers; a word of three characters or more is a phrase query on it, a
shorter word a LIKE over the scoped rows. On PostgreSQL every word is an `ILIKE`, served by a
`pg_trgm` GIN index. Either way the query is bounded: on SQLite by a budget of virtual-machine
steps (a progress handler), on PostgreSQL by a statement timeout; past it the search is refused
with a message, never left running.

Who finds what is the thread's own rule (`app.services.visibility`): others never find a reply
whose text they may not read (sealed before the deadline, hidden, deleted), nor a hidden course
post; staff find hidden replies (marked). Every hit is checked with `visibility.sight` again
before it is shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    column,
    false,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload, selectinload

from app import paging
from app.errors import CampError, Invalid
from app.i18n import lazy
from app.models import Assignment, Course, CoursePost, Submission, utcnow
from app.services import visibility
from app.services.visibility import Person

#: characters in a whole search, words in it
MAX_QUERY_CHARS = 64
MAX_TERMS = 5
#: characters of text shown around the first match
SNIPPET_CHARS = 140
#: SQLite: virtual-machine steps one search may take. Measured on 100,000 replies of one course:
#: a one-character word (a LIKE over every row) about 4.1 million steps, 0.3 s; a three-character
#: word through the index 60,000 to 4 million, by how many rows match. So about five such courses;
#: checked every `SQLITE_STEP_CHUNK` steps
SQLITE_STEP_BUDGET = 20_000_000
SQLITE_STEP_CHUNK = 10_000
#: PostgreSQL: milliseconds one search statement may run
PG_TIMEOUT_MS = 3000
#: the FTS5 trigram tokenizer indexes runs of three characters; shorter words use LIKE
TRIGRAM = 3

Kind = Literal["reply", "post"]
#: a search part's rows: kind, id, when
Found = Select[str, int, datetime]
TOO_COSTLY = lazy("This search took too long: use longer or more specific words")


class SearchTooCostly(CampError):
    status_code = 422
    code = "search_too_costly"


@dataclass(frozen=True)
class Hit:
    """One result as a page shows it: where it is, who wrote it, a snippet with the matches."""

    kind: Kind
    url: str
    author: str
    at: datetime
    #: the snippet in pieces: (text, is a match); escaped by the template like any text
    snippet: tuple[tuple[str, bool], ...]
    code: str | None = None  # a reply's homework
    floor: int | None = None
    hidden: bool = False  # only staff find hidden replies; the page marks them


@dataclass(frozen=True)
class Results:
    terms: tuple[str, ...]
    hits: list[Hit]
    total: int  # at most `max_results()`; `more` says there were more
    more: bool
    page: int
    pages: int


def max_results() -> int:
    return paging.SEARCH_PAGE * paging.MAX_SEARCH_PAGES


def parse(raw: str) -> tuple[str, ...]:
    """The words of a search, or `Invalid` with a reason the user can act on."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in raw).strip()
    if len(cleaned) > MAX_QUERY_CHARS:
        raise Invalid("A search is at most {n} characters", n=MAX_QUERY_CHARS)
    terms = tuple(dict.fromkeys(cleaned.split()))  # in order, each once
    if len(terms) > MAX_TERMS:
        raise Invalid("A search is at most {n} words", n=MAX_TERMS)
    return terms


def search_course(session: Session, course: Course, raw: str, viewer: Person | None,
                  page: int = 1) -> Results:
    return _search(session, course, course.assignments, raw, viewer, page, posts=True)


def search_homework(session: Session, assignment: Assignment, raw: str, viewer: Person | None,
                    page: int = 1) -> Results:
    return _search(session, assignment.course, [assignment], raw, viewer, page, posts=False)


def _search(session: Session, course: Course, assignments: Sequence[Assignment], raw: str,
            viewer: Person | None, page: int, posts: bool) -> Results:
    terms = parse(raw)
    if page > paging.MAX_SEARCH_PAGES:
        raise Invalid("Only the first {n} pages of results are shown: add a word to narrow the search",
                      n=paging.MAX_SEARCH_PAGES)
    if not terms or (not assignments and not posts):
        return Results(terms, [], 0, False, 1, 1)
    now = utcnow()
    sqlite = session.get_bind().dialect.name == "sqlite"
    parts: list[Found] = [_replies(assignments, terms, viewer, now, sqlite)] if assignments else []
    if posts:
        parts.append(_posts(course, terms, sqlite))
    found = union_all(*parts).subquery()
    offset, limit = paging.window(page, paging.SEARCH_PAGE)
    with _bounded(session, sqlite):
        counted = session.scalar(select(func.count()).select_from(
            select(found.c.id).limit(max_results() + 1).subquery())) or 0
        rows = session.execute(select(found.c.kind, found.c.id)
                               .order_by(found.c.at.desc(), found.c.kind, found.c.id.desc())
                               .offset(offset).limit(limit)).all()
    hits = _hits(session, course, [(kind, row_id) for kind, row_id in rows], terms, viewer, now)
    total = min(counted, max_results())
    return Results(terms, hits, total, counted > total, page, paging.page_count(total, paging.SEARCH_PAGE))


def _replies(assignments: Sequence[Assignment], terms: tuple[str, ...], viewer: Person | None,
             now: datetime, sqlite: bool) -> Found:
    query: Found = select(literal("reply").label("kind"), Submission.id.label("id"),
                   Submission.created_at.label("at")).where(
        Submission.assignment_id.in_([a.id for a in assignments]),
        visibility.findable_replies(assignments, viewer, now))
    for term in terms:
        query = query.where(_matches(Submission.id, Submission.text, "search_replies", term, sqlite))
    return query


def _posts(course: Course, terms: tuple[str, ...], sqlite: bool) -> Found:
    query: Found = select(literal("post").label("kind"), CoursePost.id.label("id"),
                   CoursePost.created_at.label("at")).where(
        CoursePost.course_id == course.id, CoursePost.hidden == false())
    for term in terms:
        query = query.where(_matches(CoursePost.id, CoursePost.text, "search_posts", term, sqlite))
    return query


def like_pattern(term: str) -> str:
    """`%term%` with LIKE's own characters taken literally (escape character: backslash)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(term: str) -> str:
    """The term as one FTS5 phrase: any character is literal inside double quotes."""
    return '"' + term.replace('"', '""') + '"'


def _matches(row_id: InstrumentedAttribute[int], body: InstrumentedAttribute[str], fts: str,
             term: str, sqlite: bool) -> ColumnElement[bool]:
    if sqlite and len(term) >= TRIGRAM:
        index = table(fts, column("rowid"))
        return row_id.in_(select(index.c.rowid).where(literal_column(fts).op("MATCH")(fts_phrase(term))))
    return body.ilike(like_pattern(term), escape="\\")


@contextmanager
def _bounded(session: Session, sqlite: bool) -> Iterator[None]:
    """Run the search's statements under a cost bound; past it, `SearchTooCostly`."""
    connection = session.connection()
    raw: Any = connection.connection.dbapi_connection
    steps = [0]

    def over_budget() -> int:
        steps[0] += SQLITE_STEP_CHUNK
        return int(steps[0] > SQLITE_STEP_BUDGET)

    try:
        if sqlite:
            raw.set_progress_handler(over_budget, SQLITE_STEP_CHUNK)
        else:
            connection.execute(text(f"SET LOCAL statement_timeout = {int(PG_TIMEOUT_MS)}"))
        yield
    except DBAPIError as exc:
        if not _cancelled(exc, sqlite):
            raise
        session.rollback()
        raise SearchTooCostly(TOO_COSTLY) from exc
    finally:
        if sqlite:
            raw.set_progress_handler(None, 0)
    if not sqlite:
        connection.execute(text("SET LOCAL statement_timeout TO DEFAULT"))


def _cancelled(exc: DBAPIError, sqlite: bool) -> bool:
    if sqlite:
        return "interrupted" in str(exc.orig)
    return getattr(exc.orig, "sqlstate", None) == "57014"  # query_canceled


def _hits(session: Session, course: Course, rows: list[tuple[str, int]], terms: tuple[str, ...],
          viewer: Person | None, now: datetime) -> list[Hit]:
    reply_ids = [i for kind, i in rows if kind == "reply"]
    post_ids = [i for kind, i in rows if kind == "post"]
    replies = {s.id: s for s in session.scalars(
        select(Submission).where(Submission.id.in_(reply_ids))
        .options(joinedload(Submission.author), joinedload(Submission.assignment),
                 selectinload(Submission.attachments)))} if reply_ids else {}
    posts = {p.id: p for p in session.scalars(
        select(CoursePost).where(CoursePost.id.in_(post_ids)).options(joinedload(CoursePost.author)))
    } if post_ids else {}
    hits = []
    for kind, row_id in rows:
        hit = (_reply_hit(replies.get(row_id), course, terms, viewer, now) if kind == "reply"
               else _post_hit(posts.get(row_id), course, terms))
        if hit is not None:
            hits.append(hit)
    return hits


def _reply_hit(s: Submission | None, course: Course, terms: tuple[str, ...], viewer: Person | None,
               now: datetime) -> Hit | None:
    if s is None:
        return None
    if not visibility.findable(visibility.sight(viewer, s, now), s):  # the query's rule, checked again
        return None
    code = s.assignment.code
    return Hit("reply", paging.floor_url(course.slug, code, s.floor), s.author.name, s.created_at,
               snippet(s.text, terms), code=code, floor=s.floor, hidden=s.hidden)


def _post_hit(post: CoursePost | None, course: Course, terms: tuple[str, ...]) -> Hit | None:
    if post is None or post.hidden:
        return None
    return Hit("post", f"/courses/{course.slug}#post-{post.id}", post.author.name, post.created_at,
               snippet(post.text, terms))


def snippet(body: str, terms: Sequence[str], width: int = SNIPPET_CHARS) -> tuple[tuple[str, bool], ...]:
    """About `width` characters of `body` (white space folded) around the first match, split
    into (text, is a match) pieces; `…` where the text was cut."""
    flat = " ".join(body.split())
    if not terms:
        return ((flat[:width] + ("…" if len(flat) > width else ""), False),)
    pattern = _pattern(terms)
    first = pattern.search(flat)
    start = 0 if first is None else max(0, first.start() - width // 3)
    end = min(len(flat), start + width)
    start = max(0, min(start, end - width))
    pieces: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    window_text, pos = flat[start:end], 0
    for match in pattern.finditer(window_text):
        if match.start() > pos:
            pieces.append((window_text[pos:match.start()], False))
        pieces.append((match.group(0), True))
        pos = match.end()
    if pos < len(window_text):
        pieces.append((window_text[pos:], False))
    if end < len(flat):
        pieces.append(("…", False))
    return tuple(pieces)


def _pattern(terms: Sequence[str]) -> re.Pattern[str]:
    longest_first = sorted(terms, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in longest_first), re.IGNORECASE)

