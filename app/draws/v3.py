"""Record version 3: draws that even the operator cannot steer (docs/draws.md §11).

Differences from versions 1 and 2:

- A lottery names at commit a future round of the drand quicknet beacon (`app.draws.beacon`):
  the first round at or after `freeze_at` + 10 minutes. The list must be frozen before that
  round is published, and the reveal takes that round's BLS signature, which nobody at Camp
  can compute or choose; the key uses SHA-256 of it. There is no free-text public value.
- Everything published at commit (course, assignment, prize, eligibility text, rule, the
  eligibility criteria as data, deadline, times, beacon round, late flag, replacement) is
  hashed into `metadata_hash`, and the commitment is SHA-256 over seed *and* that hash.
- Timing: commit before the homework's deadline and `freeze_at` at or after it, unless the
  draw is declared `late`.
- The excluded replies are part of the frozen data (`excluded_list`, `app.draws.exclusions`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from app.draws import beacon
from app.draws.entries import Entry
from app.draws.errors import DrawError
from app.draws.exclusions import Excluded, encode_excluded, excluded_hash, valid_code
from app.draws.keys import check_seed_v3, commitment_v3, derive_key_v3
from app.draws.protocol import (
    DrawRecord,
    _require_status,
    _text,
    check_commit_order,
    drawn,
    format_time,
    freeze_moment,
    frozen_entries,
    reveal_moment,
    to_second,
    withdrawal_for,
)
from app.draws.rules import Lottery, Rule

SPEC = "camp-draw-v3"
MAX_CRITERIA = 32


def canonical_json(value: object) -> bytes:
    """Sorted keys, no spaces, UTF-8 (non-ASCII written as itself); no floats are allowed."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def check_criteria(criteria: Mapping[str, Any]) -> dict[str, Any]:
    """The eligibility parameters as data: names are reason-code-like, values are strings,
    integers, booleans or null (a decimal is written as its text, e.g. "0.5")."""
    if not isinstance(criteria, Mapping) or len(criteria) > MAX_CRITERIA:
        raise DrawError("rule.invalid", detail="criteria is an object of at most 32 names")
    for name, value in criteria.items():
        if not valid_code(name):
            raise DrawError("rule.invalid", detail=f"criteria name {name!r}")
        if value is not None and type(value) not in (str, int, bool):
            raise DrawError("rule.invalid", detail=f"criteria {name} is not text, integer or boolean")
    return dict(sorted(criteria.items()))


def metadata(draw: DrawRecord) -> dict[str, Any]:
    """Everything fixed at commit, as the object whose canonical JSON is hashed."""
    assert draw.deadline is not None
    return {
        "spec": SPEC,
        "draw_id": draw.draw_id,
        "course": draw.course,
        "assignment": draw.assignment,
        "prize": draw.prize,
        "eligibility": draw.eligibility,
        "rule": draw.rule.to_json(),
        "criteria": dict(draw.criteria or {}),
        "late": draw.late,
        "replaces_draw_id": draw.replaces_draw_id,
        "withdrawal": None if draw.withdrawal is None else draw.withdrawal.to_json(),
        "deadline": format_time(draw.deadline),
        "committed_at": format_time(draw.committed_at),
        "freeze_at": format_time(draw.freeze_at),
        "beacon": None if draw.beacon_round is None else beacon.beacon_json(draw.beacon_round),
    }


def metadata_hash(draw: DrawRecord) -> str:
    return hashlib.sha256(canonical_json(metadata(draw))).hexdigest()


def needs_beacon(rule: Rule) -> bool:
    """Only a lottery uses randomness; the other rules are decided by the list alone."""
    return isinstance(rule, Lottery)


def check_timing(committed: datetime, deadline: datetime, freeze_at: datetime, late: bool) -> None:
    """Commit before the deadline, `freeze_at` at or after it; a declared late draw may be
    committed after the deadline (its beacon round still lies after the commit)."""
    check_commit_order(committed, freeze_at)
    if freeze_at < deadline:
        raise DrawError(
            "commit.freeze_before_deadline",
            freeze_at=format_time(freeze_at), deadline=format_time(deadline),
        )  # fmt: skip
    if committed >= deadline and not late:
        raise DrawError(
            "commit.after_deadline",
            committed_at=format_time(committed), deadline=format_time(deadline),
        )  # fmt: skip


