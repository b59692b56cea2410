"""pick_winners for lotteries and the top_* rules; tickets and keys."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from app.draws import (
    DrawError,
    Entry,
    Lottery,
    TopLikes,
    TopScore,
    decode_entries,
    derive_key,
    encode_entries,
    pick_winners,
    ticket,
)
from app.draws import algorithm as algorithm_module
from tests.draws.drawkit import make_entries

KEY = hashlib.sha256(b"test key").digest()


def test_ticket_is_sha256_of_key_and_8_byte_big_endian_id() -> None:
    assert ticket(KEY, 258) == hashlib.sha256(KEY + b"\x00" * 6 + b"\x01\x02").digest()


def test_lottery_winners_are_the_smallest_tickets_in_ticket_order() -> None:
    entries = make_entries(20)
    winners = pick_winners(Lottery(3), entries, KEY)
    by_ticket = sorted(range(20), key=lambda i: ticket(KEY, entries[i].entry_id))
    assert [w.position - 1 for w in winners] == by_ticket[:3]
    assert [w.ticket for w in winners] == [ticket(KEY, entries[i].entry_id).hex() for i in by_ticket[:3]]
    assert [w.place for w in winners] == [1, 2, 3]


def test_lottery_depends_on_key_not_on_list_order_of_others() -> None:
    entries = make_entries(50)
    winners = pick_winners(Lottery(5), entries, KEY)
    shuffled = entries[::-1]
    assert {w.entry_id for w in pick_winners(Lottery(5), shuffled, KEY)} == {
        w.entry_id for w in winners
    }
    other = pick_winners(Lottery(5), entries, hashlib.sha256(b"other").digest())
    assert [w.entry_id for w in other] != [w.entry_id for w in winners]


def test_lottery_with_more_prizes_than_entries_picks_everyone() -> None:
    entries = make_entries(4)
    winners = pick_winners(Lottery(10), entries, KEY)
    assert sorted(w.entry_id for w in winners) == [e.entry_id for e in entries]
    assert pick_winners(Lottery(3), [], KEY) == []


def test_equal_tickets_go_to_the_earlier_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(algorithm_module, "tickets", lambda key, ids: [b"\x00" * 32 for _ in ids])
    winners = pick_winners(Lottery(2), make_entries(5), KEY)
    assert [w.position for w in winners] == [1, 2]


def test_lottery_needs_a_key() -> None:
    with pytest.raises(ValueError):
        pick_winners(Lottery(1), make_entries(3))


def test_top_score_ties_go_to_the_earlier_entry() -> None:
    scores = ["0.98", "0.99", "0.97", "0.99", "0.985"]
    entries = [Entry(10 + i, 2 + i, f"s{i}", Decimal(s)) for i, s in enumerate(scores)]
    winners = pick_winners(TopScore(3), entries)
    assert [(w.position, w.score) for w in winners] == [(2, "0.99"), (4, "0.99"), (5, "0.985")]


def test_top_score_accepts_floats_exactly_as_the_frozen_list_writes_them() -> None:
    entries = [Entry(1, 1, "a", 0.1), Entry(2, 2, "b", 0.30000000000000004), Entry(3, 3, "c", 0.3)]
    winners = pick_winners(TopScore(2), entries)
    assert [w.entry_id for w in winners] == [2, 3]
    assert winners[0].score == "0.30000000000000004"
    frozen = decode_entries(encode_entries(entries, TopScore(2)), TopScore(2))
    assert pick_winners(TopScore(2), frozen) == winners


def test_top_score_compares_long_decimals_exactly() -> None:
    low, high = "0.12345678901234567890123456789011", "0.12345678901234567890123456789012"
    entries = [Entry(1, 1, "a", Decimal(low)), Entry(2, 2, "b", Decimal(high))]
    assert [w.entry_id for w in pick_winners(TopScore(1), entries)] == [2]


def test_top_likes_ties_go_to_the_earlier_entry() -> None:
    entries = [Entry(i, i, f"l{i}", likes=n) for i, n in enumerate([3, 7, 7, 1, 9], 1)]
    winners = pick_winners(TopLikes(4), entries)
    assert [(w.entry_id, w.likes) for w in winners] == [(5, 9), (2, 7), (3, 7), (1, 3)]
    assert winners[0].to_json() == {
        "place": 1, "position": 5, "entry_id": 5, "floor": 5, "name": "l5", "likes": 9,
    }  # fmt: skip


def test_top_rules_need_their_value() -> None:
    with pytest.raises(DrawError):
        pick_winners(TopLikes(1), [Entry(1, 1, "a")])


def test_key_derivation_is_length_prefixed() -> None:
    seed = "00" * 32
    list_hash = "11" * 32
    key = derive_key(7, list_hash, "ab", seed)
    material = (
        b"\x00\x00\x00\x0ccamp-draw-v1"
        + b"\x00\x00\x00\x017"
        + b"\x00\x00\x00\x20" + bytes.fromhex(list_hash)
        + b"\x00\x00\x00\x02ab"
        + b"\x00\x00\x00\x20" + bytes(32)
    )  # fmt: skip
    assert key == hashlib.sha256(material).digest()
    # moving a byte between public value and draw id changes the key
    assert derive_key(7, list_hash, "ab", seed) != derive_key(7, list_hash, "a", seed)
    assert derive_key(7, list_hash, None, seed) == derive_key(7, list_hash, "", seed)


def test_same_inputs_same_winners_on_a_large_list() -> None:
    entries = make_entries(5000)
    first = pick_winners(Lottery(5), entries, KEY)
    table = decode_entries(encode_entries(entries, Lottery(5)), Lottery(5))
    assert pick_winners(Lottery(5), table, KEY) == first
