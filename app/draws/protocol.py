"""The draw's life as pure state transitions: commit -> freeze -> reveal, or abort.

Each step takes a `DrawRecord` and returns a new one, or raises `DrawError` (nothing else is
changed). The record never holds the secret seed before reveal or abort: the caller keeps
the seed (e.g. in its database) and hands it to `reveal`/`abort`.

Times are compared and published at whole seconds, UTC (`format_time`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from app.draws.algorithm import Winner, pick_winners
from app.draws.entries import Entry, FrozenList, decode_entries, freeze_entries, utf8
from app.draws.errors import DrawError
from app.draws.keys import check_seed, check_seed_v3, commitment_of, derive_key
from app.draws.rules import FixedRanks, Lottery, Rule, rule_from_json
from app.draws.withdrawal import (
    Withdrawal,
    check_entries_allowed,
    check_rule,
    make_withdrawal,
    without_entries,
)

Status = Literal["committed", "frozen", "revealed", "aborted"]
STATUSES: tuple[Status, ...] = ("committed", "frozen", "revealed", "aborted")
MAX_PUBLIC_VALUE = 1000
_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def to_second(moment: datetime) -> datetime:
    """UTC, truncated to the second; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DrawError("time.naive")
    return moment.astimezone(UTC).replace(microsecond=0)


