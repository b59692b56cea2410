"""Who acts as staff of a course: admins, and instructors. A course that names its instructors
(`course_instructors`) takes staff actions that change replies, scores or draw entries (rejudge,
review, hide, copy and like exclusions) from them and the admins only; a course that names none
stays open to every instructor, as before the list existed (the demo course names none). The
staff pages that only show a course are not scoped yet (docs/abuse.md, "Left open")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Forbidden
from app.models import Course, CourseInstructor, Role, User


def require_course_staff(session: Session, actor: User, course: Course) -> None:
    if actor.role == Role.admin.value:
        return
    listed = set(session.scalars(
        select(CourseInstructor.user_id).where(CourseInstructor.course_id == course.id)))
    if listed and actor.id not in listed:
        raise Forbidden("Only admins and this course's instructors may do this")
