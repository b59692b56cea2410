"""Similarity review of one homework: compare, queue pairs for staff, confirm or dismiss.

Never a verdict by itself: a run only fills the staff queue. Staff look at the pair side by
side and confirm (the later reply is excluded from this homework's draws with reason `copied`;
the earlier one keeps its credit) or dismiss. Both are audit-logged; a decided pair stays
decided when the homework is compared again, unless a dismissed pair's text was edited after
the decision (it is queued again). Replies by staff and hidden replies are not compared; code
found in the staff's own replies (example or starter code) is not evidence.

"Earlier" is the text written first, not the lower floor: a text reply runs from its last edit,
as in a fixed-rank race (`entries.race_order`). Otherwise a student held an early floor with a
placeholder, edited it into a classmate's essay, and the pair put the copy on the "keeps
credit" side. Code packages cannot be edited, so their pairs keep floor order.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app import storage
from app.errors import CampError, Conflict, Invalid, NotFound
from app.models import Assignment, Exclusion, Role, SimilarPair, Submission, User, utcnow
from app.services.audit import record
from app.services.course_staff import require_course_staff
from app.services.entries import race_order
from app.services.notebooks import graded_code, read_notebook
from app.services.similarity_core import code_pairs, text_pairs
from grader import catalog

MAX_SOURCE_BYTES = 512 * 1024  # of Python read from one package (zip members included)


@dataclass(frozen=True)
class RunResult:
    compared_texts: int
    compared_packages: int
    new_pairs: int


def package_source(data: bytes, filename: str) -> str:
    """The Python source of a code attachment: a .py file, the .py members of a zip, or the code
    a notebook's cells make, as the grader runs it (a lone notebook or one inside a zip)."""
    if filename.lower().endswith(".py"):
        return data[:MAX_SOURCE_BYTES].decode("utf-8", "replace")
    if filename.lower().endswith(".ipynb"):
        return _notebook_source(data, filename)[:MAX_SOURCE_BYTES]
    parts, budget = [], MAX_SOURCE_BYTES
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                notebook = info.filename.endswith(".ipynb")
                cap = catalog.NOTEBOOK_BYTES if notebook else budget  # a notebook's outputs are not code
                if budget <= 0 or not (notebook or info.filename.endswith(".py")) or info.file_size > cap:
                    continue
                member = archive.read(info)
                text = (_notebook_source(member, info.filename) if notebook
                        else member.decode("utf-8", "replace"))
                parts.append(text[:budget])
                budget -= len(text.encode())
    except (zipfile.BadZipFile, OSError, ValueError):
        return ""
    return "\n".join(parts)


def _notebook_source(data: bytes, filename: str) -> str:
    try:
        return graded_code(read_notebook(filename, data)).source
    except (CampError, ValueError):
        return ""


def _replies(session: Session, assignment: Assignment) -> list[Submission]:
    return list(session.scalars(
        select(Submission).where(Submission.assignment_id == assignment.id, Submission.hidden.is_(False))
        .options(selectinload(Submission.author), selectinload(Submission.attachments))
        .order_by(Submission.floor)))


def code_of(s: Submission) -> str:
    return "\n".join(package_source(storage.get(a.sha256), a.filename)
                     for a in s.attachments if a.kind == "code")


