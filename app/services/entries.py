"""Which replies a reward rule counts (its *entries*), and why every other reply is left out.

A homework's reward rule is stored as data (``rewards:`` in the course file)::

    {kind: fixed_ranks, ranks: "1-3,6,66+100n<=666", text: ..., prize: ...}
    {kind: lottery, k: 5, eligibility: correct_only}          # or correct_only: true
    {kind: top_score, n: 10, by: score}                         # by: review = staff review score
    {kind: top_likes, n: 5, min_score: 0.5}

`k`/`n`/`count` are the same number. Eligibility, checked in this order for each reply in
floor order (the order the database assigned, never client clocks): not hidden, posted by a
student (staff excluded), not after the deadline, graded (not queued, failed or rejected),
format valid (verdict not ``format_error``), then ``correct_only`` (verdict ``accepted``) and
``min_score`` (grader score at least that). One entry per student: their first valid reply;
for ``top_score`` their best one (or last one, per the homework's ``leaderboard`` setting),
valued like the leaderboard (public value before the deadline, private after, else the grader
score) or, with ``by: review``, by ``submissions.review_score``. ``top_likes`` counts the likes
standing at the freeze, replayed from the like history; likes of one's own reply do not count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, func, select, true
from sqlalchemy.orm import Session, object_session

from app.draws import Entry, Rule, canonical_score, rule_from_json
from app.draws.errors import DrawError
from app.i18n import lazy
from app.models import Assignment, LikeEvent, Role, Status, Submission, User
from app.models import Exclusion as StaffExclusion
from app.services.final_picks import counted, final_limit, has_split
from app.services.leaderboard import (
    MEASURED_VERDICTS,
    PRIVATE_KEYS,
    PUBLIC_KEYS,
    board_settings,
    detail_number,
    phase_at,
)
from app.services.like_review import excluded_likers

By = Literal["score", "review"]

#: reason code -> English msgid (translated where shown); params fill the placeholders
REASONS: dict[str, str] = {
    "hidden": lazy("Hidden by the staff"),
    "staff": lazy("Posted by a staff member"),
    "late": lazy("Posted after the deadline"),
    "pending": lazy("Not graded yet"),
    "grading_failed": lazy("Grading failed (a platform error); rejudge it to count it"),
    "rejected": lazy("Rejected before grading"),
    "format_error": lazy("Does not follow the reply format"),
    "not_correct": lazy("Not a correct answer"),
    "below_min_score": lazy("Score {score} is below the minimum {minimum}"),
    "not_measured": lazy("Not a measured result (verdict {verdict})"),
    "no_score": lazy("No score"),
    "not_reviewed": lazy("Not reviewed yet"),
    "duplicate": lazy("This student's entry is an earlier reply, #{floor}"),
    "not_chosen": lazy("This student's entry is another submission, #{floor}"),
    "prize_kept": lazy("Won draw {draw_id} and keeps the prize"),
    "withdrew": lazy("Won draw {draw_id} and gave up the prize: {reason}"),
    "not_final": lazy("Not one of this student's final picks"),
    "copied": lazy("The staff confirmed it copies an earlier reply: {note}"),
}


@dataclass(frozen=True)
class Options:
    """How entries are chosen, beyond the public rule. `finals`, `likers_registered_before_open`
    and `likers_min_accepted` come from the course's fairness settings (docs/integrity.md);
    they are written to the record only when set, so older records read back unchanged."""

    by: By = "score"
    correct_only: bool = False
    min_score: float | None = None
    finals: int | None = None
    likers_registered_before_open: bool = False
    likers_min_accepted: int = 0
    #: accounts whose likes the staff excluded: (user id, name, reason)
    excluded_likers: tuple[tuple[int, str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"by": self.by, "correct_only": self.correct_only, "min_score": self.min_score}
        if self.finals is not None:
            out["finals"] = self.finals
        if self.likers_registered_before_open or self.likers_min_accepted:
            out["likers_registered_before_open"] = self.likers_registered_before_open
            out["likers_min_accepted"] = self.likers_min_accepted
        if self.excluded_likers:
            out["excluded_likers"] = [{"id": i, "name": n, "reason": r} for i, n, r in self.excluded_likers]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Options:
        data = data or {}
        by: By = "review" if data.get("by") == "review" else "score"
        min_score = data.get("min_score")
        finals = data.get("finals")
        return cls(by, data.get("correct_only") is True,
                   None if min_score is None else float(min_score),
                   finals if isinstance(finals, int) else None,
                   data.get("likers_registered_before_open") is True,
                   int(data.get("likers_min_accepted") or 0),
                   tuple((int(x["id"]), str(x["name"]), str(x["reason"]))
                         for x in data.get("excluded_likers") or ()))


def with_course_rules(spec: RewardSpec, assignment: Assignment) -> RewardSpec:
    """The course's fairness settings added to a homework's reward rule."""
    options = spec.options
    if spec.rule.kind == "top_score" and has_split(assignment):
        options = replace(options, finals=final_limit(assignment.course))
    if spec.rule.kind == "top_likes":
        likes = (assignment.course.settings or {}).get("likes") or {}
        options = replace(options,
                          likers_registered_before_open=likes.get("registered_before_open", True) is True,
                          likers_min_accepted=int(likes.get("min_accepted_replies", 1)))
        session = object_session(assignment)
        if session is not None:
            options = replace(options, excluded_likers=tuple(excluded_likers(session, assignment)))
    return replace(spec, options=options)


@dataclass(frozen=True)
class RewardSpec:
    rule: Rule
    options: Options
    title: str = ""
    prize: str = ""


def _invalid(detail: str) -> DrawError:
    return DrawError("rule.invalid", detail=detail)


def parse_reward(data: Mapping[str, Any]) -> RewardSpec:
    """A reward rule as the course file writes it (or an explicit one from the API)."""
    if not isinstance(data, Mapping):
        raise _invalid("a rule is a JSON object")
    kind = data.get("kind")
    public: dict[str, Any] = {"kind": kind}
    if kind == "fixed_ranks":
        public["ranks"] = data.get("ranks")
    else:
        counts = [data[k] for k in ("count", "k", "n") if k in data]
        public["count"] = counts[0] if counts else None
    rule = rule_from_json(public)
    by = data.get("by", "score")
    if by not in ("score", "review"):
        raise _invalid("'by' is score or review")
    if by == "review" and kind != "top_score":
        raise _invalid("'by: review' goes with top_score")
    min_score = data.get("min_score")
    if min_score is not None and (isinstance(min_score, bool) or not isinstance(min_score, int | float)):
        raise _invalid("min_score is a number")
    correct = data.get("correct_only") is True or data.get("eligibility") == "correct_only"
    for name in ("text", "prize"):
        if not isinstance(data.get(name, ""), str):
            raise _invalid(f"{name} is a text")
    options = Options(by, correct, None if min_score is None else float(min_score))
    return RewardSpec(rule, options, data.get("text", ""), data.get("prize", ""))


def eligibility_text(rule: Rule, options: Options) -> str:
    """The bilingual eligibility sentence published in the draw's record."""
    if rule.kind == "top_score":
        value_zh, value_en = ("助教评分", "staff review score") if options.by == "review" else (
            "评测分数", "grader score")
        zh = f"每位同学在作业截止前得分最高的一次提交（按{value_zh}；同分先提交者优先）"
        en = f"each student's best submission before the deadline (by {value_en}; ties: the earlier)"
    else:
        zh = "每位同学在作业截止前的第一条有效回复"
        en = "each student's first valid reply before the deadline"
    zh += "；格式正确，不含助教/管理员、被隐藏和逾期的回复"
    en += "; format valid; staff, hidden and late replies excluded"
    if options.correct_only:
        zh, en = zh + "；仅限正确答案", en + "; correct answers only"
    if options.min_score is not None:
        zh += f"；评测分数不低于 {options.min_score:g}"
        en += f"; grader score at least {options.min_score:g}"
    if rule.kind == "top_score" and options.finals:
        zh += (f"；截止后只比较每位同学标记的最终提交（最多 {options.finals} 个，"
               f"未标记则取公开分最高的 {options.finals} 个）")
        en += (f"; after the deadline only each student's final picks count (up to {options.finals};"
               f" unmarked: the {options.finals} best public scores)")
    if rule.kind == "top_likes":
        zh += "；点赞数按冻结时刻统计，不含自己点的赞"
        en += "; likes counted at the freeze, own likes excluded"
        if options.likers_registered_before_open:
            zh += "；只计作业开放前注册的账号的赞"
            en += "; only likes of accounts registered before the homework opened"
        if options.likers_min_accepted:
            zh += f"；点赞者须在本课程至少有 {options.likers_min_accepted} 条通过的回复"
            en += f"; likers need at least {options.likers_min_accepted} accepted replies in the course"
        for _, name, reason in options.excluded_likers:
            zh += f"；助教排除了 {name} 的赞（{reason}）"
            en += f"; the staff excluded the likes of {name} ({reason})"
    return f"{zh} / {en}"


