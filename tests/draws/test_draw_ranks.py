"""Rank expressions: the seed's two fixed-rank rules, and clear errors for bad expressions."""

from __future__ import annotations

import pytest

from app.draws import FixedRanks, RankExprError, parse_ranks, pick_winners, rule_from_json
from tests.draws.drawkit import make_entries

RULE_1_1 = "1-3,6,66+100n<=666"  # 作业1-1: 前3名,以及第6名、66名、166名……666名
RULE_4_1 = "2,3,23,123+100n"  # 作业4-1: 第2、3、23、123、223、323…名


def test_homework_1_1_with_700_entries_selects_exactly_the_seed_ranks() -> None:
    expected = [1, 2, 3, 6, 66, 166, 266, 366, 466, 566, 666]
    assert parse_ranks(RULE_1_1).positions(700) == expected


def test_homework_4_1_with_330_entries_selects_2_3_23_123_223_323() -> None:
    assert parse_ranks(RULE_4_1).positions(330) == [2, 3, 23, 123, 223, 323]


def test_with_50_entries_only_existing_ranks_win() -> None:
    assert parse_ranks(RULE_1_1).positions(50) == [1, 2, 3, 6]
    assert parse_ranks(RULE_4_1).positions(50) == [2, 3, 23]
    assert parse_ranks(RULE_1_1).positions(0) == []


def test_open_progression_runs_up_to_the_entry_count() -> None:
    assert parse_ranks(RULE_4_1).positions(1023) == [2, 3, 23, *range(123, 1024, 100)]
    assert parse_ranks(RULE_4_1).positions(123) == [2, 3, 23, 123]
    assert parse_ranks(RULE_4_1).positions(122) == [2, 3, 23]


def test_pick_winners_returns_the_entries_at_those_ranks_in_order() -> None:
    entries = make_entries(700)
    rule = rule_from_json({"kind": "fixed_ranks", "ranks": RULE_1_1})
    winners = pick_winners(rule, entries)
    assert [w.position for w in winners] == [1, 2, 3, 6, 66, 166, 266, 366, 466, 566, 666]
    assert [w.place for w in winners] == list(range(1, 12))
    assert winners[4].entry_id == entries[65].entry_id
    assert winners[4].floor == entries[65].floor and winners[4].name == entries[65].name
    assert all(w.ticket is None and w.score is None for w in winners)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (" 1 - 3 ， 6 , 66 + 100 n ≤ 666 ", RULE_1_1),
        ("2,3,23,123+100n", RULE_4_1),
        ("006", "6"),
        ("5-5", "5-5"),
        ("7,7,1-10", "7,7,1-10"),
    ],
)
def test_canonical_form_drops_spaces_and_normalizes_separators(text: str, canonical: str) -> None:
    spec = parse_ranks(text)
    assert spec.canonical == canonical
    assert parse_ranks(spec.canonical) == spec


def test_overlapping_terms_select_each_rank_once() -> None:
    assert parse_ranks("7,7,1-10,5+5n").positions(12) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


def test_rule_json_round_trip_stores_the_canonical_expression() -> None:
    rule = rule_from_json({"kind": "fixed_ranks", "ranks": " 1-3 ,6"})
    assert isinstance(rule, FixedRanks)
    assert rule.to_json() == {"kind": "fixed_ranks", "ranks": "1-3,6"}


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("", "ranks.empty", {}),
        ("   ", "ranks.empty", {}),
        ("1,,2", "ranks.empty_term", {"column": 3}),
        ("1,", "ranks.empty_term", {"column": 3}),
        (",1", "ranks.empty_term", {"column": 1}),
        ("1;2", "ranks.unexpected", {"column": 2, "char": ";"}),
        ("1-3-5", "ranks.unexpected", {"column": 4, "char": "-"}),
        ("1、2", "ranks.unexpected", {"column": 2, "char": "、"}),
        ("a", "ranks.expected_number", {"column": 1}),
        ("1-", "ranks.expected_number", {"column": 3}),
        ("5+3", "ranks.expected_n", {"column": 4, "start": 5, "step": 3}),
        ("5+3m", "ranks.expected_n", {"column": 4, "start": 5, "step": 3}),
        ("0", "ranks.zero", {"column": 1}),
        ("1-0", "ranks.zero", {"column": 3}),
        ("5+0n", "ranks.zero_step", {"column": 3}),
        ("3-1", "ranks.reversed_range", {"column": 1, "start": 3, "end": 1}),
        ("66+100n<=50", "ranks.bound_below_start", {"column": 10, "bound": 50, "start": 66}),
        ("1000000001", "ranks.too_large", {"column": 1, "limit": 1_000_000_000}),
        ("1" * 501, "ranks.too_long", {"limit": 500}),
        ("1<=5", "ranks.unexpected", {"column": 2, "char": "<"}),
    ],
)
def test_bad_expressions_give_a_code_params_and_both_languages(
    text: str, code: str, params: dict
) -> None:
    with pytest.raises(RankExprError) as info:
        parse_ranks(text)
    error = info.value
    assert (error.code, error.params) == (code, params)
    english, chinese = error.message("en"), error.message("zh-CN")
    assert english and chinese and english != chinese
    assert str(error) == english
    for value in params.values():
        assert str(value) in english and str(value) in chinese
    assert error.to_json()["message"] == {"en": english, "zh-CN": chinese}


def test_error_messages_read_well() -> None:
    with pytest.raises(RankExprError) as info:
        parse_ranks("66+100n<=50")
    assert info.value.message("en") == "The bound 50 at column 10 is below the start 66."
    assert info.value.message("zh_CN") == "第 10 列的上限 50 小于起点 66。"
