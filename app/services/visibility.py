"""Who sees what of a reply, and when: the one place for these rules. Every read path (pages,
API, the live event stream, the edit page, files, CSV, leaderboards, draws' entry views) asks
here instead of deciding for itself; `tests/test_visibility_routes.py` walks the route table.

Audiences: ``anonymous``, ``student`` (someone else's reply), ``author``, ``staff``
(admins, and the instructors of the reply's course: `course_staff.is_course_staff`; an
instructor a course does not name reads it as a student). States of a reply:

* **hidden** (by the staff, with a reason) or **deleted** (by its author): others see only a
  placeholder at its floor; the author and the staff still see it. Only a staff-hidden reply
  can be shown again (a deletion is the author's decision).
* **sealed**: the homework's ``answers`` setting is ``sealed_until_deadline`` (the default for
  homework graded against an answer or rewarding correct answers / a lottery) and the deadline
  has not passed: others see floor, author and time, not the text, files, verdict or score.
* **private split** (MNIST-like tasks): before the deadline nobody but the staff sees a number
  from which the private score follows: overall accuracy, correct/total counts, private values.
  The author sees the public value as the score.
* Always: code packages, grading details, logs, the staff review and the edit history belong
  to the author and the staff.
* **staff log**: the log of a program's run on hidden data (it may print the hidden digits) is
  the staff's alone, the author's included (docs/grading.md, two logs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy import ColumnElement, and_, false, or_, true

from app.errors import Conflict, Forbidden, NotFound
from app.i18n import lazy, translate
from app.models import Assignment, Course, Submission, utcnow
from app.services.course_staff import is_course_staff
from app.services.homework_settings import grades_code

Audience = Literal["anonymous", "student", "author", "staff"]
Answers = Literal["sealed_until_deadline", "open"]
ANSWERS: tuple[Answers, ...] = ("sealed_until_deadline", "open")
#: keys of a grader's detail that stay visible while the private split is secret
SPLIT_SAFE_KEYS = frozenset({"rank_on", "wall_seconds", "device", "public_accuracy",
                             "public_score", "public_count"})
PUBLIC_KEYS = ("public_score", "public_accuracy")
SEALED_NOTE = lazy("Answers are sealed until the deadline: you see that this reply exists, "
                   "not its text, files, verdict or score.")
PUBLIC_RESULT = lazy("Accuracy on the public test set: {percent}")


class Person(Protocol):
    """A `User` or a page's `Viewer`: all the rules need."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...

    @property
    def is_staff(self) -> bool: ...


def audience(viewer: Person | None, author_id: int, course: Course) -> Audience:
    if viewer is None:
        return "anonymous"
    if viewer.is_staff and is_course_staff(viewer, course):
        return "staff"
    return "author" if viewer.id == author_id else "student"


def answers_mode(assignment: Assignment) -> Answers:
    """The homework's `answers` setting; by default sealed when answers are checked or rewarded."""
    config = assignment.grading_config or {}
    value = config.get("answers")
    if value in ANSWERS:
        return value
    checked = assignment.grading_kind != "reply_format"
    rewarded = any(r.get("kind") == "lottery" or r.get("correct_only") is True
                   or r.get("eligibility") == "correct_only" for r in assignment.reward_rules or [])
    return "sealed_until_deadline" if checked or rewarded else "open"


def is_sealed(assignment: Assignment, now: datetime | None = None) -> bool:
    return answers_mode(assignment) == "sealed_until_deadline" and not assignment.is_late(now or utcnow())


def split_secret(assignment: Assignment, now: datetime | None = None) -> bool:
    """Before the deadline the private split (and whatever reveals it) is secret."""
    return not assignment.is_late(now or utcnow())


@dataclass(frozen=True)
class Sight:
    """What one viewer may see of one reply now."""

    audience: Audience
    body: bool  # text and images
    code: bool  # code packages and other non-image files
    result: bool  # verdict, score, message
    private: bool  # grading detail, log, staff review, edit history
    split: bool  # private-split values and overall numbers
    #: why something is withheld from this viewer: "deleted", "hidden", "sealed" or None
    note: str | None


def sight(viewer: Person | None, s: Submission, now: datetime | None = None) -> Sight:
    now = now or utcnow()
    who = audience(viewer, s.author_id, s.assignment.course)
    gone = (("deleted" if s.hidden_by == "author" else "hidden") if s.hidden else None)
    secret = split_secret(s.assignment, now)
    if who == "staff":
        return Sight(who, True, True, True, True, True, gone)
    if who == "author":
        return Sight(who, True, True, True, True, not secret, gone)
    if gone:
        return Sight(who, False, False, False, False, False, gone)
    if is_sealed(s.assignment, now):
        return Sight(who, False, False, False, False, False, "sealed")
    return Sight(who, True, False, True, False, not secret, None)


def findable_replies(assignments: Sequence[Assignment], viewer: Person | None,
                     now: datetime) -> ColumnElement[bool]:
    """The replies of these homeworks a search shows this viewer, as SQL: those whose text they
    may read (`sight(...).body`), less hidden and deleted ones unless they are staff."""
    staffed = ([a.id for a in assignments if is_course_staff(viewer, a.course)]
               if viewer is not None and viewer.is_staff else [])
    if staffed and len(staffed) == len(assignments):
        return true()
    sealed = [a.id for a in assignments if is_sealed(a, now)]
    open_to_all: ColumnElement[bool] = Submission.assignment_id.not_in(sealed) if sealed else true()
    if viewer is not None:
        open_to_all = or_(open_to_all, Submission.author_id == viewer.id)
    others = and_(Submission.hidden == false(), open_to_all)
    return or_(Submission.assignment_id.in_(staffed), others) if staffed else others