@dataclass(frozen=True)
class Exclusion:
    submission_id: int
    floor: int
    name: str
    reason: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"submission_id": self.submission_id, "floor": self.floor, "name": self.name,
                "reason": self.reason, "params": self.params}


@dataclass(frozen=True)
class EntrySet:
    entries: list[Entry]
    excluded: list[Exclusion]
    pending: int


def _reason(row: Any, rule: Rule, options: Options, due: datetime) -> tuple[str, dict[str, Any]] | None:
    if row.hidden:
        return "hidden", {}
    if row.role != Role.student.value:
        return "staff", {}
    if row.created_at > due:
        return "late", {}
    status_reasons = {Status.queued.value: "pending", Status.running.value: "pending",
                      Status.failed.value: "grading_failed", Status.rejected.value: "rejected"}
    if row.status in status_reasons:
        return status_reasons[row.status], {}
    if row.verdict == "format_error":
        return "format_error", {}
    if options.correct_only and row.verdict != "accepted":
        return "not_correct", {}
    if options.min_score is not None and (row.score is None or row.score < options.min_score):
        return "below_min_score", {"score": row.score, "minimum": options.min_score}
    if rule.kind == "top_score":
        if not row.final:
            return "not_final", {}
        if options.by == "review":
            return ("not_reviewed", {}) if row.review_score is None else None
        if row.verdict not in MEASURED_VERDICTS:
            return "not_measured", {"verdict": row.verdict}
        if row.value is None:
            return "no_score", {}
    return None