def run(session: Session, assignment: Assignment, staff: User) -> RunResult:
    """Compare every student reply of the homework; new pairs above the thresholds are queued."""
    require_course_staff(session, staff, assignment.course)
    replies = _replies(session, assignment)
    students = [s for s in replies if s.author.role == Role.student.value]
    if len(students) < 2:
        raise Invalid("Homework {code} has fewer than two student replies: nothing to compare",
                      code=assignment.code)
    by_floor = {s.floor: s for s in students}
    texts = {s.floor: s.text for s in students}
    sources = {s.floor: code for s in students if (code := code_of(s))}
    examples = [code for s in replies if s.author.role != Role.student.value and (code := code_of(s))]
    found = [("text", p) for p in text_pairs(texts)] + [("code", p) for p in code_pairs(sources, examples)]
    written = race_order(replies)  # a text counts from its last edit
    known = {(frozenset((p.first_id, p.second_id)), p.kind): p for p in session.scalars(
        select(SimilarPair).where(SimilarPair.assignment_id == assignment.id))}
    new = 0
    for kind, pair in found:
        first, second = by_floor[pair.first], by_floor[pair.second]
        if first.author_id == second.author_id:
            continue  # one's own earlier reply is not a copy
        if kind == "text" and written[second.id] < written[first.id]:
            first, second = second, first
        existing = known.get((frozenset((first.id, second.id)), kind))
        if existing is None:
            session.add(SimilarPair(assignment_id=assignment.id, first_id=first.id, second_id=second.id,
                                    kind=kind, similarity=pair.similarity))
        elif _queued_again(existing, first, second):
            existing.first_id, existing.second_id, existing.similarity = first.id, second.id, pair.similarity
            if existing.state == "open":
                continue  # already in the queue: only brought up to date
            existing.state, existing.decided_by, existing.decided_at = "open", None, None
        else:
            continue  # decided pairs stay decided
        new += 1
    session.flush()
    record(session, staff, "similarity.run", f"assignment:{assignment.id}",
           {"texts": len(texts), "packages": len(sources), "new_pairs": new})
    return RunResult(len(texts), len(sources), new)


def _queued_again(pair: SimilarPair, first: Submission, second: Submission) -> bool:
    """An undecided pair (brought up to date), or a dismissed text pair one of whose texts was
    edited after the decision: the staff dismissed other texts, and a reply edited into a copy
    once its pair was dismissed stayed out of the queue for good. A confirmed copy stays out."""
    if pair.state == "open":
        return True
    decided = pair.decided_at
    return (pair.state == "dismissed" and pair.kind == "text" and decided is not None
            and any(s.edited_at is not None and s.edited_at > decided
                    for s in (first, second)))


def queue(session: Session, assignment: Assignment, state: str = "open") -> list[SimilarPair]:
    return list(session.scalars(
        select(SimilarPair).where(SimilarPair.assignment_id == assignment.id, SimilarPair.state == state)
        .order_by(SimilarPair.similarity.desc(), SimilarPair.id)))


def get_pair(session: Session, pair_id: int) -> SimilarPair:
    pair = session.get(SimilarPair, pair_id, with_for_update=True)
    if pair is None:
        raise NotFound("No similar pair {id}", id=pair_id)
    return pair


def decide(session: Session, pair: SimilarPair, staff: User, confirm: bool, note: str = "",
           now: datetime | None = None) -> SimilarPair:
    """Confirm (the later reply is excluded from draws) or dismiss; deciding twice is refused."""
    assignment = session.get(Assignment, pair.assignment_id)
    if assignment is not None:
        require_course_staff(session, staff, assignment.course)
    if pair.state == "confirmed":
        raise Conflict("This pair was already confirmed as a copy")
    if pair.state == "dismissed":
        raise Conflict("This pair was already dismissed")
    pair.state = "confirmed" if confirm else "dismissed"
    pair.decided_by, pair.decided_at = staff.id, now or utcnow()
    first = session.get(Submission, pair.first_id)
    if confirm and first is not None:
        exclude_submission(session, pair.assignment_id, pair.second_id, staff, "copied",
                           f"#{first.floor} ({pair.kind}, {pair.similarity:.0%}) {note}".strip())
    session.flush()
    record(session, staff, f"similarity.{pair.state}", f"similar_pair:{pair.id}",
           {"first": pair.first_id, "second": pair.second_id, "kind": pair.kind,
            "similarity": pair.similarity, "note": note})
    return pair


def exclude_submission(session: Session, assignment_id: int, submission_id: int, staff: User,
                       reason: str, note: str) -> Exclusion:
    """Leave a reply out of the homework's draws; a reply is excluded once (no second reason)."""
    existing = session.scalar(select(Exclusion).where(
        Exclusion.assignment_id == assignment_id, Exclusion.kind == "submission",
        Exclusion.target_id == submission_id))
    if existing is not None:
        return existing  # a second confirmed pair names the same copy: it is already out
    row = Exclusion(assignment_id=assignment_id, kind="submission", target_id=submission_id,
                    reason=reason, note=note[:500], by_id=staff.id)
    session.add(row)
    session.flush()
    return row
