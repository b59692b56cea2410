"""JSON shapes the API returns (and documents in OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import object_session

from app.i18n import translate
from app.models import Assignment, Course, Submission, User
from app.services import visibility
from app.services.likes import like_count, like_counts
from grader.catalog import NOTEBOOK_CONTENT_TYPE


class CourseOut(BaseModel):
    slug: str
    title: str
    timezone: str

    @classmethod
    def of(cls, course: Course) -> CourseOut:
        return cls(slug=course.slug, title=course.title, timezone=course.timezone)


class AssignmentOut(BaseModel):
    code: str
    title: str
    body: str
    reply_format: str
    opens_at: datetime
    due_at: datetime
    late_policy: str
    grading: str
    reward_rules: list[dict[str, Any]]

    @classmethod
    def of(cls, a: Assignment) -> AssignmentOut:
        return cls(
            code=a.code, title=a.title, body=a.body, reply_format=a.reply_format,
            opens_at=a.opens_at, due_at=a.due_at, late_policy=a.late_policy,
            grading=a.grading_kind, reward_rules=a.reward_rules,
        )


class AttachmentOut(BaseModel):
    id: int
    filename: str
    kind: str
    size: int
    url: str
    #: the type Camp decided when it checked the file (`application/x-ipynb+json` for a notebook)
    content_type: str
    #: a notebook's rendered page, for those who may see it; None for other files
    view_url: str | None = None


class ReviewOut(BaseModel):
    """The staff review: the author and the staff see it whole; everyone sees `featured`."""

    score: float | None
    comment: str | None
    reviewed_at: datetime


class SubmissionOut(BaseModel):
    id: int
    course: str
    assignment: str
    floor: int
    author: str
    text: str
    status: str
    verdict: str | None
    score: float | None
    message: str | None
    detail: dict[str, Any] | None
    error: str | None
    log: str | None
    #: the log of the run on hidden data: staff only (it may print the hidden digits)
    staff_log: str | None = None
    is_late: bool
    created_at: datetime
    graded_at: datetime | None
    attachments: list[AttachmentOut]
    likes: int = 0
    featured: bool = False
    review: ReviewOut | None = None
    edited_at: datetime | None = None
    hidden: bool = False
    #: answers are sealed until the deadline: text, files, verdict and score are withheld
    sealed: bool = False
    #: how the reply's prefix was read: `filed_under_parent` when `作业8-1` was filed under `8`
    route_flag: str | None = None

    @classmethod
    def many(cls, rows: list[Submission], viewer: User | None, locale: str) -> list[SubmissionOut]:
        """A page of rows with their like counts in one query (load the rows with
        `submissions.LIST_LOADING`: a page then costs the same few statements at any size)."""
        session = object_session(rows[0]) if rows else None
        likes = like_counts(session, [s.id for s in rows]) if session is not None else {}
        return [cls.of(s, viewer, locale, likes=likes.get(s.id, 0)) for s in rows]

    @classmethod
    def of(cls, s: Submission, viewer: User | None, locale: str, likes: int | None = None) -> SubmissionOut:
        seen = visibility.sight(viewer, s)
        if likes is None:
            likes = like_count(session, s.id) if (session := object_session(s)) else 0
        return cls(
            id=s.id,
            course=s.assignment.course.slug,
            assignment=s.assignment.code,
            floor=s.floor,
            author=s.author.name,
            text=s.text if seen.body else "",
            status=s.status,
            verdict=visibility.shown_verdict(seen, s),
            score=visibility.shown_score(seen, s),
            message=visibility.shown_message(seen, s, locale),
            detail=visibility.shown_detail(seen, s),
            error=_error_text(s, seen, locale) if seen.result else None,
            log=visibility.shown_log(seen, s),
            staff_log=visibility.shown_staff_log(seen, s),
            is_late=s.is_late,
            created_at=s.created_at,
            graded_at=s.graded_at,
            attachments=[
                AttachmentOut(id=a.id, filename=a.filename, kind=a.kind, size=a.size,
                              url=f"/files/{a.id}", content_type=a.content_type,
                              view_url=f"/files/{a.id}/notebook"
                              if a.content_type == NOTEBOOK_CONTENT_TYPE else None)
                for a in s.attachments
                if visibility.may_see_file(seen, a.kind)
            ],
            likes=likes,
            featured=s.featured,
            review=_review(s) if seen.private else None,
            edited_at=s.edited_at,
            hidden=s.hidden,
            sealed=seen.note == "sealed",
            route_flag=s.route_flag,
        )


def _review(s: Submission) -> ReviewOut | None:
    if s.reviewed_at is None:
        return None
    return ReviewOut(score=s.review_score, comment=s.review_comment, reviewed_at=s.reviewed_at)


def _error_text(s: Submission, seen: visibility.Sight, locale: str) -> str | None:
    """Students see that the platform failed, not its internals; staff see the details."""
    if s.status != "failed":
        return None
    if seen.audience == "staff":
        return s.error
    return translate(
        locale,
        "Camp could not grade this submission; the staff have been told. "
        "It does not count against you.",
    )


class UserOut(BaseModel):
    id: int
    name: str
    role: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, name=user.name, role=user.role, active=user.is_active,
                   created_at=user.created_at)