def _rows(session: Session, assignment: Assignment, at: datetime, phase_keys: tuple[str, ...]) -> list[Any]:
    value = func.coalesce(detail_number(session, phase_keys), Submission.score)
    final: ColumnElement[bool] = true()
    if phase_keys == PRIVATE_KEYS and has_split(assignment):
        final = counted(session, assignment, detail_number(session, PUBLIC_KEYS))
    query = (
        select(
            Submission.id, Submission.floor, Submission.author_id, Submission.hidden,
            Submission.created_at, Submission.edited_at, Submission.status, Submission.verdict,
            Submission.score, Submission.review_score, value.label("value"), User.name, User.role,
            case((final, True), else_=False).label("final"),
        )
        .join(User, User.id == Submission.author_id)
        .where(Submission.assignment_id == assignment.id, Submission.created_at <= at)
        .order_by(Submission.floor)
    )
    return list(session.execute(query))


def likes_at(session: Session, submission_ids: list[int], at: datetime,
             options: Options | None = None, assignment: Assignment | None = None) -> dict[int, int]:
    """Likes standing at `at`: the last event of each (reply, account) pair, own likes excluded;
    for a reward (`options`, `assignment`) only likes of accounts that meet the course's rules
    and that the staff did not exclude."""
    if not submission_ids:
        return {}
    last = (
        select(func.max(LikeEvent.id))
        .where(LikeEvent.submission_id.in_(submission_ids), LikeEvent.at <= at)
        .group_by(LikeEvent.submission_id, LikeEvent.user_id)
    )
    query = (
        select(LikeEvent.submission_id, func.count())
        .join(Submission, Submission.id == LikeEvent.submission_id)
        .where(and_(LikeEvent.id.in_(last), LikeEvent.liked.is_(True),
                    LikeEvent.user_id != Submission.author_id))
        .group_by(LikeEvent.submission_id)
    )
    if options is not None and assignment is not None:
        query = query.where(*honest_likers(assignment, options))
    return {sid: count for sid, count in session.execute(query)}


def honest_likers(assignment: Assignment, options: Options) -> list[ColumnElement[bool]]:
    """Conditions on `LikeEvent.user_id` for a like to count toward a reward."""
    conditions: list[ColumnElement[bool]] = [
        LikeEvent.user_id.not_in([uid for uid, _, _ in options.excluded_likers])]
    if options.likers_registered_before_open:
        conditions.append(LikeEvent.user_id.in_(
            select(User.id).where(User.created_at < assignment.opens_at)))
    if options.likers_min_accepted:
        accepted = (
            select(Submission.author_id)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(Assignment.course_id == assignment.course_id, Submission.verdict == "accepted",
                   Submission.hidden.is_(False))
            .group_by(Submission.author_id)
            .having(func.count() >= options.likers_min_accepted)
        )
        conditions.append(LikeEvent.user_id.in_(accepted))
    return conditions


