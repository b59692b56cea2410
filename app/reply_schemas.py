"""JSON shapes of a routed reply (its preview and its result), quotas and course posts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from app.i18n import lazy, translate
from app.models import CoursePost, Submission
from app.paging import floor_url
from app.services.limits import CodeQuota
from app.services.replies import Plan, PlannedPart, Posted, part_state
from app.services.reply_routing import FILED_UNDER_PARENT

STATE_LABELS = {
    "open": lazy("Open"),
    "late": lazy("After the deadline: accepted and marked late"),
    "closed": lazy("Closed: late replies are not accepted"),
    "not_open": lazy("Not open yet"),
}
FLAG_NOTE = lazy("This course has no homework {written}; this part goes to homework {code}")
UNKNOWN_THREAD = lazy("This course has no homework {written}; that text stays in the course thread. "
                      "Homework codes: {codes}")
UNKNOWN_HOMEWORK = lazy("This course has no homework {written}; that text stays with this reply. "
                        "Homework codes: {codes}")


class QuotaOut(BaseModel):
    limit: int | None
    used: int
    remaining: int | None
    resets_at: datetime
    timezone: str

    @classmethod
    def of(cls, quota: CodeQuota) -> QuotaOut:
        return cls(limit=quota.limit, used=quota.used, remaining=quota.remaining,
                   resets_at=quota.resets_at, timezone=quota.timezone)


class PartOut(BaseModel):
    assignment: str
    title: str
    submission_id: int | None = None
    floor: int | None = None
    url: str | None = None
    flag: str | None
    written: list[str]
    note: str | None
    state: str
    state_label: str
    files: list[str]
    excerpt: str
    quota: QuotaOut | None = None


class ReplyOut(BaseModel):
    post_id: int | None = None
    parts: list[PartOut]
    unrouted: str
    unknown: list[str]
    notices: list[str]
    codes: list[str]


def _note(planned: PlannedPart, locale: str) -> str | None:
    part = planned.part
    if part.flag != FILED_UNDER_PARENT:
        return None
    written = next((w for w in part.written if w != part.code), part.code)
    return translate(locale, FLAG_NOTE, written=written, code=part.code)


def part_out(planned: PlannedPart, locale: str, now: datetime, quota: CodeQuota | None = None,
             submission: Submission | None = None) -> PartOut:
    a = planned.assignment
    state = part_state(a, now)
    out = PartOut(
        assignment=a.code, title=a.title, flag=planned.part.flag, written=list(planned.part.written),
        note=_note(planned, locale), state=state, state_label=translate(locale, STATE_LABELS[state]),
        files=[f.name for f in planned.files], excerpt=planned.part.text[:160],
        quota=QuotaOut.of(quota) if quota and quota.limit is not None else None,
    )
    if submission is not None:
        out.submission_id, out.floor = submission.id, submission.floor
        out.url = floor_url(a.course.slug, a.code, submission.floor)
    return out


def reply_out(plan: Plan, locale: str, now: datetime, quotas: dict[str, CodeQuota] | None = None,
              posted: Posted | None = None, on_homework: bool = False) -> ReplyOut:
    quotas = quotas or {}
    subs = posted.submissions if posted else {}
    parts = [part_out(p, locale, now, quotas.get(p.assignment.code), subs.get(p.assignment.code))
             for p in plan.parts]
    template = UNKNOWN_HOMEWORK if on_homework else UNKNOWN_THREAD
    notices = [translate(locale, template, written=code, codes=", ".join(plan.codes))
               for code in plan.routing.unknown]
    return ReplyOut(post_id=posted.post.id if posted and posted.post else None, parts=parts,
                    unrouted=plan.routing.unrouted, unknown=list(plan.routing.unknown),
                    notices=notices, codes=plan.codes)


class PostPartOut(BaseModel):
    assignment: str
    submission_id: int
    floor: int
    hidden: bool


class CoursePostOut(BaseModel):
    id: int
    author: str
    text: str
    created_at: datetime
    hidden: bool
    parts: list[PostPartOut]

    @classmethod
    def of(cls, post: CoursePost, parts: list[Submission], show_hidden: bool) -> CoursePostOut:
        visible = not post.hidden or show_hidden
        return cls(id=post.id, author=post.author.name, text=post.text if visible else "",
                   created_at=post.created_at, hidden=post.hidden,
                   parts=[PostPartOut(assignment=s.assignment.code, submission_id=s.id, floor=s.floor,
                                      hidden=s.hidden) for s in parts])
