"""Posting replies: validation, floor numbers, attachments, and handing the id to the queue."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import lru_cache, partial
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from app import storage
from app.config import get_settings
from app.db import after_commit
from app.errors import Forbidden, Invalid, NotFound, TooLarge
from app.models import Assignment, Attachment, Status, Submission, User, utcnow
from app.queue import enqueue_grading
from app.services import notifications
from app.services.homework_settings import grades_code
from app.services.limits import check_code_quota
from app.services.package_check import check_package
from app.services.uploads import CheckedFile


def allocate_floor(session: Session, assignment_id: int) -> int:
    """Atomically take the next floor number. The counter never goes back, so floors are never reused."""
    return int(session.execute(_floor_statement(), {"homework": assignment_id}).scalar_one()) - 1


@lru_cache(maxsize=1)
def _floor_statement() -> Any:
    """`allocate_floor`'s UPDATE, built once, on the table: the session is not told (matching it
    against every homework the request loaded, a reply loads the course's whole list, cost a
    sixth of a reply's CPU, and nothing reads the counter from those objects afterwards), and
    the ORM's DML path costs about twice the statement's own CPU."""
    c = cast(Table, Assignment.__table__).c
    return (
        update(Assignment.__table__)  # type: ignore[arg-type]
        .where(c.id == bindparam("homework"))
        .values(next_floor=c.next_floor + 1)
        .returning(c.next_floor)
    )


def clean_text(text: str | None) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\x00", "").strip()
    limit = get_settings().max_text_bytes
    if len(text.encode("utf-8")) > limit:
        raise TooLarge("The reply is too long: at most {kb} KB of text", kb=limit // 1024)
    return text


def submit(
    session: Session,
    assignment: Assignment,
    author: User,
    text: str | None,
    files: list[CheckedFile],
    now: datetime | None = None,
    **columns: object,
) -> Submission:
    """File one reply: floor, row, attachments, and its id to the queue once committed.
    `columns`: more of the row's values (where a split reply came from), in the same INSERT."""
    now = now or utcnow()
    text = clean_text(text)
    if not text and not files:
        raise Invalid("The reply is empty: write an answer or attach a file")
    if now < assignment.opens_at:
        raise Forbidden("Homework {code} is not open yet", code=assignment.code)
    late = assignment.is_late(now)
    if late and assignment.late_policy == "refuse":
        raise Forbidden("Homework {code} is closed; late replies are not accepted", code=assignment.code)
    if grades_code(assignment):
        check_package(files)  # before the floor and the quota: a refused package costs nothing
    floor = allocate_floor(session, assignment.id)  # also locks the homework's row until commit
    if any(f.kind == "code" for f in files):
        check_code_quota(session, assignment, author.id, now)
    # the relationships set here are what the answer shows: nothing is loaded again for it
    submission = Submission(
        assignment=assignment,
        author=author,
        floor=floor,
        text=text,
        is_late=late,
        status=Status.queued.value,
        created_at=now,
        queued_at=now,
        attachments=[],
        **columns,
    )
    for checked in files:
        staged = storage.stage(checked.data)  # its real name once the reply has committed
        after_commit(session, partial(storage.promote, staged))
        submission.attachments.append(
            Attachment(
                filename=checked.filename,
                sha256=staged.digest,
                size=len(checked.data),
                kind=checked.kind,
                content_type=checked.content_type,
            )
        )
    session.add(submission)
    session.flush()
    notifications.replied(session, submission)
    submission_id, queue = submission.id, assignment.queue
    after_commit(session, lambda: enqueue_grading(submission_id, queue))
    return submission


def get_submission(session: Session, submission_id: int) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound("No submission {id}", id=submission_id)
    return submission


def thread(session: Session, assignment: Assignment, offset: int = 0, limit: int = 50) -> list[Submission]:
    """A page of the thread in floor order; hidden replies included (pages show placeholders)."""
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.assignment_id == assignment.id)
            .options(selectinload(Submission.author), selectinload(Submission.attachments))
            .order_by(Submission.floor)
            .offset(offset)
            .limit(limit)
        )
    )


def thread_after(session: Session, assignment_id: int, floor: int, limit: int = 20) -> list[Submission]:
    """The replies after `floor`, in floor order (what a live thread page has not shown yet)."""
    return list(session.scalars(
        select(Submission)
        .where(Submission.assignment_id == assignment_id, Submission.floor > floor)
        .options(selectinload(Submission.author), selectinload(Submission.attachments))
        .order_by(Submission.floor)
        .limit(limit)
    ))


#: what a list of submissions shows with each row, loaded with the page, not per row
LIST_LOADING = (
    joinedload(Submission.assignment).joinedload(Assignment.course),
    joinedload(Submission.author),
    selectinload(Submission.attachments),
)


def for_author(session: Session, author: User, limit: int = 200) -> list[Submission]:
    return list(
        session.scalars(
            select(Submission)
            .options(*LIST_LOADING)
            .where(Submission.author_id == author.id)
            .order_by(Submission.id.desc())
            .limit(limit)
        )
    )


def thread_length(session: Session, assignment: Assignment) -> int:
    """Floors taken in the homework's thread (deleted and hidden replies keep theirs)."""
    return session.scalar(select(func.count()).where(Submission.assignment_id == assignment.id)) or 0


def reply_counts(session: Session, assignments: list[Assignment]) -> dict[int, int]:
    """Assignment id -> how many replies its thread holds."""
    rows = session.execute(
        select(Submission.assignment_id, func.count())
        .where(Submission.assignment_id.in_([a.id for a in assignments]))
        .group_by(Submission.assignment_id)
    )
    return {assignment_id: count for assignment_id, count in rows}


def by_ids(session: Session, ids: Collection[int], author_id: int | None = None) -> list[Submission]:
    """The submissions with these ids (only `author_id`'s when given), authors and files loaded."""
    query = (select(Submission).where(Submission.id.in_(ids))
             .options(selectinload(Submission.author), selectinload(Submission.attachments)))
    if author_id is not None:
        query = query.where(Submission.author_id == author_id)
    return list(session.scalars(query))
