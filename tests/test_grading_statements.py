"""What one cheap grading costs the database, counted (not timed), on both stacks: the task's
claim and verdict statements, the notice included. A grading is the deadline's unit of
capacity; a statement added here is paid for every reply of every student."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.support.homework import Reply, add_replies, make_course, make_users, now, own_queue
from tests.support.queries import statements
from tests.support.stacks import Stack

WAITING = {"status": "queued", "verdict": None, "score": None}


def _graded(n: int) -> list[list[str]]:
    """Grade `n` waiting first replies (each of its own student) through the task body, in
    process; the statements of each grading."""
    from sqlalchemy import update

    from app.db import session_scope
    from app.models import Notification, Submission
    from worker.tasks import grade_submission

    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    own_queue(slug)  # no worker of another test grades these
    authors = make_users(n)
    start = now() - timedelta(minutes=5)
    ids = add_replies(slug, "1", [Reply(a, at=start + timedelta(seconds=i), **WAITING)  # type: ignore[arg-type]
                                  for i, a in enumerate(authors)])
    with session_scope() as session:  # never tried yet: a first attempt has nothing to close
        session.execute(update(Submission).where(Submission.id.in_(ids)).values(attempts=0))
    seen = []
    for sid in ids:
        with statements() as sent:
            assert grade_submission.run(sid) == "scored"
        seen.append(list(sent))
    with session_scope() as session:
        statuses = session.scalars(select(Submission.status).where(Submission.id.in_(ids))).all()
        notices = session.scalar(select(Notification.id).where(Notification.user_id.in_(authors)).limit(1))
    assert set(statuses) == {"scored"} and notices is not None
    return seen


def _writes_and_reads(sent: list[str]) -> list[str]:
    """The statements that reach the tables (BEGIN/COMMIT and savepoints left out)."""
    return [s for s in sent if s.split(None, 1)[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}]


def test_a_cheap_grading_costs_a_fixed_handful_of_statements(stack: Stack) -> None:
    """Claim (pick lock, fair order, claim, attempt, turn), verdict (submission, attempt, notice
    with its mail preference read inside the INSERT), and the author's next waiting reply. The
    homework is read once more on SQLite, whose pick does not load it. It was 11 (PostgreSQL)
    before the statements were folded; the notice alone took three."""
    seen = _graded(3)
    expected = 9 if stack.name == "postgres" else 10
    for sent in seen:
        body = _writes_and_reads(sent)
        assert len(body) <= expected, "\n---\n".join(body)
        assert sum(s.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS") for s in body) == 1
