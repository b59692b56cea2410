"""Editing a course in the browser: who may, the course as a document, its version, the diff, saving.

The editor works on the same document a course file holds (`course_document`): the page turns
its form into a changed document, `course_check` validates the whole of it (one validation for
YAML import, export and the editor), the diff against the stored course is shown, and saving
loads the document exactly as `camp course load` would, writing an audit entry per changed
homework. Concurrent edits: every page carries the `version` (a hash of the document it showed);
saving over a course that changed since refuses with a conflict and loses nothing.

Changes take effect for new replies; existing gradings stay as they were until the staff
rejudge the homework (`affected` says which homework changed how they grade, and how many
replies were graded the old way).
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.errors import Conflict, Forbidden, Invalid
from app.i18n import lazy
from app.models import Assignment, Course, CourseInstructor, Draw, Role, Submission, User, utcnow
from app.services.audit import record
from app.services.course_check import FAIRNESS_KEYS, CourseFileError, Problem, check_course
from app.services.course_lock import lock_course
from app.services.courses import CourseSpec, instructor_names, load_course, resolve_time
from grader.catalog import example_prefix

#: what an audit entry keeps of one changed value (a homework text can be long)
AUDIT_VALUE_CHARS = 2000
GRADING_FIELDS = ("reply_format", "grading")


def can_edit(session: Session, user: User, course: Course) -> bool:
    """Admins edit every course; instructors the courses that list them."""
    if user.role == Role.admin.value:
        return True
    if user.role != Role.instructor.value:
        return False
    return session.get(CourseInstructor, (course.id, user.id)) is not None


def require_editor(session: Session, user: User, course: Course) -> None:
    if not can_edit(session, user, course):
        raise Forbidden("Only admins and this course's instructors may edit it")


def editable_courses(session: Session, user: User) -> list[Course]:
    query = select(Course).order_by(Course.id)
    if user.role != Role.admin.value:
        query = query.join(CourseInstructor, CourseInstructor.course_id == Course.id).where(
            CourseInstructor.user_id == user.id
        )
    return list(session.scalars(query))


# --- the course as a document ----------------------------------------------------------------


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """`2026-12-01T20:00` in the course's zone (seconds only when there are some)."""
    local = moment.astimezone(zone).replace(tzinfo=None)
    return local.isoformat(timespec="seconds" if local.second else "minutes")


def homework_document(assignment: Assignment, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "code": assignment.code,
        "title": assignment.title,
        "body": assignment.body,
        "reply_format": assignment.reply_format,
        "opens": local_time(assignment.opens_at, zone),
        "due": local_time(assignment.due_at, zone),
        "late_policy": assignment.late_policy,
        "grading": {"kind": assignment.grading_kind, **copy.deepcopy(assignment.grading_config or {})},
        "rewards": copy.deepcopy(list(assignment.reward_rules or [])),
    }


def course_document(session: Session, course: Course) -> dict[str, Any]:
    """The course as its YAML file would hold it: times absolute, in the course's zone."""
    zone = ZoneInfo(course.timezone)
    document: dict[str, Any] = {
        "slug": course.slug,
        "title": course.title,
        "description": course.description,
        "timezone": course.timezone,
    }
    fairness = {k: v for k, v in (course.settings or {}).items() if k in FAIRNESS_KEYS}
    if fairness:
        document["fairness"] = copy.deepcopy(fairness)
    document["instructors"] = instructor_names(session, course)
    document["assignments"] = [homework_document(a, zone) for a in course.assignments]
    return document


def version_of(document: dict[str, Any]) -> str:
    """A short hash of the document: what the editor page showed, checked again when saving."""
    canonical = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:20]


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def to_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)


def export_yaml(session: Session, course: Course) -> str:
    """The course file of a course; it passes the same validation an upload does (a course stored
    before a check existed may not: then the problems are named, as for an upload)."""
    document = course_document(session, course)
    try:
        check_course(document, get_settings().default_timezone)
    except CourseFileError as exc:
        raise Invalid("The stored course does not pass the course check: {problems}",
                      problems="; ".join(f"{p.where}: {p.message}" for p in exc.problems)) from None
    return to_yaml(document)


# --- the diff --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    path: str  # `assignments[3-1].grading.kind`
    before: str | None  # None: added
    after: str | None  # None: removed

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "before": _cut(self.before), "after": _cut(self.after)}


def _cut(value: str | None) -> str | None:
    return value if value is None or len(value) <= AUDIT_VALUE_CHARS else value[:AUDIT_VALUE_CHARS] + "…"


