"""Courses and homework: look-ups, and loading a course from its YAML file."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from app.config import get_settings
from app.errors import Invalid, NotFound
from app.models import Assignment, Course, CourseInstructor, Role, User, utcnow
from app.services.audit import record
from grader.catalog import KINDS, example_prefix, queue_of

RELATIVE_TIME = re.compile(r"^(?P<days>[+-]\d{1,4})d(?:@(?P<hh>[01]?\d|2[0-3]):(?P<mm>[0-5]\d))?$")
#: times further than this from today are typing mistakes (and overflow the date type)
MAX_DAYS = 3650
#: ASCII digits only (`\d` takes `٧-١` too, which no header can carry) and nothing after (`$`
#: let a final newline through)
CODE = re.compile(r"^[0-9]+(?:-[0-9]+)?\Z")


class AssignmentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    title: str = Field(min_length=1, max_length=200)
    body: str = ""
    reply_format: str = ""
    opens: str | datetime
    due: str | datetime
    late_policy: Literal["accept", "refuse"] = "accept"
    grading: dict[str, Any] = Field(default_factory=lambda: {"kind": "reply_format"})
    rewards: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE.match(value):
            raise ValueError("a homework code looks like 7 or 7-1")
        return value

    @field_validator("grading")
    @classmethod
    def _grading(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value.get("kind"), str):
            raise ValueError("grading needs a kind, e.g. {kind: reply_format}")
        if value["kind"] not in KINDS:
            raise ValueError(f"unknown grading kind {value['kind'][:40]!r}; known: "
                             + ", ".join(sorted(KINDS)))
        if "answers" in value and value["answers"] not in ("sealed_until_deadline", "open"):
            raise ValueError("answers is sealed_until_deadline or open")
        return value

    @field_validator("opens", "due")
    @classmethod
    def _time(cls, value: str | datetime) -> str | datetime:
        check_time(value)
        return value


class LikeRules(BaseModel):
    """Which accounts' likes count toward rewards (docs/integrity.md)."""

    model_config = ConfigDict(extra="forbid")

    registered_before_open: bool = True
    min_accepted_replies: int = Field(default=1, ge=0, le=1000)


class FairnessSpec(BaseModel):
    """Course-wide rules for fair prizes."""

    model_config = ConfigDict(extra="forbid")

    final_picks: int = Field(default=2, ge=1, le=20)
    likes: LikeRules = Field(default_factory=LikeRules)


class CourseSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]{1,62}$")
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    #: the course's zone for times written without one; by default the site's (CAMP_DEFAULT_TIMEZONE)
    timezone: str | None = None
    fairness: FairnessSpec = Field(default_factory=FairnessSpec)
    #: user names of the instructors who may edit this course (None: leave them as they are)
    instructors: list[str] | None = None
    assignments: list[AssignmentSpec]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {value[:60]!r} (e.g. Asia/Shanghai)") from None
        return value


def check_time(value: str | datetime) -> None:
    """Raise ValueError unless `value` is a time `resolve_time` can place (not too far away)."""
    if isinstance(value, datetime):
        parsed = value
    elif match := RELATIVE_TIME.match(value.strip()):
        if abs(int(match["days"])) > MAX_DAYS:
            raise ValueError(f"at most {MAX_DAYS} days from today")
        return
    else:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"Cannot read the time {value[:40]!r}: write 2026-12-01T20:00, -7d or "
                             "+14d@12:00 (hours 0-23)") from None
    if not 1970 <= parsed.year <= 2200:
        raise ValueError("the year must be between 1970 and 2200")


def resolve_time(value: str | datetime, zone: ZoneInfo, now: datetime) -> datetime:
    """An aware datetime, or `-7d` / `+14d@12:00`: days from today in the course's zone."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    match = RELATIVE_TIME.match(value.strip())
    if match is None:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid("Cannot read the time {value}", value=value) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    local_day = now.astimezone(zone).date() + timedelta(days=int(match["days"]))
    at = time(int(match["hh"] or 0), int(match["mm"] or 0))
    return datetime.combine(local_day, at, tzinfo=zone)


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML without aliases (`*name` made a 541-byte file into a 10 MB config) and at most
    `MAX_DEPTH` levels deep; both refused with the line and column."""

    MAX_DEPTH = 20

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not accepted in a course file",
                                              self.peek_event().start_mark)
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > self.MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {self.MAX_DEPTH} levels",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str) -> Any:
    """Parse a course file's text; raises yaml.YAMLError (with a mark) for what it refuses."""
    return yaml.load(text, Loader=_StrictLoader)