def commit(
    *,
    draw_id: int,
    course: str,
    assignment: str,
    rule: Rule,
    seed: str,
    committed_at: datetime,
    freeze_at: datetime,
    deadline: datetime,
    criteria: Mapping[str, Any] | None = None,
    late: bool = False,
    eligibility: str = "",
    prize: str = "",
    replaces: DrawRecord | None = None,
    withdrawn: Iterable[int] = (),
    withdrawal_reason: str | None = None,
    withdrawn_by: str = "staff",
) -> DrawRecord:
    """Commit a version 3 draw: the beacon round (lottery), the metadata hash and the
    commitment over seed and metadata. `withdrawn_by`: "winner" when the withdrawn winners
    gave up the prize from their own accounts, "staff" when staff recorded it."""
    committed, freezing, due = to_second(committed_at), to_second(freeze_at), to_second(deadline)
    check_timing(committed, due, freezing, late)
    withdrawal = withdrawal_for(replaces, course, assignment, rule, withdrawn, withdrawal_reason)
    if replaces is not None and withdrawal is not None:
        if replaces.status == "revealed":
            withdrawal = replace(withdrawal, by=withdrawn_by)
        elif withdrawal.by is None:
            withdrawal = replace(withdrawal, by="staff")
    draw = DrawRecord(
        draw_id=draw_id, course=course, assignment=assignment, rule=rule, commitment="",
        committed_at=committed, freeze_at=freezing, eligibility=eligibility, prize=prize,
        replaces_draw_id=None if replaces is None else replaces.draw_id, withdrawal=withdrawal,
        version=3, deadline=due, late=late, criteria=check_criteria(criteria or {}),
        beacon_round=beacon.draw_round(freezing) if needs_beacon(rule) else None,
    )  # fmt: skip
    digest = metadata_hash(draw)
    return replace(draw, metadata_hash=digest, commitment=commitment_v3(seed, digest))


def freeze(
    draw: DrawRecord,
    entries: Sequence[Entry],
    excluded: Iterable[Excluded],
    *,
    frozen_at: datetime,
    early_freeze_reason: str | None = None,
) -> DrawRecord:
    """Publish the entries and the excluded replies; a lottery must be frozen before its
    beacon round exists (after it, whoever freezes could know the outcome)."""
    frozen, reason = freeze_moment(draw, frozen_at, early_freeze_reason)
    if draw.beacon_round is not None and frozen >= beacon.round_time(draw.beacon_round):
        raise DrawError(
            "freeze.after_beacon", round=draw.beacon_round,
            round_at=format_time(beacon.round_time(draw.beacon_round)),
        )  # fmt: skip
    frozen_list = frozen_entries(draw, entries)
    excluded = list(excluded)
    excluded_text = encode_excluded(excluded)
    check_disjoint(entries, excluded)
    return replace(
        draw, status="frozen", frozen_at=frozen, early_freeze_reason=reason,
        frozen_list=frozen_list.text, list_hash=frozen_list.list_hash,
        entry_count=frozen_list.count, excluded_list=excluded_text,
        excluded_hash=excluded_hash(excluded_text), excluded_count=excluded_text.count("\n"),
    )  # fmt: skip


def check_disjoint(entries: Sequence[Entry], excluded: Sequence[Excluded]) -> None:
    """No submission is both an entry and excluded, and no floor appears twice."""
    ids = {entry.entry_id for entry in entries}
    for row in excluded:
        if row.submission_id in ids:
            raise DrawError("excluded.invalid", detail=f"submission {row.submission_id} is an entry")
    floors = [entry.floor for entry in entries]
    floors += [row.floor for row in excluded]
    if len(set(floors)) != len(floors):
        seen: set[int] = set()
        floor = next(f for f in floors if f in seen or seen.add(f))  # type: ignore[func-returns-value]
        raise DrawError("excluded.invalid", detail=f"floor {floor} appears twice")


def randomness_of(draw: DrawRecord, signature: str | None) -> bytes:
    return b"" if signature is None else beacon.randomness(signature)


def derive_key(draw: DrawRecord, seed: str, signature: str | None) -> bytes:
    assert draw.metadata_hash and draw.list_hash and draw.excluded_hash is not None
    return derive_key_v3(
        draw.metadata_hash, draw.list_hash, draw.excluded_hash, randomness_of(draw, signature), seed
    )


def reveal(
    draw: DrawRecord,
    *,
    seed: str,
    revealed_at: datetime,
    beacon_signature: str | None = None,
    verify_signature: bool = True,
) -> DrawRecord:
    """A lottery takes the signature of its committed beacon round (any other value is refused:
    it does not verify for that round); the other rules take none."""
    _require_status(draw, "frozen")
    assert draw.metadata_hash
    seed = check_seed_v3(seed, draw.metadata_hash, draw.commitment)
    revealed = reveal_moment(draw, revealed_at)
    signature = _text(beacon_signature)
    if draw.beacon_round is None:
        if signature is not None:
            raise DrawError("reveal.beacon_unused", kind=draw.rule.kind)
    else:
        published = beacon.round_time(draw.beacon_round)
        if revealed < published:
            raise DrawError("reveal.beacon_not_yet", round=draw.beacon_round,
                            round_at=format_time(published))
        if signature is None:
            raise DrawError("reveal.beacon_required", round=draw.beacon_round)
        signature = signature.lower()
        if verify_signature and not beacon.verify_round(draw.beacon_round, signature):
            raise DrawError("reveal.beacon_invalid", round=draw.beacon_round)
    key = derive_key(draw, seed, signature)
    return replace(
        draw, status="revealed", revealed_at=revealed, beacon_signature=signature, seed=seed,
        key=key.hex(), winners=drawn(draw, key),
    )  # fmt: skip


def with_audit_head(draw: DrawRecord, head: Mapping[str, Any] | None) -> DrawRecord:
    """The audit chain head at the reveal (or abort): {"seq": n, "hash": hex}."""
    return replace(draw, audit_head=None if head is None else dict(head))