def _flatten(value: Any, path: str, out: dict[str, str]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list) and value and all(isinstance(i, dict) and "code" in i for i in value):
        for item in value:  # homework are named by their code, not their position
            _flatten(item, f"{path}[{item['code']}]", out)
    elif isinstance(value, list) and value and path.endswith("rewards"):
        for index, item in enumerate(value):
            _flatten(item, f"{path}[{index}]", out)
    else:
        out[path] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Every changed leaf, in the order of the document after the change (removed ones last)."""
    old: dict[str, str] = {}
    new: dict[str, str] = {}
    _flatten(before, "", old)
    _flatten(after, "", new)
    changes = [Change(path, old.get(path), value) for path, value in new.items() if old.get(path) != value]
    changes += [Change(path, value, None) for path, value in old.items() if path not in new]
    return changes


# --- saving ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Affected:
    """A homework whose grading changed, and how many of its replies were graded the old way."""

    code: str
    graded: int


@dataclass(frozen=True)
class Saved:
    changes: list[Change]
    version: str
    affected: list[Affected]


def proposed(session: Session, course: Course, document: dict[str, Any]) -> list[Change]:
    """Validate a changed document of `course` and say what it changes (nothing is written)."""
    if document.get("slug") != course.slug:
        raise Invalid("The slug of a course cannot be changed in the editor")
    spec = check_course(document, get_settings().default_timezone)
    _check_instructors(session, document.get("instructors"))
    check_draws(session, course, spec)
    return diff(course_document(session, course), document)


def _check_instructors(session: Session, names: Any) -> None:
    """Every listed name is an instructor's (or an admin's) account."""
    if not isinstance(names, list):
        return
    roles = dict(session.execute(select(User.name, User.role).where(User.name.in_(names))).all())
    problems = []
    for index, name in enumerate(names):
        if name not in roles:
            problems.append(Problem(f"instructors[{index}]", lazy("No user named {name}"), {"name": name}))
        elif roles[name] not in (Role.instructor.value, Role.admin.value):
            problems.append(Problem(f"instructors[{index}]", lazy("{name} is not an instructor"),
                                    {"name": name}))
    if problems:
        raise CourseFileError(lazy("The course file is not valid"), problems)


#: draws whose entries are not yet drawn: their homework's times decide who enters
OPEN_DRAWS = ("committed", "frozen")


def _aware(moment: datetime) -> datetime:
    """To the second (the editor shows no fractions), aware (SQLite returns naive UTC)."""
    moment = moment.replace(microsecond=0)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _graded_changes(item: Any, old: Assignment) -> list[str]:
    """The fields of a homework that decide a draw's entries (grading settings such as the
    leaderboard's best/last mode, the reply format, the late policy) that `item` changes."""
    changed = []
    stored = {"kind": old.grading_kind, **(old.grading_config or {})}
    if _canonical(item.grading) != _canonical(stored):
        changed.append("grading")
    if (item.reply_format or f"{example_prefix(item.code)}XXX") != old.reply_format:
        changed.append("reply_format")
    if item.late_policy != old.late_policy:
        changed.append("late_policy")
    return changed


#: what a draw that is not revealed yet locks in its homework (`check_draws`)
TIMES_LOCKED = lazy("Draw #{draw} of homework {code} is not revealed yet: its times cannot change "
                    "until the draw is revealed or aborted")
GRADING_LOCKED = lazy("Draw #{draw} of homework {code} is not revealed yet: how its replies are "
                      "graded and which count cannot change until the draw is revealed or aborted")
ZONE_LOCKED = lazy("Draw #{draw} of homework {code} is not revealed yet: the course's time zone "
                   "cannot change until the draw is revealed or aborted")


def check_draws(session: Session, course: Course, spec: CourseSpec, now: datetime | None = None) -> None:
    """A change that would rig a published draw is refused (abort the draw first, publicly).

    A draw publishes its homework's deadline and rule when it is committed, but its entries are
    collected from the homework's times when it freezes: moving `opens`/`due` (or the course's
    time zone, which places them, `likes_close` and the daily limit's days), or changing how the
    homework is graded (its grading settings, reply format, late policy) between commit and
    reveal would change who enters. A draw names its rule by position: changing, moving or
    removing a rule that has a draw (not aborted) would let the same prize be drawn again, or
    show a rule other than the one drawn."""
    now = now or utcnow()
    rows = session.execute(
        select(Draw.id, Draw.status, Draw.rule_index, Assignment.code)
        .join(Assignment, Assignment.id == Draw.assignment_id)
        .where(Assignment.course_id == course.id, Draw.status != "aborted")
        .order_by(Draw.id)
    ).all()
    if not rows:
        return
    stored = {a.code: a for a in course.assignments}
    zone = ZoneInfo(spec.timezone or get_settings().default_timezone)
    position = {item.code: (index, item) for index, item in enumerate(spec.assignments)}
    problems: list[Problem] = []
    running = [(draw_id, code) for draw_id, status, _, code in rows if status in OPEN_DRAWS]
    if running and zone.key != course.timezone:
        # the zone places more than opens/due: `likes_close` and the daily code limit's days are
        # read in it, so a new zone shifts them even when every time in the file has an offset
        problems.append(Problem("timezone", ZONE_LOCKED, {"draw": running[0][0], "code": running[0][1]}))
    seen: set[tuple[str, str]] = set()
    for draw_id, status, rule_index, code in rows:
        if code not in position or code not in stored:
            continue  # a course file without the homework leaves it as it is
        index, item = position[code]
        old = stored[code]
        where = f"assignments[{index}] ({code})"
        if status in OPEN_DRAWS:
            moved = [field for field, value, before in (("opens", item.opens, old.opens_at),
                                                        ("due", item.due, old.due_at))
                     if _aware(resolve_time(value, zone, now)) != _aware(before)]
            locked = [*((field, TIMES_LOCKED) for field in moved),
                      *((field, GRADING_LOCKED) for field in _graded_changes(item, old))]
            for field, message in locked:
                if (code, field) not in seen:
                    seen.add((code, field))
                    problems.append(Problem(f"{where}.{field}", message, {"draw": draw_id, "code": code}))
        if rule_index is None or (code, f"rewards[{rule_index}]") in seen:
            continue
        rules = list(old.reward_rules or [])
        drawn = rules[rule_index] if rule_index < len(rules) else None
        now_there = item.rewards[rule_index] if rule_index < len(item.rewards) else None
        if drawn is not None and now_there != drawn:
            seen.add((code, f"rewards[{rule_index}]"))
            problems.append(Problem(
                f"{where}.rewards[{rule_index}]",
                lazy("Reward rule {index} of homework {code} has draw #{draw}: it cannot be changed, "
                     "moved or removed (abort the draw first)"),
                {"draw": draw_id, "code": code, "index": rule_index}))
    if problems:
        raise CourseFileError(lazy("The course file is not valid"), problems)


