"""Reward rules: which entries of a frozen list win.

JSON forms (the `rule` object of a record)::

    {"kind": "fixed_ranks", "ranks": "1-3,6,66+100n<=666"}
    {"kind": "lottery", "count": 5}
    {"kind": "top_score", "count": 10}
    {"kind": "top_likes", "count": 5}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from app.draws.errors import DrawError
from app.draws.ranks import RankSpec, parse_ranks

MAX_COUNT = 1_000_000
ValueField = Literal["score", "likes"]


@dataclass(frozen=True)
class FixedRanks:
    """The entries at the given 1-based positions of the frozen list; needs no randomness."""

    ranks: RankSpec
    kind: ClassVar[str] = "fixed_ranks"
    value_field: ClassVar[ValueField | None] = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "ranks": self.ranks.canonical}


@dataclass(frozen=True)
class Lottery:
    """`count` entries with the smallest tickets (see `app.draws.keys.ticket`)."""

    count: int
    kind: ClassVar[str] = "lottery"
    value_field: ClassVar[ValueField | None] = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count}


@dataclass(frozen=True)
class TopScore:
    """The `count` highest scores; equal scores go to the earlier entry."""

    count: int
    kind: ClassVar[str] = "top_score"
    value_field: ClassVar[ValueField | None] = "score"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count}


@dataclass(frozen=True)
class TopLikes:
    """The `count` most liked entries; equal likes go to the earlier entry."""

    count: int
    kind: ClassVar[str] = "top_likes"
    value_field: ClassVar[ValueField | None] = "likes"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count}


Rule = FixedRanks | Lottery | TopScore | TopLikes
_COUNTED: dict[str, type[Lottery] | type[TopScore] | type[TopLikes]] = {
    "lottery": Lottery,
    "top_score": TopScore,
    "top_likes": TopLikes,
}


def _count(data: Mapping[str, Any]) -> int:
    count = data.get("count")
    if type(count) is not int or not 1 <= count <= MAX_COUNT:
        raise DrawError("rule.invalid", detail=f"count must be an integer from 1 to {MAX_COUNT}")
    return count


def rule_from_json(data: Mapping[str, Any]) -> Rule:
    """Build a rule from its JSON form; other keys are ignored. Raises `DrawError`."""
    if not isinstance(data, Mapping):
        raise DrawError("rule.invalid", detail="a rule is a JSON object")
    kind = data.get("kind")
    if kind == "fixed_ranks":
        ranks = data.get("ranks")
        if not isinstance(ranks, str):
            raise DrawError("rule.invalid", detail="fixed_ranks needs a 'ranks' expression")
        return FixedRanks(parse_ranks(ranks))
    if isinstance(kind, str) and kind in _COUNTED:
        return _COUNTED[kind](_count(data))
    raise DrawError("rule.unknown_kind", kind=str(kind))

