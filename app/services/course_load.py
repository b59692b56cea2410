"""Loading a whole course file: `camp course load FILE` (the operator) and an admin's upload.

Both go through what the editor's save goes through: the course lock (`course_lock`), then
`check_draws` (a running draw's homework keeps its times, grading and drawn rule), then the load,
audited as `course.load` with each changed field. There is no override: a course that must change
under a running draw is changed after aborting the draw publicly (docs/draws.md, "Changing a
homework under a draw").
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Course, User
from app.services.audit import record
from app.services.course_editor import check_draws, course_document, diff
from app.services.course_lock import lock_course
from app.services.courses import CourseSpec, load_course

#: who loaded the file: the operator's command line, or an admin's upload in the browser
Via = Literal["cli", "upload"]


def load_file(session: Session, spec: CourseSpec, actor: User | None, via: Via) -> Course:
    """Create or update the course of a checked course file; refused (`CourseFileError`, every
    refused field named) when it changes what decides a draw that is running."""
    existing = session.scalar(select(Course).where(Course.slug == spec.slug))
    before: dict[str, Any] | None = None
    if existing is not None:
        lock_course(session, existing.id)
        session.refresh(existing)
        check_draws(session, existing, spec)
        before = course_document(session, existing)
    course = load_course(session, spec, actor=actor, action="")
    data: dict[str, Any] = {"assignments": [a.code for a in spec.assignments], "via": via}
    if before is not None:
        session.refresh(course)
        data["changes"] = [c.to_json() for c in diff(before, course_document(session, course))]
    record(session, actor, "course.load", f"course:{course.slug}", data)
    return course
