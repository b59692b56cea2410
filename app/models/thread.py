"""The course thread's own posts, and the edit history of replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, utcnow
from app.models.courses import Course
from app.models.users import User


class CoursePost(Base):
    """One reply to the course thread. Its parts that name a homework are submissions
    (`Submission.post_id`); `text` keeps what went to no homework (text before the first
    prefix, parts naming a code the course does not have)."""

    __tablename__ = "course_posts"
    __table_args__ = (Index("ix_course_posts_course_id_id", "course_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    hidden: Mapped[bool] = mapped_column(default=False)
    #: "author" (deleted by its author) or "staff" (hidden by the staff); None while shown
    hidden_by: Mapped[str | None] = mapped_column(String(16))
    hidden_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship()
    author: Mapped[User] = relationship()


class SubmissionEdit(Base):
    """The text a reply had before one edit; the current text is on the submission."""

    __tablename__ = "submission_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)
