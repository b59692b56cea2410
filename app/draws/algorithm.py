"""`pick_winners`: the pure function from (rule, frozen entries, key) to winners."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from app.draws.entries import Entry, EntryTable, canonical_score
from app.draws.errors import DrawError
from app.draws.keys import tickets
from app.draws.rules import FixedRanks, Lottery, Rule, TopLikes, TopScore


class Winner(NamedTuple):
    """One winner. `place` counts from 1 in winning order; `position` is the 1-based rank of
    the entry in the frozen list. `ticket` (hex) is set for lotteries, `score`/`likes` for
    the top_* rules."""

    place: int
    position: int
    entry_id: int
    floor: int
    name: str
    ticket: str | None = None
    score: str | None = None
    likes: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "place": self.place,
            "position": self.position,
            "entry_id": self.entry_id,
            "floor": self.floor,
            "name": self.name,
        }
        for field in ("ticket", "score", "likes"):
            value = getattr(self, field)
            if value is not None:
                data[field] = value
        return data


def _ids(entries: Sequence[Entry]) -> list[int]:
    if isinstance(entries, EntryTable):
        return entries.ids
    return [entry.entry_id for entry in entries]


def lottery_order(count: int, key: bytes, entry_ids: Sequence[int]) -> list[tuple[bytes, int]]:
    """(ticket, 0-based index) of the `count` smallest tickets; equal tickets: earlier entry."""
    all_tickets = tickets(key, entry_ids)
    return heapq.nsmallest(count, zip(all_tickets, range(len(all_tickets)), strict=True))


def _value(entry: Entry, field: str) -> Decimal | int:
    value = getattr(entry, field)
    if value is None:
        raise DrawError("entries.missing_value", entry_id=entry.entry_id, field=field)
    return Decimal(canonical_score(value)) if field == "score" else int(value)


def _values(entries: Sequence[Entry], field: str) -> Sequence[Decimal | int]:
    """The score/likes column, as the frozen list would write it (scores exact decimals)."""
    if isinstance(entries, EntryTable):
        column = entries.scores if field == "score" else entries.likes
        if column is not None:
            return column
    return [_value(entry, field) for entry in entries]


def _descending(value: Decimal | int) -> Decimal | int:
    """Sort key for "largest first"; `Decimal.copy_negate` is exact (unary minus may round)."""
    return value.copy_negate() if isinstance(value, Decimal) else -value


def top_order(count: int, values: Sequence[Decimal | int]) -> list[int]:
    """0-based indexes of the `count` largest values; equal values: earlier entry first."""
    return heapq.nsmallest(count, range(len(values)), key=lambda i: (_descending(values[i]), i))


def _winner(place: int, index: int, entry: Entry, **extra: Any) -> Winner:
    return Winner(place, index + 1, entry.entry_id, entry.floor, entry.name, **extra)


def pick_winners(rule: Rule, entries: Sequence[Entry], key: bytes | None = None) -> list[Winner]:
    """Winners of `rule` over `entries` (frozen order). Only lotteries use `key`."""
    if isinstance(rule, FixedRanks):
        positions = rule.ranks.positions(len(entries))
        return [_winner(place, p - 1, entries[p - 1]) for place, p in enumerate(positions, 1)]
    if isinstance(rule, Lottery):
        if key is None or len(key) != 32:
            raise ValueError("a lottery needs the 32-byte draw key")
        order = lottery_order(rule.count, key, _ids(entries))
        return [
            _winner(place, i, entries[i], ticket=t.hex()) for place, (t, i) in enumerate(order, 1)
        ]
    if isinstance(rule, TopScore):
        values = _values(entries, "score")
        return [
            _winner(place, i, entries[i], score=canonical_score(values[i]))
            for place, i in enumerate(top_order(rule.count, values), 1)
        ]
    if isinstance(rule, TopLikes):
        values = _values(entries, "likes")
        return [
            _winner(place, i, entries[i], likes=values[i])
            for place, i in enumerate(top_order(rule.count, values), 1)
        ]
    raise TypeError(f"not a rule: {rule!r}")
