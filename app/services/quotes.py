"""Quoting a floor: the reply box starts with `> #N name：` and the quoted text, as the seed's forum
replies did by hand. Only what the viewer may read is quoted (sealed and hidden replies give
nothing), and only the start of a long reply."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Assignment, Submission
from app.services import visibility
from app.services.visibility import Person

MAX_LINES = 8
MAX_CHARS = 400


def quote_of(session: Session, assignment: Assignment, floor: int, viewer: Person | None) -> str:
    """The Markdown quote of floor `floor` for the reply box, or "" when there is none to show."""
    s = session.scalar(select(Submission).where(Submission.assignment_id == assignment.id,
                                                Submission.floor == floor))
    if s is None or s.hidden or not visibility.sight(viewer, s).body:
        return ""
    text = s.text.strip()
    lines = text[:MAX_CHARS].splitlines()[:MAX_LINES]
    cut = len(text) > MAX_CHARS or len(text.splitlines()) > MAX_LINES
    quoted = [f"> #{s.floor} {s.author.name}：", *(f"> {line}" for line in lines)]
    if cut:
        quoted.append("> …")
    return "\n".join(quoted) + "\n\n"
