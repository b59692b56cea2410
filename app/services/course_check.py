"""One validation of a course definition, for every way one arrives: `camp course load`, the admin's
YAML upload, YAML export (a round trip must validate) and the course editor.

It reads the plain data (a YAML mapping, or the editor's form turned into the same mapping) and
collects every problem it can find at once, each naming its field path the way the course file
spells it (`assignments[2] (3-1).grading.kind`) with a message in the reader's language:

* unknown keys anywhere, with the closest known key suggested (`reply_fromat → reply_format?`);
* unknown grading kinds and reward rule kinds, with the closest known one suggested;
* a grading kind's settings (`grader/formats.py`) and the homework settings the app reads
  (`answers`, `likes_close`, `daily_code_limit`, `leaderboard` …);
* times that cannot be read, unknown time zones, a deadline before the opening;
* reward rules of the four kinds with their settings (the draws' own parser, `parse_reward`);
* **the homework's own stated format**: the `reply_format` and every reply example the homework's
  text gives (`回帖形式：作业3-1(1)XX(2)XX`) are filled in (`XX` → an answer) and run through the
  grader's format check; a format that no reply written as told could pass is refused.

Only when nothing is wrong is the data turned into the typed `CourseSpec` that `load_course` takes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from app.draws import DrawError
from app.i18n import LazyText, lazy, translate
from app.models import utcnow
from app.services.courses import CODE, MAX_DAYS, RELATIVE_TIME, CourseSpec, resolve_time
from app.services.entries import parse_reward
from grader.catalog import KINDS, example_prefix
from grader.formats import SETTINGS, fill_placeholders, reply_problem, settings_problems, stated_examples

COURSE_KEYS = ("slug", "title", "description", "timezone", "fairness", "instructors", "assignments")
HOMEWORK_KEYS = ("code", "title", "body", "reply_format", "opens", "due", "late_policy", "grading", "rewards")
FAIRNESS_KEYS = ("final_picks", "likes")
LIKES_KEYS = ("registered_before_open", "min_accepted_replies")
REWARD_KINDS = ("fixed_ranks", "lottery", "top_score", "top_likes")
REWARD_KEYS = (
    "kind",
    "ranks",
    "count",
    "k",
    "n",
    "text",
    "prize",
    "eligibility",
    "correct_only",
    "by",
    "min_score",
)
#: homework settings the app reads from `grading:` (app/services/homework_settings.py, visibility.py,
#: leaderboard.py), whatever the grading kind
APP_SETTINGS = (
    "review",
    "answers",
    "likes_close",
    "daily_code_limit",
    "leaderboard",
    "leaderboard_hidden_until_due",
)
MAX_DAILY_CODE_LIMIT = 1000
SLUG = re.compile(r"^[a-z0-9][a-z0-9\-]{1,62}$")


@dataclass(frozen=True)
class Problem:
    """One problem: where (a field path), an English msgid with params, or fixed texts per language."""

    where: str
    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    fixed: Mapping[str, str] | None = None

    def text(self, locale: str) -> str:
        if self.fixed is not None:
            return self.fixed.get(locale) or self.fixed["en"]
        return _translate_nested(locale, self.msgid, self.params)

    @property
    def message(self) -> str:
        """In English (the command line, logs)."""
        return self.text("en")


class CourseFileError(Exception):
    """The definition cannot be loaded: a translated summary and the located problems."""

    def __init__(self, summary: LazyText, problems: list[Problem] | None = None) -> None:
        super().__init__(summary)
        self.summary = summary
        self.problems = problems or []

    def english(self) -> str:
        lines = [translate("en", self.summary)] + [f"{p.where}: {p.message}" for p in self.problems]
        return "\n".join(lines)


def suggestion(value: object, known: tuple[str, ...] | list[str]) -> str:
    """` (did you mean reply_format?)`-style hint, or ``."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value.lower(), known, n=1, cutoff=0.6)
    return close[0] if close else ""