def format_time(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`, the only time format of records."""
    return to_second(moment).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    if not isinstance(text, str) or not _TIME_RE.fullmatch(text):
        raise DrawError("time.malformed", value=str(text)[:40])
    try:
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError as exc:
        raise DrawError("time.malformed", value=text) from exc


@dataclass(frozen=True)
class DrawRecord:
    """Everything public about one draw; `to_json` (in `app.draws.record`) publishes it."""

    draw_id: int
    course: str
    assignment: str
    rule: Rule
    commitment: str
    committed_at: datetime
    freeze_at: datetime
    eligibility: str = ""
    prize: str = ""
    replaces_draw_id: int | None = None
    status: Status = "committed"
    frozen_at: datetime | None = None
    early_freeze_reason: str | None = None
    public_value_source: str | None = None
    frozen_list: str | None = None
    list_hash: str | None = None
    entry_count: int | None = None
    revealed_at: datetime | None = None
    public_value: str | None = None
    seed: str | None = None
    key: str | None = None
    winners: tuple[Winner, ...] = ()
    aborted_at: datetime | None = None
    abort_reason: str | None = None
    withdrawal: Withdrawal | None = None
    # record version 3 (docs/draws.md §11); version 0 = a version 1/2 record
    version: int = 0
    deadline: datetime | None = None
    late: bool = False
    criteria: Mapping[str, Any] | None = None
    beacon_round: int | None = None
    metadata_hash: str | None = None
    excluded_list: str | None = None
    excluded_hash: str | None = None
    excluded_count: int | None = None
    beacon_signature: str | None = None
    audit_head: Mapping[str, Any] | None = None
    signature: Mapping[str, Any] | None = None

    @property
    def frozen_early(self) -> bool:
        return self.frozen_at is not None and self.frozen_at < self.freeze_at


def _require_status(draw: DrawRecord, *expected: Status) -> None:
    if draw.status not in expected:
        raise DrawError("state.wrong_status", expected="/".join(expected), status=draw.status)


def _text(value: str | None) -> str | None:
    """Strip; blank means absent."""
    return (value or "").strip() or None


def check_commit_order(committed: datetime, freezing: datetime) -> None:
    """The announced freeze time lies after the commit."""
    if freezing <= committed:
        raise DrawError(
            "commit.freeze_before_commit",
            freeze_at=format_time(freezing), committed_at=format_time(committed),
        )  # fmt: skip


def withdrawal_for(
    replaces: DrawRecord | None,
    course: str,
    assignment: str,
    rule: Rule,
    withdrawn: Iterable[int],
    reason: str | None,
) -> Withdrawal | None:
    """The withdrawal a new draw carries (see `check_replaceable`), its rule checked against it;
    None for a draw that replaces nothing."""
    withdrawn = list(withdrawn)
    if replaces is None:
        if withdrawn:
            raise ValueError("withdrawn winners need the draw they won (replaces)")
        return None
    withdrawal = check_replaceable(replaces, course, assignment, withdrawn, reason)
    if withdrawal is not None:
        check_rule(rule, replaces.rule.kind, withdrawal)
    return withdrawal


def freeze_moment(
    draw: DrawRecord, frozen_at: datetime, early_freeze_reason: str | None
) -> tuple[datetime, str | None]:
    """The freeze time and early-freeze reason, checked: a committed draw, not before its
    commit, and before the announced time only with a reason."""
    _require_status(draw, "committed")
    frozen = to_second(frozen_at)
    if frozen < draw.committed_at:
        raise DrawError("freeze.before_commit")
    reason = _text(early_freeze_reason)
    if frozen < draw.freeze_at and reason is None:
        raise DrawError("freeze.early_needs_reason", freeze_at=format_time(draw.freeze_at))
    return frozen, reason


def frozen_entries(draw: DrawRecord, entries: Sequence[Entry]) -> FrozenList:
    """The canonical list; a replacement's entries must leave out what its withdrawal excludes."""
    if draw.withdrawal is not None:
        check_entries_allowed((entry.entry_id for entry in entries), draw.withdrawal)
    return freeze_entries(entries, draw.rule)


def reveal_moment(draw: DrawRecord, revealed_at: datetime) -> datetime:
    revealed = to_second(revealed_at)
    assert draw.frozen_at is not None
    if revealed < draw.frozen_at:
        raise DrawError("reveal.before_freeze")
    return revealed


def drawn(draw: DrawRecord, key: bytes) -> tuple[Winner, ...]:
    """The winners, picked from the frozen list text itself."""
    assert draw.frozen_list is not None
    return tuple(pick_winners(draw.rule, decode_entries(draw.frozen_list, draw.rule), key))


def check_replaceable(
    old: DrawRecord,
    course: str,
    assignment: str,
    withdrawn: Iterable[int] = (),
    reason: str | None = None,
) -> Withdrawal | None:
    """Whether a new draw for `course`/`assignment` may replace `old`, and the withdrawal it
    carries: an aborted draw is replaced as it was (a withdrawal it carried goes on); a
    revealed one only for `withdrawn` winners, with a `reason`. Raises DrawError."""
    if (old.course, old.assignment) != (course, assignment):
        raise DrawError("replace.other_assignment", draw_id=old.draw_id)
    withdrawn = list(withdrawn)
    if old.status == "aborted":
        if withdrawn:
            raise DrawError("replace.withdrawn_on_aborted", draw_id=old.draw_id)
        return old.withdrawal
    if old.status != "revealed":
        raise DrawError("replace.not_aborted", draw_id=old.draw_id, status=old.status)
    assert old.key is not None
    return make_withdrawal(
        draw_id=old.draw_id, key=old.key, rule=old.rule, earlier=old.withdrawal,
        winners=[winner.entry_id for winner in old.winners], withdrawn=withdrawn, reason=reason,
    )  # fmt: skip


def replacement_rule(replaced: DrawRecord, withdrawn: int) -> Rule:
    """The rule of a draw replacing `withdrawn` winners of `replaced`: same kind, that many."""
    if isinstance(replaced.rule, FixedRanks):
        raise DrawError("replace.fixed_ranks", draw_id=replaced.draw_id)
    return rule_from_json({"kind": replaced.rule.kind, "count": withdrawn})


def replacement_entries(replaced: DrawRecord, withdrawal: Withdrawal) -> list[Entry]:
    """The entries of a replacement: the replaced draw's frozen list without the excluded
    entries, in the same order (the same rule kind reads it)."""
    if replaced.frozen_list is None:
        raise DrawError("state.wrong_status", expected="revealed", status=replaced.status)
    text = without_entries(replaced.frozen_list, withdrawal.excluded)
    return list(decode_entries(text, replaced.rule))


def commit(
    *,
    draw_id: int,
    course: str,
    assignment: str,
    rule: Rule,
    seed: str,
    committed_at: datetime,
    freeze_at: datetime,
    eligibility: str = "",
    prize: str = "",
    replaces: DrawRecord | None = None,
    withdrawn: Iterable[int] = (),
    withdrawal_reason: str | None = None,
) -> DrawRecord:
    """Publish the rule, the announced freeze time and SHA-256(seed); keep `seed` secret.

    `replaces`: an aborted draw, or a revealed one whose `withdrawn` winners (entry ids) gave
    up their prize for `withdrawal_reason`; then `rule` must be of the replaced draw's kind
    and draw as many winners as withdrew (see `app.draws.withdrawal`)."""
    committed, freezing = to_second(committed_at), to_second(freeze_at)
    check_commit_order(committed, freezing)
    withdrawal = withdrawal_for(replaces, course, assignment, rule, withdrawn, withdrawal_reason)
    return DrawRecord(
        draw_id=draw_id,
        course=course,
        assignment=assignment,
        rule=rule,
        commitment=commitment_of(seed),
        committed_at=committed,
        freeze_at=freezing,
        eligibility=eligibility,
        prize=prize,
        replaces_draw_id=None if replaces is None else replaces.draw_id,
        withdrawal=withdrawal,
    )


def freeze(
    draw: DrawRecord,
    entries: Sequence[Entry],
    *,
    frozen_at: datetime,
    early_freeze_reason: str | None = None,
    public_value_source: str | None = None,
) -> DrawRecord:
    """Publish the canonical list and its hash. Freezing before the announced time needs a
    reason, and (for a lottery) a public value at reveal; `public_value_source` announces
    where that value will come from (e.g. "the first NIST beacon pulse after 12:00 UTC")."""
    frozen, reason = freeze_moment(draw, frozen_at, early_freeze_reason)
    frozen_list = frozen_entries(draw, entries)
    return replace(
        draw,
        status="frozen",
        frozen_at=frozen,
        early_freeze_reason=reason,
        public_value_source=_text(public_value_source),
        frozen_list=frozen_list.text,
        list_hash=frozen_list.list_hash,
        entry_count=frozen_list.count,
    )


def public_value_required(
    rule: Rule,
    freeze_at: datetime,
    frozen_at: datetime,
    public_value_source: str | None = None,
    replacement: bool = False,
) -> bool:
    """A lottery needs a public value if it was frozen before the announced freeze time (the
    admin, who knows the seed, chose the moment), if a source was announced at freeze, or if
    it replaces withdrawn winners (its list was known before the commit)."""
    if not isinstance(rule, Lottery):
        return False
    early = to_second(frozen_at) < to_second(freeze_at)
    return early or bool(_text(public_value_source)) or replacement


def valid_public_value(value: object) -> bool:
    """1 to MAX_PUBLIC_VALUE characters of valid Unicode."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_PUBLIC_VALUE:
        return False
    try:
        utf8(value)
    except ValueError:
        return False
    return True


def check_public_value(draw: DrawRecord, public_value: str | None) -> str | None:
    """Normalize the public value (stripped; blank = none) and enforce when it is required."""
    value = _text(public_value)
    if value is not None and not valid_public_value(value):
        raise DrawError("public_value.invalid", limit=MAX_PUBLIC_VALUE)
    assert draw.frozen_at is not None
    if value is None and public_value_required(
        draw.rule, draw.freeze_at, draw.frozen_at, draw.public_value_source,
        replacement=draw.withdrawal is not None,
    ):  # fmt: skip
        if draw.withdrawal is not None:
            raise DrawError("reveal.public_value_replacement", draw_id=draw.withdrawal.draw_id)
        if draw.public_value_source:
            raise DrawError("reveal.public_value_announced", source=draw.public_value_source)
        raise DrawError(
            "reveal.public_value_required",
            frozen_at=format_time(draw.frozen_at),
            freeze_at=format_time(draw.freeze_at),
        )
    return value


def reveal(
    draw: DrawRecord, *, seed: str, revealed_at: datetime, public_value: str | None = None
) -> DrawRecord:
    """Check the seed against the commitment (a wrong seed is refused), derive the key and
    pick the winners from the frozen list text itself."""
    _require_status(draw, "frozen")
    assert draw.list_hash is not None
    seed = check_seed(seed, draw.commitment)
    revealed = reveal_moment(draw, revealed_at)
    value = check_public_value(draw, public_value)
    key = derive_key(draw.draw_id, draw.list_hash, value, seed)
    return replace(
        draw, status="revealed", revealed_at=revealed, public_value=value, seed=seed, key=key.hex(),
        winners=drawn(draw, key),
    )  # fmt: skip


def abort(draw: DrawRecord, *, reason: str, seed: str, aborted_at: datetime) -> DrawRecord:
    """Stop a draw before reveal; it stays public with its reason, and the seed is published
    so that anyone can check what the aborted draw would have been."""
    _require_status(draw, "committed", "frozen")
    text = _text(reason)
    if text is None:
        raise DrawError("abort.reason_required")
    if draw.version == 3:
        assert draw.metadata_hash is not None
        seed = check_seed_v3(seed, draw.metadata_hash, draw.commitment)
    else:
        seed = check_seed(seed, draw.commitment)
    aborted = to_second(aborted_at)
    if aborted < (draw.frozen_at or draw.committed_at):
        raise DrawError("abort.too_early")
    if draw.version == 3 and draw.beacon_round is not None:
        from app.draws.beacon import round_time

        if aborted >= round_time(draw.beacon_round):  # the outcome is known: reveal it instead
            raise DrawError("abort.after_beacon", round=draw.beacon_round)
    return replace(draw, status="aborted", abort_reason=text, seed=seed, aborted_at=aborted)
