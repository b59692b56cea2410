"""The status chips of a course's homework list: where each homework stands in time (not open
yet, open, due soon, closed or taking late replies) and, for the viewer, done and won.

Two queries for the whole course, whatever its number of homework: the viewer's accepted
replies, and the revealed draws with their winners.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import lazy
from app.models import Assignment, Draw, Submission, User

DUE_SOON = timedelta(hours=24)

CHIP_LABELS: dict[str, str] = {
    "upcoming": lazy("Not open yet"),
    "open": lazy("Open"),
    "due_soon": lazy("Due soon"),
    "late": lazy("Late replies accepted"),
    "closed": lazy("Closed"),
    "done": lazy("Done"),
    "won": lazy("Won"),
}


@dataclass
class Chips:
    """One homework's chips: its time state, then the viewer's own (in this order)."""

    time: str
    mine: list[str] = field(default_factory=list)

    @property
    def all(self) -> list[str]:
        return [self.time, *self.mine]


def time_state(assignment: Assignment, now: datetime) -> str:
    if now < assignment.opens_at:
        return "upcoming"
    if now > assignment.due_at:
        return "late" if assignment.late_policy == "accept" else "closed"
    if assignment.due_at - now < DUE_SOON:
        return "due_soon"
    return "open"


def chips_for(session: Session, assignments: Sequence[Assignment], viewer: User | None,
              now: datetime) -> dict[int, Chips]:
    """Assignment id -> its chips, for `viewer` (None: time states only)."""
    chips = {a.id: Chips(time_state(a, now)) for a in assignments}
    if viewer is None or not chips:
        return chips
    ids = list(chips)
    done = set(session.scalars(
        select(Submission.assignment_id).distinct().where(
            Submission.assignment_id.in_(ids), Submission.author_id == viewer.id,
            Submission.hidden.is_(False), Submission.status == "scored",
            Submission.verdict == "accepted")))
    won: set[int] = set()
    for assignment_id, winners in session.execute(
            select(Draw.assignment_id, Draw.winners).where(
                Draw.assignment_id.in_(ids), Draw.status == "revealed")):
        if any(w.get("name") == viewer.name for w in winners or []):
            won.add(assignment_id)
    for assignment_id, c in chips.items():
        if assignment_id in done:
            c.mine.append("done")
        if assignment_id in won:
            c.mine.append("won")
    return chips