class _Checker:
    def __init__(self, default_zone: str, now: datetime) -> None:
        self.problems: list[Problem] = []
        self.default_zone, self.now = default_zone, now

    def add(self, where: str, msgid: str, **params: Any) -> None:
        self.problems.append(Problem(where, msgid, params))

    def keys(self, where: str, data: Mapping[str, Any], known: tuple[str, ...]) -> None:
        for key in data:
            if key in known:
                continue
            close = suggestion(key, known)
            path = f"{where}.{key}" if where else str(key)
            if close:
                self.add(
                    path, lazy("Unknown key {key} (did you mean {close}?)"), key=str(key)[:40], close=close
                )
            else:
                self.add(
                    path,
                    lazy("Unknown key {key}; known keys: {known}"),
                    key=str(key)[:40],
                    known=", ".join(known),
                )

    def text(self, where: str, value: Any, *, required: bool = False, limit: int = 200) -> None:
        if value is None and not required:
            return
        if not isinstance(value, str):
            self.add(where, lazy("Must be a text"))
        elif required and not value.strip():
            self.add(where, lazy("Must not be empty"))
        elif len(value) > limit:
            self.add(where, lazy("At most {limit} characters"), limit=limit)

    # --- the course -------------------------------------------------------------------------

    def course(self, raw: Mapping[str, Any]) -> None:
        self.keys("", raw, COURSE_KEYS)
        slug = raw.get("slug")
        if not isinstance(slug, str) or not SLUG.match(slug):
            self.add("slug", lazy("A slug is 2 to 63 lowercase letters, digits and dashes, e.g. dl-bootcamp"))
        self.text("title", raw.get("title"), required=True)
        self.text("description", raw.get("description"), limit=20_000)
        zone = raw.get("timezone")
        if zone is not None and not _zone_ok(zone):
            self.add("timezone", lazy("Unknown time zone {zone} (e.g. Asia/Shanghai)"), zone=str(zone)[:60])
            zone = None
        self.zone = ZoneInfo(zone or self.default_zone)
        self.fairness(raw.get("fairness"))
        self.instructors(raw.get("instructors"))
        homework = raw.get("assignments")
        if not isinstance(homework, list):
            self.add("assignments", lazy("A list of homework is required"))
            return
        codes: set[str] = set()
        for index, item in enumerate(homework):
            where = f"assignments[{index}]"
            if not isinstance(item, Mapping):
                self.add(where, lazy("Each homework is a mapping with code, title, opens and due"))
                continue
            code = item.get("code")
            if isinstance(code, str | int) and not isinstance(code, bool):
                where += f" ({code})"
                if str(code) in codes:
                    self.add(f"{where}.code", lazy("Homework {code} appears twice"), code=str(code))
                codes.add(str(code))
            self.homework(where, item)

    def fairness(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, Mapping):
            self.add("fairness", lazy("Must be a mapping"))
            return
        self.keys("fairness", value, FAIRNESS_KEYS)
        self.integer("fairness.final_picks", value.get("final_picks"), 1, 20)
        likes = value.get("likes")
        if likes is None:
            return
        if not isinstance(likes, Mapping):
            self.add("fairness.likes", lazy("Must be a mapping"))
            return
        self.keys("fairness.likes", likes, LIKES_KEYS)
        self.boolean("fairness.likes.registered_before_open", likes.get("registered_before_open"))
        self.integer("fairness.likes.min_accepted_replies", likes.get("min_accepted_replies"), 0, 1000)

    def instructors(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add("instructors", lazy("A list of user names"))

    def integer(self, where: str, value: Any, low: int, high: int) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(where, lazy("Must be a whole number from {low} to {high}"), low=low, high=high)

    def boolean(self, where: str, value: Any) -> None:
        if value is not None and not isinstance(value, bool):
            self.add(where, lazy("Must be true or false"))

    # --- one homework -----------------------------------------------------------------------

    def homework(self, where: str, item: Mapping[str, Any]) -> None:
        self.keys(where, item, HOMEWORK_KEYS)
        code = item.get("code")
        if not isinstance(code, str) or not CODE.match(code):
            self.add(f"{where}.code", lazy("A homework code looks like 7 or 7-1"))
            code = None
        self.text(f"{where}.title", item.get("title"), required=True)
        self.text(f"{where}.body", item.get("body"), limit=50_000)
        self.text(f"{where}.reply_format", item.get("reply_format"))
        if item.get("late_policy", "accept") not in ("accept", "refuse"):
            self.add(f"{where}.late_policy", lazy("Must be one of: {choices}"), choices="accept, refuse")
        opens = self.moment(f"{where}.opens", item.get("opens"))
        due = self.moment(f"{where}.due", item.get("due"))
        if opens is not None and due is not None and due <= opens:
            self.add(
                f"{where}.due",
                lazy("Homework {code} is due before it opens ({due} ≤ {opens})"),
                code=str(code),
                due=_local(due, self.zone),
                opens=_local(opens, self.zone),
            )
        kind = self.grading(f"{where}.grading", item.get("grading", {"kind": "reply_format"}))
        self.rewards(f"{where}.rewards", item.get("rewards", []))
        if code is not None and kind is not None:
            self.stated_format(where, code, kind, item)

    def moment(self, where: str, value: Any) -> datetime | None:
        if value is None:
            self.add(where, lazy("A time is required: 2026-12-01T20:00, -7d or +14d@12:00"))
            return None
        if not isinstance(value, str | datetime):
            self.add(
                where,
                lazy("Cannot read the time {value}: write 2026-12-01T20:00, -7d or +14d@12:00 (hours 0-23)"),
                value=str(value)[:40],
            )
            return None
        if isinstance(value, str) and (match := RELATIVE_TIME.match(value.strip())):
            if abs(int(match["days"])) > MAX_DAYS:
                self.add(where, lazy("At most {days} days from today"), days=MAX_DAYS)
                return None
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                self.add(
                    where,
                    lazy(
                        "Cannot read the time {value}: write 2026-12-01T20:00, -7d or +14d@12:00 (hours 0-23)"
                    ),
                    value=value[:40],
                )
                return None
            if not 1970 <= parsed.year <= 2200:
                self.add(where, lazy("The year must be between 1970 and 2200"))
                return None
        elif not 1970 <= value.year <= 2200:
            self.add(where, lazy("The year must be between 1970 and 2200"))
            return None
        return resolve_time(value, self.zone, self.now)

    def grading(self, where: str, value: Any) -> str | None:
        if not isinstance(value, Mapping):
            self.add(where, lazy("Grading is a mapping with a kind, e.g. {kind: reply_format}"))
            return None
        kind = value.get("kind")
        if not isinstance(kind, str):
            self.add(
                f"{where}.kind", lazy("Grading needs a kind; known kinds: {known}"), known=", ".join(KINDS)
            )
            return None
        if kind not in KINDS:
            close = suggestion(kind, list(KINDS))
            if close:
                self.add(
                    f"{where}.kind",
                    lazy("Unknown grading kind {kind} (did you mean {close}?)"),
                    kind=kind[:40],
                    close=close,
                )
            else:
                self.add(
                    f"{where}.kind",
                    lazy("Unknown grading kind {kind}; known kinds: {known}"),
                    kind=kind[:40],
                    known=", ".join(KINDS),
                )
            return None
        settings = {k: v for k, v in value.items() if k != "kind"}
        known = set(APP_SETTINGS) | set(_grader_keys(kind))
        for problem in settings_problems(kind, settings, frozenset(APP_SETTINGS)):
            close = "" if problem.key in known else suggestion(problem.key, sorted(known))
            if close:
                self.add(
                    f"{where}.{problem.key}",
                    lazy("Unknown setting {key} (did you mean {close}?)"),
                    key=problem.key[:40],
                    close=close,
                )
            else:
                self.add(f"{where}.{problem.key}", lazy(problem.message), **problem.params)
        self.app_settings(where, kind, settings)
        return kind

    def app_settings(self, where: str, kind: str, settings: Mapping[str, Any]) -> None:
        self.boolean(f"{where}.review", settings.get("review"))
        self.boolean(f"{where}.leaderboard_hidden_until_due", settings.get("leaderboard_hidden_until_due"))
        if settings.get("answers", "open") not in ("sealed_until_deadline", "open"):
            self.add(
                f"{where}.answers", lazy("Must be one of: {choices}"), choices="sealed_until_deadline, open"
            )
        if settings.get("leaderboard", "best") not in ("best", "last"):
            self.add(f"{where}.leaderboard", lazy("Must be one of: {choices}"), choices="best, last")
        likes = settings.get("likes_close", "due")
        if likes not in ("due", "never") and not (isinstance(likes, str) and _iso(likes)):
            self.add(f"{where}.likes_close", lazy("Write due, never or a time like 2026-12-01T20:00"))
        if "daily_code_limit" in settings:
            self.integer(f"{where}.daily_code_limit", settings["daily_code_limit"], 1, MAX_DAILY_CODE_LIMIT)
            if not KINDS[kind].grades_code:
                self.add(
                    f"{where}.daily_code_limit",
                    lazy("Only homework graded on uploaded code has a daily code limit"),
                )

    def rewards(self, where: str, value: Any) -> None:
        if not isinstance(value, list):
            self.add(where, lazy("A list of reward rules"))
            return
        for index, rule in enumerate(value):
            at = f"{where}[{index}]"
            if not isinstance(rule, Mapping):
                self.add(at, lazy("A reward rule is a mapping with a kind"))
                continue
            self.keys(at, rule, REWARD_KEYS)
            kind = rule.get("kind")
            if kind not in REWARD_KINDS:
                close = suggestion(kind, REWARD_KINDS)
                hint = (
                    lazy("Unknown reward rule kind {kind} (did you mean {close}?)")
                    if close
                    else lazy("Unknown reward rule kind {kind}; known kinds: {known}")
                )
                self.add(f"{at}.kind", hint, kind=str(kind)[:40], close=close, known=", ".join(REWARD_KINDS))
                continue
            self.reward(at, rule)

    def reward(self, at: str, rule: Mapping[str, Any]) -> None:
        counts = [k for k in ("count", "k", "n") if k in rule]
        if rule["kind"] == "fixed_ranks" and counts:
            self.add(f"{at}.{counts[0]}", lazy("A fixed_ranks rule takes ranks, not a count"))
        if rule["kind"] != "fixed_ranks" and not counts:
            self.add(f"{at}.count", lazy("How many winners: a whole number from 1 to {high}"), high=1_000_000)
            return
        if len({rule[k] for k in counts if isinstance(rule[k], int)}) > 1:
            self.add(f"{at}.{counts[1]}", lazy("count, k and n are the same number; give only one"))
        if rule.get("eligibility", "all") not in ("all", "correct_only"):
            self.add(f"{at}.eligibility", lazy("Must be one of: {choices}"), choices="all, correct_only")
        self.boolean(f"{at}.correct_only", rule.get("correct_only"))
        try:
            parse_reward(rule)
        except DrawError as exc:
            field_name = "ranks" if exc.code.startswith("ranks.") else _rule_field(exc, counts)
            self.problems.append(
                Problem(
                    f"{at}.{field_name}",
                    exc.code,
                    fixed={"en": exc.message("en"), "zh_CN": exc.message("zh_CN")},
                )
            )

    # --- the homework's own stated format ---------------------------------------------------

    def stated_format(self, where: str, code: str, kind: str, item: Mapping[str, Any]) -> None:
        stated = item.get("reply_format") or f"{example_prefix(code)}XXX"
        if isinstance(stated, str):
            self.example(f"{where}.reply_format", code, kind, stated)
        body = item.get("body")
        if isinstance(body, str):
            for example in stated_examples(code, body):
                self.example(f"{where}.body", code, kind, example)

    def example(self, where: str, code: str, kind: str, stated: str) -> None:
        reply = fill_placeholders(kind, stated)
        problem = reply_problem(kind, code, reply)
        if problem is not None:
            self.add(
                where,
                lazy(
                    "A reply written as the homework states, “{reply}”, is refused by its grader "
                    "({kind}): {why}"
                ),
                reply=reply[:80],
                kind=kind,
                why=_Why(problem.message, dict(problem.params)),
            )


class _Why(str):
    """A nested msgid, translated with the message that contains it (see `Problem.text`)."""

    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any]) -> _Why:
        made = super().__new__(cls, msgid)
        made.params = params
        return made


