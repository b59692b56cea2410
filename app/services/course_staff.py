"""Who acts as staff of a course: admins, and instructors. A course that names its instructors
(`course_instructors`) is staff business of them and the admins only: its staff actions
(rejudge, review, hide, copy and like exclusions), its staff pages and CSV exports, and what
`visibility` shows the staff of its replies (hidden replies, private scores, staff logs). An
instructor it does not name is a student there. A course that names none stays open to every
instructor, as before the list existed (the demo course names none)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Forbidden
from app.models import Course, CourseInstructor, Role, User


class Person(Protocol):
    """A `User` or a page's `Viewer`."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...


def is_course_staff(person: Person | None, course: Course) -> bool:
    """Admins everywhere; instructors where the course names them or names nobody."""
    if person is None or person.role not in (Role.instructor.value, Role.admin.value):
        return False
    if person.role == Role.admin.value:
        return True
    listed = {row.user_id for row in course.instructors}
    return not listed or person.id in listed


def require_course_staff(session: Session, actor: User, course: Course) -> None:
    if actor.role == Role.admin.value:
        return
    listed = set(session.scalars(
        select(CourseInstructor.user_id).where(CourseInstructor.course_id == course.id)))
    if actor.role != Role.instructor.value or (listed and actor.id not in listed):
        raise Forbidden("Only admins and this course's instructors may do this")


def staff_courses(session: Session, person: Person) -> list[Course]:
    """The courses whose staff pages `person` may open, in creation order."""
    courses = session.scalars(select(Course).order_by(Course.id))
    return [c for c in courses if is_course_staff(person, c)]