def staff_exclusions(session: Session, assignment: Assignment) -> dict[int, tuple[str, str]]:
    """Replies the staff excluded from this homework's draws: id -> (reason code, note)."""
    rows = session.execute(select(StaffExclusion.target_id, StaffExclusion.reason, StaffExclusion.note).where(
        StaffExclusion.assignment_id == assignment.id, StaffExclusion.kind == "submission"))
    return {target: (reason, note) for target, reason, note in rows}


def _pick(rows: list[Any], options: Options, mode: str) -> Any:
    if mode == "last":
        return max(rows, key=lambda r: r.floor)
    if options.by == "review":
        return min(rows, key=lambda r: (-r.review_score, r.floor))
    return min(rows, key=lambda r: (-r.value, r.floor))


def collect_entries(session: Session, assignment: Assignment, rule: Rule, options: Options,
                    at: datetime) -> EntrySet:
    """The entries of `rule` among the replies that exist at `at`, and every exclusion."""
    phase = phase_at(assignment, at)
    rows = _rows(session, assignment, at, PUBLIC_KEYS if phase == "public" else PRIVATE_KEYS)
    order = race_order(rows) if rule.kind == "fixed_ranks" else {r.id: i for i, r in enumerate(rows)}
    rows.sort(key=lambda r: order[r.id])
    excluded: list[Exclusion] = []
    valid: dict[int, list[Any]] = defaultdict(list)
    pending = 0
    staff_out = staff_exclusions(session, assignment)
    for row in rows:
        found = _reason(row, rule, options, assignment.due_at)
        if found is None and row.id in staff_out:
            reason, note = staff_out[row.id]
            found = reason, {"note": note}
        if found is not None:
            pending += found[0] == "pending"
            excluded.append(Exclusion(row.id, row.floor, row.name, found[0], found[1]))
            continue
        valid[row.author_id].append(row)
    mode = board_settings(assignment).mode if rule.kind == "top_score" else "first"
    chosen = []
    for candidates in valid.values():
        pick = candidates[0] if mode == "first" else _pick(candidates, options, mode)
        chosen.append(pick)
        reason = "duplicate" if mode == "first" else "not_chosen"
        excluded.extend(Exclusion(r.id, r.floor, r.name, reason, {"floor": pick.floor})
                        for r in candidates if r is not pick)
    chosen.sort(key=lambda r: order[r.id])
    excluded.sort(key=lambda e: e.floor)
    ids = [r.id for r in chosen]
    likes = likes_at(session, ids, at, options, assignment) if rule.kind == "top_likes" else {}
    entries = [_entry(row, rule, options, likes) for row in chosen]
    return EntrySet(entries, excluded, pending)


def race_order(rows: Iterable[Any]) -> dict[int, int]:
    """Fixed ranks are a race: a reply edited after posting runs from its last edit (the
    similarity review orders its pairs the same way: the text written first keeps credit).

    Without this a student held an early floor with a placeholder (not in the reply format, so
    not an entry) and edited it into an answer later, taking a place among the first finishers
    they never were. Unedited replies keep floor order exactly (their times are made monotone
    in floor order, so clocks never reorder them); an edited one goes after every reply posted
    before its edit."""
    keys, latest = {}, None
    for row in rows:  # in floor order
        latest = row.created_at if latest is None or row.created_at > latest else latest
        keys[row.id] = (row.edited_at if row.edited_at is not None and row.edited_at > latest else latest,
                        row.floor)
    return {row_id: i for i, row_id in enumerate(sorted(keys, key=lambda k: keys[k]))}


def _entry(row: Any, rule: Rule, options: Options, likes: dict[int, int]) -> Entry:
    score = None
    if rule.kind == "top_score":
        raw = row.review_score if options.by == "review" else row.value
        score = Decimal(canonical_score(float(raw)))
    count = likes.get(row.id, 0) if rule.kind == "top_likes" else None
    return Entry(row.id, row.floor, row.name, score, count)