def parse_course_file(path: Path) -> CourseSpec:
    """A course file from disk, through the one validation (app/services/course_check.py)."""
    from app.services.course_check import CourseFileError, check_course

    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise Invalid("Cannot read the course file: {error}", error=str(exc)) from None
    try:
        return check_course(raw, get_settings().default_timezone)
    except CourseFileError as exc:
        problems = "\n".join(f"  {p.where}: {p.message}" for p in exc.problems)
        raise Invalid("The course file is not valid: {error}", error="\n" + problems) from None


def load_course(session: Session, spec: CourseSpec, actor: User | None = None,
                now: datetime | None = None, action: str = "course.load") -> Course:
    """Create or update a course and its homework by slug and code. Floors are never touched.
    `action` names the audit entry (None: the caller writes its own)."""
    now = now or utcnow()
    timezone = spec.timezone or get_settings().default_timezone
    zone = ZoneInfo(timezone)
    course = session.scalar(select(Course).where(Course.slug == spec.slug))
    if course is None:
        course = Course(slug=spec.slug, title=spec.title)
        session.add(course)
    course.title, course.description, course.timezone = spec.title, spec.description, timezone
    course.settings = spec.fairness.model_dump()
    session.flush()
    rows = session.scalars(select(Assignment).where(Assignment.course_id == course.id))
    existing = {a.code: a for a in rows}
    for position, item in enumerate(spec.assignments):
        assignment = existing.get(item.code) or Assignment(course_id=course.id, code=item.code)
        opens, due = resolve_time(item.opens, zone, now), resolve_time(item.due, zone, now)
        if due <= opens:
            raise Invalid("Homework {code} is due before it opens", code=item.code)
        assignment.position = position
        assignment.title, assignment.body = item.title, item.body
        assignment.reply_format = item.reply_format or f"{example_prefix(item.code)}XXX"
        assignment.opens_at, assignment.due_at, assignment.late_policy = opens, due, item.late_policy
        assignment.grading_kind = item.grading["kind"]
        assignment.grading_config = {k: v for k, v in item.grading.items() if k != "kind"}
        # the queue follows the grading kind (grader/catalog.py), never the course file
        assignment.queue, assignment.reward_rules = queue_of(assignment.grading_kind), item.rewards
        session.add(assignment)
    session.flush()
    if spec.instructors is not None:
        set_instructors(session, course, spec.instructors)
    if action:
        record(session, actor, action, f"course:{course.slug}",
               {"assignments": [a.code for a in spec.assignments]})
    return course


def set_instructors(session: Session, course: Course, names: list[str]) -> None:
    """Exactly these instructors may edit the course (admins always may)."""
    users = {u.name: u for u in session.scalars(select(User).where(User.name.in_(names)))}
    for index, name in enumerate(names):
        user = users.get(name)
        if user is None:
            raise Invalid("instructors[{index}]: no user named {name}", index=index, name=name)
        if user.role != Role.instructor.value and user.role != Role.admin.value:
            raise Invalid("instructors[{index}]: {name} is not an instructor", index=index, name=name)
    wanted = {users[n].id for n in names}
    session.execute(delete(CourseInstructor).where(CourseInstructor.course_id == course.id,
                                                   CourseInstructor.user_id.not_in(wanted)))
    have = set(session.scalars(select(CourseInstructor.user_id)
                               .where(CourseInstructor.course_id == course.id)))
    session.add_all(CourseInstructor(course_id=course.id, user_id=uid) for uid in sorted(wanted - have))
    session.flush()


def instructor_names(session: Session, course: Course) -> list[str]:
    return list(session.scalars(select(User.name).join(CourseInstructor, CourseInstructor.user_id == User.id)
                                .where(CourseInstructor.course_id == course.id).order_by(User.name)))


def get_course(session: Session, slug: str) -> Course:
    course = session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise NotFound("No course {slug}", slug=slug)
    return course


def get_assignment(session: Session, slug: str, code: str) -> Assignment:
    """The homework with its course, in one statement."""
    assignment = session.scalar(
        select(Assignment).join(Assignment.course).options(contains_eager(Assignment.course))
        .where(Course.slug == slug, Assignment.code == code)
    )
    if assignment is None:
        get_course(session, slug)  # "no such course" rather than "no such homework" when it is that
        raise NotFound("No homework {code} in this course", code=code)
    return assignment


def homework_for_reply(session: Session, slug: str, code: str) -> Assignment:
    """The homework a reply is posted to, with its course and the course's whole homework list
    (a reply may name other homework), all in one statement."""
    rows = list(session.scalars(
        select(Assignment).join(Assignment.course).options(contains_eager(Assignment.course))
        .where(Course.slug == slug).order_by(Assignment.position, Assignment.id)
    ))
    found = next((a for a in rows if a.code == code), None)
    if found is None:
        return get_assignment(session, slug, code)  # the right "not found"
    set_committed_value(found.course, "assignments", rows)
    return found


def list_courses(session: Session) -> list[Course]:
    return list(session.scalars(select(Course).order_by(Course.id)))
