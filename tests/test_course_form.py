"""The editor's form round-trips: a homework shown in the form and sent back unchanged is the
same homework (no change in the diff), whatever its grading settings and reward rule spellings."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from app.services.course_editor import diff
from app.services.course_form import form_of, homework_of, rule_of
from app.services.courses import load_yaml
from tests.support.stacks import PROJECT_ROOT

DEMO = load_yaml((PROJECT_ROOT / "courses" / "dl-bootcamp.yaml").read_text(encoding="utf-8"))


def _submitted(homework: dict[str, object]) -> tuple[dict[str, str], list[dict[str, str]]]:
    form = form_of(homework)  # type: ignore[arg-type]
    fields = {k: v for k, v in asdict(form).items() if k != "rewards"}
    return fields, [asdict(r) for r in form.rewards]


@pytest.mark.parametrize("homework", DEMO["assignments"], ids=[h["code"] for h in DEMO["assignments"]])
def test_an_unchanged_form_changes_nothing(homework: dict[str, object]) -> None:
    homework = {"late_policy": "accept", **homework}  # as the stored course's document has it
    fields, rows = _submitted(homework)
    again, unreadable = homework_of(fields, rows, homework)
    assert unreadable == []
    assert diff({"assignments": [homework]}, {"assignments": [again]}) == []


def test_rows_become_rules_in_the_course_files_spelling() -> None:
    assert rule_of({"kind": "lottery", "count": "5", "text": " 抽5人 ", "eligibility": "correct_only"}) == \
        {"kind": "lottery", "count": 5, "eligibility": "correct_only", "text": "抽5人"}
    assert rule_of({"kind": "fixed_ranks", "ranks": "1-3,6", "count": "9"}) == \
        {"kind": "fixed_ranks", "ranks": "1-3,6"}
    assert rule_of({"kind": "top_score", "count": "10", "by": "review", "min_score": "0.5"}) == \
        {"kind": "top_score", "count": 10, "by": "review", "min_score": 0.5}
    assert rule_of({"kind": "top_likes", "count": "x"})["count"] == "x"  # left for the check to name


def test_a_changed_row_replaces_the_rule_and_a_removed_one_goes() -> None:
    homework = next(h for h in DEMO["assignments"] if h["code"] == "7-2")
    fields, rows = _submitted(homework)
    rows[0]["count"] = "3"
    rows.append({"kind": "top_likes", "count": "5", "text": "点赞前5"})
    changed, _ = homework_of(fields, rows, homework)
    assert changed["rewards"] == [
        {"kind": "lottery", "count": 3, "eligibility": "correct_only", "text": "从正确答案中抽取5人",
         "prize": "飞桨定制本 + 50元京东卡"},
        {"kind": "top_likes", "count": 5, "text": "点赞前5"}]
    rows[1]["delete"] = "1"
    assert len(homework_of(fields, rows, homework)[0]["rewards"]) == 1
