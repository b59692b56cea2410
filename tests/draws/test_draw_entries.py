"""The canonical frozen list: exact bytes, escaping, strict decoding, hashing."""

from __future__ import annotations

import hashlib
import random
from decimal import Decimal

import pytest

from app.draws import (
    DrawError,
    Entry,
    FixedRanks,
    Lottery,
    TopLikes,
    TopScore,
    canonical_score,
    decode_entries,
    encode_entries,
    freeze_entries,
    list_hash,
    parse_ranks,
)

LOTTERY = Lottery(3)


def test_exact_bytes_of_a_small_list() -> None:
    entries = [Entry(101, 2, "thunder95"), Entry(102, 3, "呵赫 he"), Entry(103, 5, "tab\there")]
    text = encode_entries(entries, LOTTERY)
    assert text == "101\t2\tthunder95\n102\t3\t呵赫 he\n103\t5\ttab\\there\n"
    frozen = freeze_entries(entries, LOTTERY)
    assert frozen.count == 3
    assert frozen.list_hash == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_empty_list_is_empty_text() -> None:
    assert encode_entries([], LOTTERY) == ""
    assert list_hash("") == hashlib.sha256(b"").hexdigest()
    assert list(decode_entries("", LOTTERY)) == []


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("a\tb", "a\\tb"),
        ("a\nb", "a\\nb"),
        ("a\rb", "a\\rb"),
        ("a\\b", "a\\\\b"),
        ("a\\tb", "a\\\\tb"),  # a backslash followed by the letter t, not a tab
        ("\\", "\\\\"),
        ("", ""),
        ("名字 🎉\u2028x", "名字 🎉\u2028x"),  # only TAB, LF, CR and backslash are escaped
    ],
)
def test_name_escaping(name: str, field: str) -> None:
    text = encode_entries([Entry(1, 1, name)], LOTTERY)
    assert text == f"1\t1\t{field}\n"
    assert decode_entries(text, LOTTERY)[0].name == name


def test_random_names_round_trip() -> None:
    rng = random.Random(7)
    alphabet = "ab\\\t\n\rnrt 中文🎉\u2028\x00"
    entries = [
        Entry(i, rng.randint(0, 10**6), "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))))
        for i in range(500)
    ]
    text = encode_entries(entries, LOTTERY)
    assert text.count("\n") == 500
    assert list(decode_entries(text, LOTTERY)) == entries


def test_value_columns_only_where_the_rule_needs_them() -> None:
    entry = Entry(7, 9, "n", score=Decimal("0.9923"), likes=12)
    assert encode_entries([entry], LOTTERY) == "7\t9\tn\n"
    assert encode_entries([entry], FixedRanks(parse_ranks("1"))) == "7\t9\tn\n"
    assert encode_entries([entry], TopScore(1)) == "7\t9\tn\t0.9923\n"
    assert encode_entries([entry], TopLikes(1)) == "7\t9\tn\t12\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1, "0.1"),
        (0.9923, "0.9923"),
        (100, "100"),
        (Decimal("1.500"), "1.5"),
        (Decimal("1E+2"), "100"),
        (-0.0, "0"),
        (Decimal("-0.50"), "-0.5"),
        (1e-7, "0.0000001"),
        ("98.10", "98.1"),
    ],
)
def test_canonical_scores(value: object, text: str) -> None:
    assert canonical_score(value) == text  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, "abc", Decimal("1E+100")])
def test_scores_that_cannot_be_written(value: object) -> None:
    with pytest.raises(ValueError):
        canonical_score(value)  # type: ignore[arg-type]


def test_decoding_scores_and_likes() -> None:
    table = decode_entries("1\t2\tx\t-1.25\n3\t4\ty\t0\n", TopScore(1))
    assert list(table) == [Entry(1, 2, "x", Decimal("-1.25")), Entry(3, 4, "y", Decimal(0))]
    assert list(decode_entries("1\t2\tx\t17\n", TopLikes(1))) == [Entry(1, 2, "x", likes=17)]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("1\t2\tx", 1),  # no final newline
        ("\n", 1),  # empty line
        ("1\t2\tx\n\n", 2),
        ("1\t2\tx\r\n", 1),  # CRLF: raw CR in the name
        ("01\t2\tx\n", 1),  # leading zero
        ("+1\t2\tx\n", 1),
        ("1\t-2\tx\n", 1),
        ("1\t2\tx\ty\n", 1),  # a fourth field in a lottery list
        ("1\t2\n", 1),
        ("1\t2\ta\\qb\n", 1),  # unknown escape
        ("1\t2\ta\\\n", 1),  # lone backslash at the end
        ("1\t2\tx\n2\t3\ty\n1\t4\tz\n", 3),  # duplicate id
        ("9223372036854775808\t1\tx\n", 1),  # 2**63
        ("１\t2\tx\n", 1),  # full-width digit
    ],
)
def test_non_canonical_lists_are_refused_with_the_line(text: str, line: int) -> None:
    with pytest.raises(DrawError) as info:
        decode_entries(text, LOTTERY)
    assert info.value.code == "list.malformed"
    assert info.value.params["line"] == line


@pytest.mark.parametrize("score", ["1.50", "-0", "1e5", ".5", "5.", "01", "+1", "1" * 65])
def test_non_canonical_scores_are_refused(score: str) -> None:
    with pytest.raises(DrawError):
        decode_entries(f"1\t2\tx\t{score}\n", TopScore(1))


def test_largest_id_is_accepted() -> None:
    entries = [Entry(2**63 - 1, 0, "max")]
    assert list(decode_entries(encode_entries(entries, LOTTERY), LOTTERY)) == entries


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ([Entry(1, 1, "a"), Entry(1, 2, "b")], "entries.duplicate_id"),
        ([Entry(-1, 1, "a")], "entries.invalid"),
        ([Entry(2**63, 1, "a")], "entries.invalid"),
        ([Entry(True, 1, "a")], "entries.invalid"),  # type: ignore[arg-type]
        ([Entry(1, 1, 5)], "entries.invalid"),  # type: ignore[arg-type]
        ([Entry(1, 1, "\ud800")], "entries.invalid"),
    ],
)
def test_bad_entries_are_refused(entries: list[Entry], code: str) -> None:
    with pytest.raises(DrawError) as info:
        encode_entries(entries, LOTTERY)
    assert info.value.code == code


def test_missing_score_is_refused_for_top_score() -> None:
    with pytest.raises(DrawError) as info:
        encode_entries([Entry(1, 1, "a")], TopScore(1))
    assert info.value.code == "entries.missing_value"
    assert info.value.params == {"entry_id": 1, "field": "score"}


def test_entry_table_behaves_like_a_list_of_entries() -> None:
    entries = [Entry(i, i, f"n{i}") for i in range(1, 6)]
    table = decode_entries(encode_entries(entries, LOTTERY), LOTTERY)
    assert len(table) == 5
    assert table[0] == entries[0] and table[-1] == entries[-1]
    assert table[1:3] == entries[1:3]
    assert table == entries
