"""Winners who give up their prize after the reveal, and the draw that replaces them.

A revealed draw is never drawn again. When winners withdraw, a *new* draw replaces it: it
names the revealed draw and its key, the withdrawn winners and why, and the entries it must
leave out (every winner of the replaced draw, those keeping their prize included, and every
entry an earlier replacement already left out). Its rule is the same kind as the replaced
draw's and draws as many winners as withdrew; its frozen list is the replaced draw's list
without the excluded entries, in the same order, so top-N rules take the next best and a
lottery draws among those who did not win. Fixed ranks have no replacement.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from app.draws.errors import DrawError
from app.draws.keys import is_hex64
from app.draws.rules import FixedRanks, Rule

MAX_ID = 2**63 - 1
WITHDRAWAL_FIELDS = ("draw_id", "key", "withdrawn_entry_ids", "excluded_entry_ids", "reason")
#: version 3 adds who withdrew the winners: the winners themselves, or staff (with the reason)
WITHDRAWAL_FIELDS_V3 = (*WITHDRAWAL_FIELDS, "withdrawn_by")
WITHDRAWN_BY = ("winner", "staff")


@dataclass(frozen=True)
class Withdrawal:
    """`draw_id`/`key`: the revealed draw the withdrawn winners won (its key pins the exact
    result); `withdrawn` and `excluded`: entry ids, ascending, withdrawn within excluded."""

    draw_id: int
    key: str
    withdrawn: tuple[int, ...]
    excluded: tuple[int, ...]
    reason: str
    by: str | None = None  # version 3: "winner" or "staff"; None in version 2

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "draw_id": self.draw_id,
            "key": self.key,
            "withdrawn_entry_ids": list(self.withdrawn),
            "excluded_entry_ids": list(self.excluded),
            "reason": self.reason,
        }
        if self.by is not None:
            data["withdrawn_by"] = self.by
        return data


def _withdrawn_ids(draw_id: int, withdrawn: Iterable[int], winners: Collection[int]) -> list[int]:
    ids: list[int] = []
    for entry_id in withdrawn:
        if entry_id in ids:
            raise DrawError("replace.withdrawn_twice", entry_id=entry_id)
        if entry_id not in winners:
            raise DrawError("replace.not_a_winner", entry_id=entry_id, draw_id=draw_id)
        ids.append(entry_id)
    if not ids:
        raise DrawError("replace.withdrawn_required", draw_id=draw_id)
    return ids


def make_withdrawal(
    *,
    draw_id: int,
    key: str,
    rule: Rule,
    winners: Collection[int],
    earlier: Withdrawal | None,
    withdrawn: Iterable[int],
    reason: str | None,
) -> Withdrawal:
    """The withdrawal of `withdrawn` (entry ids among `winners`) from revealed draw `draw_id`;
    `earlier` is that draw's own withdrawal if it was a replacement too."""
    if isinstance(rule, FixedRanks):
        raise DrawError("replace.fixed_ranks", draw_id=draw_id)
    ids = _withdrawn_ids(draw_id, withdrawn, winners)
    text = (reason or "").strip()
    if not text:
        raise DrawError("replace.reason_required")
    excluded = set(winners) | set(earlier.excluded if earlier else ())
    return Withdrawal(draw_id, key, tuple(sorted(ids)), tuple(sorted(excluded)), text)


def rule_fits(rule: Rule, replaced_kind: str, withdrawal: Withdrawal) -> bool:
    """Same kind as the replaced draw, not fixed ranks, as many winners as withdrew."""
    count = getattr(rule, "count", None)
    return (
        not isinstance(rule, FixedRanks)
        and rule.kind == replaced_kind
        and count == len(withdrawal.withdrawn)
    )


def check_rule(rule: Rule, replaced_kind: str, withdrawal: Withdrawal) -> None:
    if not rule_fits(rule, replaced_kind, withdrawal):
        raise DrawError(
            "replace.rule_mismatch", count=len(withdrawal.withdrawn),
            draw_id=withdrawal.draw_id, kind=replaced_kind,
        )  # fmt: skip


def check_entries_allowed(entry_ids: Iterable[int], withdrawal: Withdrawal) -> None:
    """Refuse a list that holds an excluded entry (a winner of the replaced draw)."""
    excluded = set(withdrawal.excluded)
    for entry_id in entry_ids:
        if entry_id in excluded:
            raise DrawError("freeze.excluded_entry", entry_id=entry_id, draw_id=withdrawal.draw_id)


def without_entries(frozen_list: str, excluded: Collection[int]) -> str:
    """The canonical list text without the lines of `excluded` entry ids (same order)."""
    drop = {str(entry_id) for entry_id in excluded}
    *lines, tail = frozen_list.split("\n")  # only LF ends a line (names may hold U+2028)
    return "".join(f"{line}\n" for line in lines if line.split("\t", 1)[0] not in drop) + tail


def first_line_in(entry_ids: Iterable[int], excluded: Collection[int]) -> tuple[int, int] | None:
    """(1-based line, entry id) of the first listed entry that is excluded, or None."""
    drop = set(excluded)
    for line, entry_id in enumerate(entry_ids, 1):
        if entry_id in drop:
            return line, entry_id
    return None


# --- the record's `withdrawal` object ------------------------------------------------------


def _id_list(value: object, *, nonempty: bool) -> tuple[int, ...] | None:
    """Strictly ascending entry ids (0 .. 2**63-1), or None if `value` is not that."""
    if not isinstance(value, list) or (nonempty and not value):
        return None
    if not all(type(v) is int and 0 <= v <= MAX_ID for v in value):
        return None
    if any(a >= b for a, b in pairwise(value)):
        return None
    return tuple(value)


def withdrawal_from_json(data: object, version: int = 2) -> Withdrawal:
    """Parse a record's `withdrawal` object exactly; raises DrawError (record.invalid)."""
    fields = WITHDRAWAL_FIELDS_V3 if version >= 3 else WITHDRAWAL_FIELDS
    if not isinstance(data, Mapping) or sorted(data) != sorted(fields):
        raise DrawError("record.invalid", detail=f"withdrawal has exactly {fields}")
    by = data.get("withdrawn_by")
    if version >= 3 and by not in WITHDRAWN_BY:
        raise DrawError("record.invalid", detail="withdrawn_by is winner or staff")
    withdrawn = _id_list(data["withdrawn_entry_ids"], nonempty=True)
    excluded = _id_list(data["excluded_entry_ids"], nonempty=True)
    draw_id, key, reason = data["draw_id"], data["key"], data["reason"]
    problems = [
        type(draw_id) is not int or draw_id < 1,
        not is_hex64(key),
        withdrawn is None or excluded is None or not set(withdrawn) <= set(excluded),
        not isinstance(reason, str) or not reason.strip(),
    ]
    if any(problems):
        raise DrawError("record.invalid", detail="bad withdrawal")
    assert withdrawn is not None and excluded is not None
    return Withdrawal(draw_id, key, withdrawn, excluded, reason, by)