def findable(seen: Sight, s: Submission) -> bool:
    """`findable_replies` for one loaded reply (a search checks every hit again)."""
    return seen.body and (not s.hidden or seen.audience == "staff")


def has_split(detail: dict[str, Any] | None) -> bool:
    return any(key in (detail or {}) for key in PUBLIC_KEYS)


def public_value(detail: dict[str, Any] | None) -> float | None:
    for key in PUBLIC_KEYS:
        value = (detail or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def shown_detail(seen: Sight, s: Submission) -> dict[str, Any] | None:
    if not seen.private:
        return None
    detail = dict(s.detail or {})
    if seen.split or not has_split(detail):
        return detail
    return {k: v for k, v in detail.items() if k in SPLIT_SAFE_KEYS}


def shown_score(seen: Sight, s: Submission) -> float | None:
    if not seen.result:
        return None
    if not seen.split and has_split(s.detail):
        return public_value(s.detail)
    return s.score


def shown_verdict(seen: Sight, s: Submission) -> str | None:
    return s.verdict if seen.result else None


def shown_message(seen: Sight, s: Submission, locale: str) -> str | None:
    if not seen.result:
        return None
    if not seen.split and has_split(s.detail):
        value = public_value(s.detail)
        return None if value is None else translate(locale, PUBLIC_RESULT, percent=f"{100 * value:.2f}%")
    messages = s.messages or {}
    return messages.get(locale) or messages.get("en")


def shown_log(seen: Sight, s: Submission) -> str | None:
    return s.log if seen.private else None


def shown_staff_log(seen: Sight, s: Submission) -> str | None:
    """The hidden-data run's log: staff only, never its author."""
    return s.staff_log if seen.audience == "staff" else None


def may_see_file(seen: Sight, kind: str) -> bool:
    return seen.code or (kind == "image" and seen.body)


def check_file(viewer: Person | None, s: Submission, kind: str) -> None:
    """A stored attachment: images with the body, everything else with the code."""
    seen = sight(viewer, s)
    if seen.note in ("hidden", "deleted") and not seen.body:
        raise NotFound("This file does not exist")
    if not may_see_file(seen, kind):
        if kind == "image":
            raise Forbidden("Answers are sealed until the deadline")
        raise Forbidden("Only the author and the staff can download this file")


def check_readable(viewer: Person | None, s: Submission) -> Sight:
    """A reply read on its own (API, likes): a hidden or deleted one is refused to others."""
    seen = sight(viewer, s)
    if seen.note == "hidden" and not seen.body:
        raise Forbidden("This reply was hidden by the staff")
    if seen.note == "deleted" and not seen.body:
        raise Forbidden("This reply was deleted by its author")
    return seen


def check_history(viewer: Person | None, s: Submission) -> None:
    if not sight(viewer, s).private:
        raise Forbidden("Only the author and the staff can see earlier versions")


def check_own(viewer: Person | None, s: Submission) -> None:
    """Changing a reply (editing, deleting): its author only, and not once it was deleted or hidden."""
    if viewer is None or viewer.id != s.author_id:
        raise Forbidden("Only the author can change this reply")
    if s.hidden:
        raise NotFound("No submission {id}", id=s.id)


def check_unreviewed(s: Submission) -> None:
    """A reviewed reply keeps its text: the review was of this text."""
    if s.reviewed_at is not None:
        raise Conflict("The staff already reviewed this reply, so it can no longer be edited; "
                       "post a new reply instead")


def check_editable(viewer: Person | None, s: Submission) -> None:
    """The edit page: `check_own`, and not once it was reviewed (`edits.edit_text` checks both too)."""
    check_own(viewer, s)
    check_unreviewed(s)


def check_unhide(s: Submission) -> None:
    if s.hidden and s.hidden_by == "author":
        raise Forbidden("Its author deleted this reply; the staff cannot show it again")


@dataclass(frozen=True)
class BoardSight:
    """What a leaderboard shows to one viewer."""

    private: bool  # private-split values (and the overall score when there is a split)
    own_row_only: bool  # before the deadline: only the viewer's own row, unranked


def board_sight(assignment: Assignment, viewer: Person | None, hidden_until_due: bool,
                now: datetime | None = None) -> BoardSight:
    """Staff everything; others no private values before the deadline, and only their own row
    when the board is hidden until then, or when the answers of a text-graded homework are
    sealed (its board would say who has the right answer to copy from). A code-graded board
    stays: the scores are the competition, the code stays sealed."""
    now = now or utcnow()
    staff = viewer is not None and viewer.is_staff and is_course_staff(viewer, assignment.course)
    before = not assignment.is_late(now)
    sealed_text = is_sealed(assignment, now) and not grades_code(assignment)
    own_only = before and not staff and (hidden_until_due or sealed_text)
    return BoardSight(private=staff or not before, own_row_only=own_only)


@dataclass(frozen=True)
class Shown:
    """A reply as one viewer may see it, for templates (which then never read the row's fields
    that carry answers or results directly)."""

    sight: Sight
    text: str
    verdict: str | None
    score: float | None
    message: str | None
    log: str | None
    sealed: bool
    staff_log: str | None = None


def shown(viewer: Person | None, s: Submission, locale: str, now: datetime | None = None) -> Shown:
    seen = sight(viewer, s, now)
    return Shown(seen, s.text if seen.body else "", shown_verdict(seen, s), shown_score(seen, s),
                 shown_message(seen, s, locale), shown_log(seen, s), seen.note == "sealed",
                 shown_staff_log(seen, s))
