"""The one validation of a course definition (YAML import, upload, export and the editor): every
problem names its field path, in the reader's language; the homework's own stated reply format
must pass its grader."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from app.services.course_check import problems_of
from app.services.courses import load_yaml
from tests.support.stacks import PROJECT_ROOT

DEMO = load_yaml((PROJECT_ROOT / "courses" / "dl-bootcamp.yaml").read_text(encoding="utf-8"))
Mutation = Callable[[dict[str, Any]], None]


def _hw(index: int, **values: Any) -> Mutation:
    return lambda raw: raw["assignments"][index].update(values)


def _grading(index: int, **values: Any) -> Mutation:
    return lambda raw: raw["assignments"][index]["grading"].update(values)


def _reward(index: int, rule: dict[str, Any]) -> Mutation:
    return lambda raw: raw["assignments"][index].setdefault("rewards", []).append(rule)


CASES: list[tuple[str, Mutation, str, str]] = [
    ("typo kind", _grading(0, kind="reply_fromat"), "assignments[0] (1-1).grading.kind", "reply_format?"),
    ("unknown kind", _grading(0, kind="telepathy"), "assignments[0] (1-1).grading.kind", "known kinds"),
    ("unknown homework key", _hw(0, rewardz=[]), "assignments[0] (1-1).rewardz", "rewards?"),
    ("unknown course key", lambda raw: raw.update(titel="x"), "titel", "title?"),
    ("unknown setting", _grading(1, reveiw=True), "assignments[1] (1-2).grading.reveiw", "review?"),
    ("bad zone", lambda raw: raw.update(timezone="Mars/Olympus"), "timezone", "Unknown time zone"),
    ("bad time", _hw(2, opens="tomorrow"), "assignments[2] (3-1).opens", "Cannot read the time"),
    ("bad hour", _hw(2, opens="-1d@25:00"), "assignments[2] (3-1).opens", "Cannot read the time"),
    ("far time", _hw(2, due="+9999d"), "assignments[2] (3-1).due", "3650 days"),
    ("old year", _hw(2, opens="1900-01-01T00:00"), "assignments[2] (3-1).opens", "between 1970 and 2200"),
    ("order", _hw(2, opens="+20d"), "assignments[2] (3-1).due", "due before it opens"),
    ("late policy", _hw(2, late_policy="maybe"), "assignments[2] (3-1).late_policy", "accept, refuse"),
    ("bad code", _hw(2, code="3/1"), "assignments[2] (3/1).code", "looks like 7 or 7-1"),
    ("twice", _hw(3, code="3-1"), "assignments[3] (3-1).code", "appears twice"),
    ("empty title", _hw(3, title=" "), "assignments[3] (4-1).title", "empty"),
    (
        "limit on text",
        _grading(1, daily_code_limit=3),
        "assignments[1] (1-2).grading.daily_code_limit",
        "uploaded code",
    ),
    (
        "limit zero",
        _grading(9, daily_code_limit=0),
        "assignments[9] (6-2).grading.daily_code_limit",
        "1 to 1000",
    ),
    (
        "limit text",
        _grading(9, daily_code_limit="five"),
        "assignments[9] (6-2).grading.daily_code_limit",
        "1 to 1000",
    ),
    (
        "fraction",
        _grading(9, public_fraction=2),
        "assignments[9] (6-2).grading.public_fraction",
        "between 0 and 1",
    ),
    ("rank_on", _grading(9, rank_on="everything"), "assignments[9] (6-2).grading.rank_on", "one of"),
    ("padding", _grading(10, padding="x"), "assignments[10] (7-1).grading.padding", "whole number"),
    ("bias", _grading(10, bias="maybe"), "assignments[10] (7-1).grading.bias", "count, ignore, either"),
    (
        "answers",
        _grading(1, answers="secret"),
        "assignments[1] (1-2).grading.answers",
        "sealed_until_deadline",
    ),
    ("likes close", _grading(1, likes_close="soon"), "assignments[1] (1-2).grading.likes_close", "never"),
    (
        "reward kind",
        _reward(1, {"kind": "lotery", "k": 5}),
        "assignments[1] (1-2).rewards[1].kind",
        "lottery?",
    ),
    (
        "lottery zero",
        _reward(1, {"kind": "lottery", "count": 0}),
        "assignments[1] (1-2).rewards[1].count",
        "1 to 1000000",
    ),
    (
        "lottery none",
        _reward(1, {"kind": "lottery"}),
        "assignments[1] (1-2).rewards[1].count",
        "How many winners",
    ),
    (
        "ranks",
        _reward(1, {"kind": "fixed_ranks", "ranks": "3-1"}),
        "assignments[1] (1-2).rewards[1].ranks",
        "runs backwards",
    ),
    (
        "ranks and count",
        _reward(1, {"kind": "fixed_ranks", "ranks": "1", "n": 2}),
        "assignments[1] (1-2).rewards[1].n",
        "not a count",
    ),
    (
        "top score by",
        _reward(1, {"kind": "top_score", "n": 3, "by": "likes"}),
        "assignments[1] (1-2).rewards[1].by",
        "score or review",
    ),
    (
        "top likes by review",
        _reward(1, {"kind": "top_likes", "n": 3, "by": "review"}),
        "assignments[1] (1-2).rewards[1].by",
        "top_score",
    ),
    (
        "min score",
        _reward(1, {"kind": "lottery", "n": 3, "min_score": "high"}),
        "assignments[1] (1-2).rewards[1].min_score",
        "number",
    ),
    (
        "eligibility",
        _reward(1, {"kind": "lottery", "n": 3, "eligibility": "friends"}),
        "assignments[1] (1-2).rewards[1].eligibility",
        "correct_only",
    ),
    (
        "reward key",
        _reward(1, {"kind": "lottery", "n": 3, "winers": 2}),
        "assignments[1] (1-2).rewards[1].winers",
        "Unknown key",
    ),
    (
        "stated format",
        _hw(0, reply_format="作业1-1已跑通XX"),
        "assignments[0] (1-1).reply_format",
        "refused by its grader",
    ),
    (
        "stated in body",
        _hw(0, body="回复格式：作业1-1完成XX"),
        "assignments[0] (1-1).body",
        "refused by its grader",
    ),
    (
        "conv format",
        _hw(10, reply_format="作业7-1：XXX"),
        "assignments[10] (7-1).reply_format",
        "multiplication count",
    ),
    ("fairness", lambda raw: raw.update(fairness={"final_picks": 99}), "fairness.final_picks", "1 to 20"),
    ("instructors", lambda raw: raw.update(instructors="teacher"), "instructors", "user names"),
]


@pytest.mark.parametrize(("name", "mutate", "where", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_problem_names_its_field(name: str, mutate: Mutation, where: str, expected: str) -> None:
    raw = copy.deepcopy(DEMO)
    mutate(raw)
    found = {p.where: p.message for p in problems_of(raw, "Asia/Shanghai")}
    assert where in found, found
    assert expected in found[where], found


def test_the_demo_course_is_valid_and_messages_speak_chinese() -> None:
    assert problems_of(copy.deepcopy(DEMO), "Asia/Shanghai") == []
    raw = copy.deepcopy(DEMO)
    raw["assignments"][0]["grading"]["kind"] = "reply_fromat"
    (problem,) = problems_of(raw, "Asia/Shanghai")
    assert problem.where == "assignments[0] (1-1).grading.kind"
    assert problem.text("zh_CN") == "未知的评分类型 reply_fromat（是不是 reply_format？）"


def test_the_stated_format_of_3_1_is_accepted_by_its_grader() -> None:
    """Homework 3-1 says `回帖形式：作业3-1(1)XX(2)XX`; a reply written that way is no format error."""
    import grader
    from grader.formats import fill_placeholders, stated_examples

    homework = next(h for h in DEMO["assignments"] if h["code"] == "3-1")
    assert stated_examples("3-1", homework["body"]) == ["作业3-1(1)XX(2)XX"]
    assert homework["reply_format"] == "作业3-1(1)XX(2)XX"
    for reply in (
        "作业3-1(1)监督学习(2)供需",
        "作业3-1（1）监督学习（2）供需",
        "作业3-1 (1)a (2)b",
        fill_placeholders("reply_format", homework["reply_format"]),
    ):
        report = grader.grade("reply_format", assignment="3-1", text=reply)
        assert report.verdict == "accepted", (reply, report)
    for reply in ("作业3-1已完成", "作业3-10(1)a", "作业3-1", "作业3-1：", "作业31(1)a"):
        assert grader.grade("reply_format", assignment="3-1", text=reply).verdict == "format_error", reply


def test_prose_that_names_a_homework_is_not_an_example() -> None:
    from grader.formats import stated_examples

    body = (
        "作业3-1的要求见下。\n请按格式回复：作业3-1：XX\n上次作业3-1里有人问过。\n例如 `作业3-1：答案` 即可"
    )
    assert stated_examples("3-1", body) == ["作业3-1：XX", "作业3-1：答案"]
