"""The course lock: a draw's commit and a change of what decides its entries take turns.

A draw publishes its homework's deadline and rule when it is committed; a load of the course
(`camp course load`, an admin's upload, an editor's save) refuses to move what a running draw
depends on (`course_editor.check_draws`). The check alone has a gap: a load that checked before
a concurrent commit became visible, or a commit that read the homework before a concurrent load
changed it, would each go through. So both take this lock first and hold it to their commit:

* a load takes it before it looks at the course's draws, so it sees every draw committed before
  it, and no draw commits until the load has;
* a draw's commit takes it before it reads the homework it publishes (then reads it again).

PostgreSQL: a row lock on the course (a load `FOR UPDATE`; a commit `FOR SHARE`, so two commits
of one course do not wait for each other, only for a load). SQLite: a no-op UPDATE of the course
row, which takes the database's single write lock at once (Python's driver begins the
transaction only at the first write, so reads before it see the newest data, and reads after it
see everything committed before it, as nobody else can commit in between)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Course


def lock_course(session: Session, course_id: int, *, shared: bool = False) -> None:
    """Hold the course lock until the transaction ends (`shared`: a draw's commit)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Course).where(Course.id == course_id).values(id=Course.id)
                        .execution_options(synchronize_session=False))
    else:
        session.execute(select(Course.id).where(Course.id == course_id).with_for_update(read=shared))
