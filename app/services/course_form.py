"""The editor's homework form, to and from the course document (pure: no database, no web).

A form changes one homework of the document (or appends a new one); everything else of the
course is kept as it is. Values the form cannot turn into data (a count that is no number,
settings that are no YAML mapping) are put into the document as typed, so the one validation
(`course_check`) reports them with their field path like any other problem.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from app.draws import DrawError
from app.services.courses import load_yaml
from app.services.entries import parse_reward

REWARD_FIELDS = ("kind", "count", "ranks", "text", "prize", "eligibility", "by", "min_score")
#: grading settings with their own inputs; every other setting is edited as YAML text
OWN_INPUTS = ("kind", "daily_code_limit")
MAX_REWARD_ROWS = 20


@dataclass(frozen=True)
class RewardRow:
    kind: str = ""
    count: str = ""
    ranks: str = ""
    text: str = ""
    prize: str = ""
    eligibility: str = "all"
    by: str = "score"
    min_score: str = ""


@dataclass(frozen=True)
class HomeworkForm:
    """What the form shows (strings, as typed)."""

    code: str
    title: str
    body: str
    reply_format: str
    opens: str
    due: str
    late_policy: str
    grading_kind: str
    daily_code_limit: str
    grading_settings: str
    rewards: tuple[RewardRow, ...]


def _scalar(value: Any) -> str:
    return "" if value is None else str(value)


def reward_row(rule: Mapping[str, Any]) -> RewardRow:
    count = next((rule[k] for k in ("count", "k", "n") if k in rule), "")
    correct = rule.get("correct_only") is True or rule.get("eligibility") == "correct_only"
    return RewardRow(
        _scalar(rule.get("kind")),
        _scalar(count),
        _scalar(rule.get("ranks")),
        _scalar(rule.get("text")),
        _scalar(rule.get("prize")),
        "correct_only" if correct else "all",
        _scalar(rule.get("by", "score")),
        _scalar(rule.get("min_score")),
    )


def form_of(homework: Mapping[str, Any]) -> HomeworkForm:
    grading = dict(homework.get("grading") or {"kind": "reply_format"})
    others = {k: v for k, v in grading.items() if k not in OWN_INPUTS}
    settings = (
        yaml.safe_dump(others, allow_unicode=True, sort_keys=False, default_flow_style=None)
        if others
        else ""
    )
    return HomeworkForm(
        code=_scalar(homework.get("code")),
        title=_scalar(homework.get("title")),
        body=_scalar(homework.get("body")),
        reply_format=_scalar(homework.get("reply_format")),
        opens=_scalar(homework.get("opens")),
        due=_scalar(homework.get("due")),
        late_policy=_scalar(homework.get("late_policy") or "accept"),
        grading_kind=_scalar(grading.get("kind")),
        daily_code_limit=_scalar(grading.get("daily_code_limit")),
        grading_settings=settings,
        rewards=tuple(reward_row(r) for r in homework.get("rewards") or []),
    )


def blank_homework(code: str = "") -> dict[str, Any]:
    return {
        "code": code,
        "title": "",
        "body": "",
        "reply_format": "",
        "opens": "",
        "due": "",
        "late_policy": "accept",
        "grading": {"kind": "reply_format"},
        "rewards": [],
    }


def _number(text: str) -> Any:
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def rule_of(row: Mapping[str, str]) -> dict[str, Any]:
    """A reward rule from one row of the form, in the course file's canonical spelling."""
    kind = row.get("kind", "").strip()
    rule: dict[str, Any] = {"kind": kind}
    if kind == "fixed_ranks":
        rule["ranks"] = row.get("ranks", "").strip()
    else:
        rule["count"] = _number(row.get("count", ""))
    if row.get("eligibility") == "correct_only":
        rule["eligibility"] = "correct_only"
    if kind == "top_score" and row.get("by", "score") != "score":
        rule["by"] = row.get("by", "").strip()
    if row.get("min_score", "").strip():
        rule["min_score"] = _number(row["min_score"])
    for name in ("text", "prize"):
        if row.get(name, "").strip():
            rule[name] = row[name].strip()
    return rule


def _same_rule(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether two spellings mean the same rule (`k: 5` and `count: 5`): then the old is kept."""
    try:
        a, b = parse_reward(old), parse_reward(new)
    except DrawError:
        return False
    return (a.rule.to_json(), a.options, a.title, a.prize) == (b.rule.to_json(), b.options, b.title, b.prize)


def _settings(text: str) -> Mapping[str, Any] | None:
    """The settings typed as YAML `key: value` lines; None when they are not such a mapping."""
    if not text.strip():
        return {}
    try:
        value = load_yaml(text)
    except yaml.YAMLError:
        return None
    if value is None:
        return {}
    return value if isinstance(value, Mapping) and all(isinstance(k, str) for k in value) else None


def homework_of(
    fields: Mapping[str, str], rows: list[dict[str, str]], old: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[str]]:
    """The homework as the form describes it (fields the form leaves alone keep their old values),
    and the paths inside it of values the form could not read."""
    unreadable: list[str] = []
    homework = copy.deepcopy(dict(old)) if old else blank_homework()
    for name in ("code", "title", "body", "reply_format", "opens", "due", "late_policy"):
        if name in fields:
            value = fields[name].replace("\r\n", "\n")
            homework[name] = value.strip() if name not in ("body",) else value
    if old:
        homework["code"] = old.get("code")  # a homework keeps its code (its floors hang on it)
    if not homework.get("reply_format"):
        homework.pop("reply_format", None)
    settings = _settings(fields.get("grading_settings", ""))
    if settings is None:
        unreadable.append("grading")
        settings = {k: v for k, v in (homework.get("grading") or {}).items() if k not in OWN_INPUTS}
    # the kind and the limit have their own inputs: the same keys typed among the settings lose
    grading: dict[str, Any] = {"kind": fields.get("grading_kind", "").strip()}
    grading.update((k, v) for k, v in settings.items() if k not in OWN_INPUTS)
    limit = fields.get("daily_code_limit", "").strip()
    if limit:
        grading["daily_code_limit"] = _number(limit)
    homework["grading"] = grading
    old_rules = list((old or {}).get("rewards") or [])
    rules: list[dict[str, Any]] = []
    for index, row in enumerate(rows[:MAX_REWARD_ROWS]):
        if not row.get("kind", "").strip() or row.get("delete"):
            continue
        rule = rule_of(row)
        kept = old_rules[index] if index < len(old_rules) else None
        rules.append(copy.deepcopy(kept) if kept is not None and _same_rule(kept, rule) else rule)
    homework["rewards"] = rules
    return homework, unreadable


def with_homework(
    document: Mapping[str, Any], original_code: str, homework: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    """The document with one homework replaced (or appended when `original_code` is empty), and its index."""
    changed = copy.deepcopy(dict(document))
    items = changed.setdefault("assignments", [])
    for index, item in enumerate(items):
        if original_code and item.get("code") == original_code:
            items[index] = homework
            return changed, index
    items.append(homework)
    return changed, len(items) - 1