def save(session: Session, course: Course, document: dict[str, Any], base_version: str, actor: User) -> Saved:
    """Store a changed document that was based on `base_version`; refuses when the course changed
    since (a concurrent edit), when the document is not valid, or when it changes nothing."""
    require_editor(session, actor, course)
    # two saves of one course take turns, so the second one sees the first one's version and is
    # refused instead of overwriting it; a draw's commit takes turns with them too (course_lock)
    lock_course(session, course.id)
    session.refresh(course)
    before = course_document(session, course)
    if version_of(before) != base_version:
        raise Conflict(
            "This course was changed by someone else since you opened the editor; "
            "your changes were not saved. Reload to see the current version."
        )
    if document.get("slug") != course.slug:
        raise Invalid("The slug of a course cannot be changed in the editor")
    if actor.role != Role.admin.value and document.get("instructors") != before.get("instructors"):
        raise Forbidden("Only admins may change who teaches a course")
    spec = check_course(document, get_settings().default_timezone)
    _check_instructors(session, document.get("instructors"))
    check_draws(session, course, spec)
    changes = diff(before, document)
    if not changes:
        raise Invalid("Nothing was changed")
    affected = _affected(session, course, before, document)
    load_course(session, spec, actor=actor, now=utcnow(), action="")
    session.refresh(course)
    after = course_document(session, course)
    _audit(session, course, changes, actor, base_version, version_of(after))
    return Saved(changes, version_of(after), affected)


def _audit(session: Session, course: Course, changes: list[Change], actor: User, old: str, new: str) -> None:
    """One entry per changed homework (`assignment.edit`) and one for the course's own fields."""
    by_subject: dict[str, list[Change]] = {}
    for change in changes:
        if change.path.startswith("assignments["):
            code = change.path[len("assignments[") :].split("]", 1)[0]
            subject = f"assignment:{course.slug}/{code}"
        else:
            subject = f"course:{course.slug}"
        by_subject.setdefault(subject, []).append(change)
    for subject, items in by_subject.items():
        action = "assignment.edit" if subject.startswith("assignment:") else "course.edit"
        record(
            session,
            actor,
            action,
            subject,
            {"changes": [c.to_json() for c in items], "version": {"before": old, "after": new}},
        )


def _affected(
    session: Session, course: Course, before: dict[str, Any], after: dict[str, Any]
) -> list[Affected]:
    old = {h["code"]: h for h in before["assignments"]}
    codes = [
        h["code"]
        for h in after.get("assignments", [])
        if h.get("code") in old and any(h.get(f) != old[h["code"]].get(f) for f in GRADING_FIELDS)
    ]
    if not codes:
        return []
    chosen = [a for a in course.assignments if a.code in codes]
    graded = graded_counts(session, chosen)
    return [Affected(a.code, graded.get(a.id, 0)) for a in chosen]


def graded_counts(session: Session, assignments: list[Assignment]) -> dict[int, int]:
    """assignment id -> how many of its replies carry a verdict (graded before a change)."""
    if not assignments:
        return {}
    rows = session.execute(
        select(Submission.assignment_id, func.count())
        .where(Submission.assignment_id.in_([a.id for a in assignments]), Submission.verdict.is_not(None))
        .group_by(Submission.assignment_id)
    ).all()
    return {int(assignment_id): int(count) for assignment_id, count in rows}
