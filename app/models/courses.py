"""Courses and their homework (assignments)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, JSONType, utcnow


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64))  # set at load (default: the site's zone)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: course-wide rules for fair prizes (final picks, which likes count): see services/integrity
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="course", order_by="Assignment.position"
    )
    #: who `course_instructors` names (read-only here: the editor adds and removes the rows)
    instructors: Mapped[list[CourseInstructor]] = relationship(viewonly=True)


class Assignment(Base):
    """One homework. `next_floor` hands out floor numbers; it only ever grows."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("course_id", "code"),
        CheckConstraint("late_policy IN ('accept', 'refuse')", name="late_policy"),
        CheckConstraint("next_floor >= 1", name="next_floor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    reply_format: Mapped[str] = mapped_column(String(200), default="")
    opens_at: Mapped[datetime]
    due_at: Mapped[datetime]
    late_policy: Mapped[str] = mapped_column(String(8), default="accept")
    grading_kind: Mapped[str] = mapped_column(String(32), default="reply_format")
    grading_config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    queue: Mapped[str] = mapped_column(String(16), default="cpu")
    reward_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    next_floor: Mapped[int] = mapped_column(default=1)

    course: Mapped[Course] = relationship(back_populates="assignments")

    def is_late(self, now: datetime) -> bool:
        return now > self.due_at


class CourseInstructor(Base):
    """An instructor who may edit this course in the editor (admins may edit every course)."""

    __tablename__ = "course_instructors"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
