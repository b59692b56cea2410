"""Posting a reply that may answer several homework: split it, file each part as a normal
submission (graded by its homework's task), keep the rest as a course-thread post.

Where files go (see `reply_routing.assign_files`): a file named in a part's text goes to that
part; a code package goes to the first part whose homework grades code; anything else goes to
the homework the reply was posted to, or to the first part. A course-thread reply that names no
homework cannot carry files.

The plan (`plan_reply`) is the same for the preview and the real post, so what the student
sees before posting is what happens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Invalid, NotFound
from app.live import announce_after_commit
from app.models import Assignment, Course, CoursePost, Submission, User, utcnow
from app.services.homework_settings import grades_code
from app.services.limits import CodeQuota, code_quota
from app.services.reply_rate import check_reply_rate
from app.services.reply_routing import FileRef, Part, Routing, assign_files, split_reply
from app.services.submissions import clean_text, submit
from app.services.uploads import CODE_SUFFIXES, CheckedFile, clean_filename


@dataclass(frozen=True)
class PlannedPart:
    part: Part
    assignment: Assignment
    indexes: list[int]  # which of the uploaded files go to this part, in upload order
    files: list[FileRef]

    @property
    def has_code(self) -> bool:
        return any(f.kind == "code" for f in self.files)


@dataclass(frozen=True)
class Plan:
    routing: Routing
    parts: list[PlannedPart]
    codes: list[str]  # the course's homework codes, for the notice about unknown ones


@dataclass
class Posted:
    plan: Plan
    post: CoursePost | None
    submissions: dict[str, Submission] = field(default_factory=dict)  # by homework code


def file_refs(names: list[str]) -> list[FileRef]:
    """Files known only by name (the preview): the kind their suffix gives; blank names skipped."""
    refs = []
    for name in names:
        if name.strip():
            clean = clean_filename(name)
            suffix = PurePosixPath(clean).suffix.lower()
            refs.append(FileRef(clean, "code" if suffix in CODE_SUFFIXES else "image"))
    return refs


def plan_reply(course: Course, text: str, files: list[FileRef], default: Assignment | None = None) -> Plan:
    by_code = {a.code: a for a in course.assignments}
    routing = split_reply(text, list(by_code), default.code if default else None)
    code_graded = [code for code, a in by_code.items() if grades_code(a)]
    targets = assign_files(routing, files, code_graded, default.code if default else None)
    parts = []
    for part in routing.parts:
        indexes = [i for i, target in enumerate(targets) if target == part.code]
        parts.append(PlannedPart(part, by_code[part.code], indexes, [files[i] for i in indexes]))
    return Plan(routing, parts, list(by_code))


def part_state(assignment: Assignment, now: datetime) -> str:
    """`not_open`, `open`, `late` (accepted, marked late) or `closed` (late replies refused)."""
    if now < assignment.opens_at:
        return "not_open"
    if assignment.is_late(now):
        return "late" if assignment.late_policy == "accept" else "closed"
    return "open"


def quotas(session: Session, plan: Plan, author: User, now: datetime) -> dict[str, CodeQuota]:
    """Today's code-submission quota of every part that carries code (shown in the preview)."""
    return {p.assignment.code: code_quota(session, p.assignment, author.id, now)
            for p in plan.parts if p.has_code}


def post_reply(session: Session, course: Course, author: User, text: str | None,
               files: list[CheckedFile], default: Assignment | None = None,
               now: datetime | None = None) -> Posted:
    """File every part; on the course thread (`default` None) also keep a `CoursePost`.

    Floors are taken in homework-id order, so two replies naming the same homework in a
    different order cannot deadlock on PostgreSQL's row locks; the author's reply-rate row is
    locked before any of them (`reply_rate`), so the order is the same for every reply.
    """
    now = now or utcnow()
    text = clean_text(text)
    if not text and not files:
        raise Invalid("The reply is empty: write an answer or attach a file")
    plan = plan_reply(course, text, [FileRef(f.filename, f.kind) for f in files], default)
    if files and not plan.parts:
        raise Invalid("Files go with a homework: start the reply with a homework prefix like 作业6-2：")
    # before any floor or row: a refused reply takes nothing (and the per-account lock comes first)
    check_reply_rate(session, course, author, now)
    post = None
    if default is None:
        post = CoursePost(course_id=course.id, author_id=author.id, text=plan.routing.unrouted,
                          created_at=now)
        session.add(post)
        session.flush()
    posted = Posted(plan, post)
    for planned in sorted(plan.parts, key=lambda p: p.assignment.id):
        mine = [files[i] for i in planned.indexes]
        submission = submit(session, planned.assignment, author, planned.part.text, mine, now=now,
                            post_id=post.id if post else None, route_flag=planned.part.flag,
                            route_written=",".join(planned.part.written)[:64] or None)
        posted.submissions[planned.assignment.code] = submission
    # open thread pages fetch it at once (after the files' own after-commit moves)
    announce_after_commit(session, homework=[p.assignment.id for p in plan.parts],
                          courses=[course.id] if post else [])
    return posted


def course_posts(session: Session, course: Course, offset: int = 0, limit: int = 20) -> list[CoursePost]:
    """The course thread, newest first (hidden posts included: they show as placeholders)."""
    return list(session.scalars(
        select(CoursePost).where(CoursePost.course_id == course.id)
        .order_by(CoursePost.id.desc()).offset(offset).limit(limit)
    ))


def posts_after(session: Session, course_id: int, after: int, limit: int = 20) -> list[CoursePost]:
    """The course thread's posts newer than post `after`, oldest first (a live page adds them)."""
    return list(session.scalars(
        select(CoursePost).where(CoursePost.course_id == course_id, CoursePost.id > after)
        .order_by(CoursePost.id).limit(limit)
    ))


def count_posts(session: Session, course: Course) -> int:
    return session.scalar(select(func.count()).where(CoursePost.course_id == course.id)) or 0


def parts_of(session: Session, post_ids: list[int]) -> dict[int, list[Submission]]:
    """The submissions each post was split into, in the order they were filed."""
    found: dict[int, list[Submission]] = {pid: [] for pid in post_ids}
    if post_ids:
        rows = session.scalars(
            select(Submission).where(Submission.post_id.in_(post_ids)).order_by(Submission.id)
        )
        for s in rows:
            found[s.post_id or 0].append(s)
    return found


def get_post(session: Session, post_id: int) -> CoursePost:
    post = session.get(CoursePost, post_id)
    if post is None:
        raise NotFound("This reply does not exist")
    return post