def _translate_nested(locale: str, msgid: str, params: Mapping[str, Any]) -> str:
    done = {k: translate(locale, v, **v.params) if isinstance(v, _Why) else v for k, v in params.items()}
    return translate(locale, msgid, **done)


def _rule_field(exc: DrawError, counts: list[str]) -> str:
    detail = str(exc.params.get("detail", ""))
    for name in ("by", "min_score", "text", "prize", "ranks"):
        if f"'{name}" in detail or detail.startswith(name):
            return name
    return counts[0] if counts else "kind"


def _grader_keys(kind: str) -> list[str]:
    return list(SETTINGS.get(kind, {}))


def _zone_ok(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _iso(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def problems_of(raw: Any, default_zone: str, now: datetime | None = None) -> list[Problem]:
    """Every problem of a course definition (empty: it can be loaded)."""
    if not isinstance(raw, Mapping):
        return [Problem("(file)", lazy("A course file is a YAML mapping with slug, title and assignments"))]
    checker = _Checker(default_zone, now or utcnow())
    checker.course(raw)
    return checker.problems


def check_course(raw: Any, default_zone: str, now: datetime | None = None) -> CourseSpec:
    """The typed course, or `CourseFileError` listing every problem with its field path."""
    problems = problems_of(raw, default_zone, now)
    if problems:
        raise CourseFileError(lazy("The course file is not valid"), problems)
    try:
        return CourseSpec.model_validate(raw)
    except ValidationError as exc:  # a rule the checks above missed: still located, in English
        located = [Problem(".".join(str(p) for p in e["loc"]) or "(file)", e["msg"]) for e in exc.errors()]
        raise CourseFileError(lazy("The course file is not valid"), located) from None
