"""The public record, version 3: writing, reading and verifying (docs/draws.md §11).

Ten checks, in order: format, metadata, commitment, list_hash, protocol, beacon, key, winners,
replacement, signature. `verify_record` in `app.draws.record` sends version 3 records here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.draws import beacon
from app.draws.entries import EntryTable
from app.draws.errors import DrawError
from app.draws.exclusions import Excluded, decode_excluded, encode_excluded, excluded_hash
from app.draws.keys import commitment_v3, is_hex64
from app.draws.protocol import DrawRecord, format_time
from app.draws.record import (
    VALUE_CHECKS,
    Check,
    VerifyResult,
    _check_key,
    _check_list,
    _check_replacement,
    _check_winners,
    _fail,
    _invalid,
    _is_int,
    _optional,
    _pass,
    _skip,
    _text,
    check_commitment,
    common_json,
    early_reason,
    order_and_identity,
    read_fields,
    unreadable,
    winner_from_json,
)
from app.draws.rules import rule_from_json
from app.draws.v3 import check_criteria, derive_key, metadata_hash, needs_beacon
from app.draws.withdrawal import withdrawal_from_json

VERSION = 3
FIELDS_V3 = (
    "format", "version", "draw_id", "course", "assignment", "prize", "rule", "criteria",
    "eligibility", "status", "late", "replaces_draw_id", "withdrawal", "deadline",
    "committed_at", "freeze_at", "beacon", "metadata_hash", "commitment", "frozen_at",
    "early_freeze_reason", "entry_count", "list_hash", "excluded_count", "excluded_hash",
    "revealed_at", "beacon_signature", "seed", "key", "winners", "aborted_at", "abort_reason",
    "audit_head", "signature", "frozen_list", "excluded_list",
)  # fmt: skip
CHECKS_V3 = (
    "format", "metadata", "commitment", "list_hash", "protocol", "beacon", "key", "winners",
    "replacement", "signature",
)  # fmt: skip
TIME_FIELDS_V3 = ("deadline", "committed_at", "freeze_at", "frozen_at", "revealed_at", "aborted_at")
FREEZE_FIELDS_V3 = (
    "frozen_at", "entry_count", "list_hash", "frozen_list", "excluded_count", "excluded_hash",
    "excluded_list",
)  # fmt: skip


def record_to_json_v3(draw: DrawRecord) -> dict[str, Any]:
    """The version 3 record, keys in FIELDS_V3 order; the seed only once revealed or aborted."""
    data = common_json(draw, TIME_FIELDS_V3)
    data.update({
        "version": VERSION,
        "criteria": dict(draw.criteria or {}),
        "late": draw.late,
        "beacon": None if draw.beacon_round is None else beacon.beacon_json(draw.beacon_round),
        "metadata_hash": draw.metadata_hash,
        "excluded_count": draw.excluded_count,
        "excluded_hash": draw.excluded_hash,
        "beacon_signature": draw.beacon_signature,
        "audit_head": None if draw.audit_head is None else dict(draw.audit_head),
        "signature": None if draw.signature is None else dict(draw.signature),
        "excluded_list": draw.excluded_list,
    })
    return {name: data[name] for name in FIELDS_V3}


# --- reading -------------------------------------------------------------------------------


def _is_beacon(value: object) -> bool:
    if not isinstance(value, Mapping) or sorted(value) != ["chain_hash", "network", "round"]:
        return False
    return (
        value["network"] == beacon.NETWORK
        and value["chain_hash"] == beacon.CHAIN_HASH
        and _is_int(value["round"], 1) and value["round"] <= beacon.MAX_ROUND
    )  # fmt: skip


def _is_audit_head(value: object) -> bool:
    return (
        isinstance(value, Mapping) and sorted(value) == ["hash", "seq"]
        and _is_int(value["seq"], 1) and is_hex64(value["hash"])
    )  # fmt: skip


def _is_signature(value: object) -> bool:
    if not isinstance(value, Mapping) or sorted(value) != ["alg", "public_key", "value"]:
        return False
    key, sig = value["public_key"], value["value"]
    hexchars = set("0123456789abcdef")
    return (
        value["alg"] == "ed25519"
        and isinstance(key, str) and len(key) == 64 and set(key) <= hexchars
        and isinstance(sig, str) and len(sig) == 128 and set(sig) <= hexchars
    )  # fmt: skip


#: version 3's own fields; the others are checked as in every version (`VALUE_CHECKS`)
_CHECKS: dict[str, Callable[[object], bool]] = {
    **VALUE_CHECKS,
    "late": lambda v: type(v) is bool,
    "beacon": _optional(_is_beacon),
    "metadata_hash": is_hex64,
    "excluded_count": _optional(_is_int),
    "excluded_hash": _optional(is_hex64),
    "beacon_signature": _optional(beacon.is_signature_text),
    "audit_head": _optional(_is_audit_head),
    "signature": _optional(_is_signature),
    "excluded_list": _optional(_text),
}


def _check_status_fields(data: Mapping[str, Any]) -> None:
    status = data["status"]
    frozen = [data[name] is not None for name in FREEZE_FIELDS_V3]
    if any(frozen) and not all(frozen):
        raise _invalid(f"{', '.join(FREEZE_FIELDS_V3)} are set together")
    revealed, aborted = status == "revealed", status == "aborted"
    must = {
        "seed": revealed or aborted,
        "revealed_at": revealed,
        "key": revealed,
        "aborted_at": aborted,
        "abort_reason": aborted,
    }
    if not aborted:
        must["frozen_at"] = status in ("frozen", "revealed")
    for name, present in must.items():
        if (data[name] is not None) != present:
            raise _invalid(f"{name} must {'' if present else 'not '}be set when {status}")
    if aborted and not data["abort_reason"].strip():
        raise _invalid("abort_reason is blank")
    lottery_revealed = revealed and data["beacon"] is not None
    if (data["beacon_signature"] is not None) != lottery_revealed:
        raise _invalid("beacon_signature is set exactly when a draw with a beacon is revealed")
    if data["frozen_at"] is None and data["early_freeze_reason"] is not None:
        raise _invalid("early_freeze_reason comes with the freeze")
    if data["winners"] and not revealed:
        raise _invalid("only a revealed draw has winners")
    if data["audit_head"] is not None and not (revealed or aborted):
        raise _invalid("audit_head is set at the reveal or abort")
    if data["withdrawal"] is not None and data["replaces_draw_id"] is None:
        raise _invalid("a withdrawal comes with replaces_draw_id")


def record_from_json_v3(data: Mapping[str, Any]) -> DrawRecord:
    """Parse and check the shape of a version 3 record (not its hashes). Raises DrawError."""
    times = read_fields(data, FIELDS_V3, _CHECKS, TIME_FIELDS_V3)
    for name in ("deadline", "committed_at", "freeze_at"):
        if times[name] is None:
            raise _invalid(f"{name} is required")
    _check_status_fields(data)
    withdrawal = None
    if data["withdrawal"] is not None:
        withdrawal = withdrawal_from_json(data["withdrawal"], version=3)
    fields = {name: data[name] for name in FIELDS_V3}
    for name in ("format", "version", "beacon", "withdrawal"):
        del fields[name]
    fields.update(times)
    fields["rule"] = rule_from_json(data["rule"])
    fields["criteria"] = check_criteria(data["criteria"])
    fields["winners"] = tuple(winner_from_json(item) for item in data["winners"])
    beacon_round = None if data["beacon"] is None else data["beacon"]["round"]
    return DrawRecord(
        **fields, withdrawal=withdrawal, version=3, beacon_round=beacon_round
    )


# --- verifying -----------------------------------------------------------------------------


def _check_metadata(draw: DrawRecord) -> Check:
    actual = metadata_hash(draw)
    if actual != draw.metadata_hash:
        return _fail("metadata", "verify.metadata_mismatch", actual=actual, expected=draw.metadata_hash)
    return _pass("metadata")


def _check_commitment(draw: DrawRecord) -> Check:
    metadata = draw.metadata_hash
    assert metadata is not None
    return check_commitment(draw, lambda seed: commitment_v3(seed, metadata))


def _check_excluded(draw: DrawRecord, entries: EntryTable | None) -> Check | None:
    """The excluded list: canonical, hashed, counted, and disjoint from the entries."""
    if draw.excluded_list is None:
        return None
    try:
        rows = decode_excluded(draw.excluded_list)
    except DrawError as exc:
        return _fail("list_hash", exc.code, **exc.params)
    actual = excluded_hash(draw.excluded_list)
    if actual != draw.excluded_hash:
        return _fail("list_hash", "verify.excluded_hash_mismatch", actual=actual, expected=draw.excluded_hash)
    if len(rows) != draw.excluded_count:
        count = draw.excluded_count
        return _fail("list_hash", "verify.entry_count_mismatch", actual=len(rows), expected=count)
    if entries is not None:
        ids = set(entries.ids)
        both = next((row.submission_id for row in rows if row.submission_id in ids), None)
        if both is not None:
            detail = f"submission {both} is an entry and excluded"
            return _fail("list_hash", "verify.excluded_overlap", detail=detail)
        floors = [*entries.floors, *(row.floor for row in rows)]
        if len(set(floors)) != len(floors):
            return _fail("list_hash", "verify.excluded_overlap", detail="a floor appears twice")
    return None


def _check_protocol(draw: DrawRecord) -> Check:
    failure = order_and_identity(draw)
    if failure is not None:
        return failure
    assert draw.deadline is not None
    if draw.freeze_at < draw.deadline:
        return _fail("protocol", "verify.freeze_before_deadline",
                     freeze_at=format_time(draw.freeze_at), deadline=format_time(draw.deadline))
    if draw.committed_at >= draw.deadline and not draw.late:
        return _fail("protocol", "verify.late_commit", committed_at=format_time(draw.committed_at),
                     deadline=format_time(draw.deadline))
    failure = early_reason(draw)
    if failure is not None:
        return failure
    if needs_beacon(draw.rule) != (draw.beacon_round is not None):
        return _fail("protocol", "verify.beacon_kind", kind=draw.rule.kind)
    if draw.beacon_round is None:
        return _pass("protocol")
    expected = beacon.draw_round(draw.freeze_at)
    if draw.beacon_round != expected:
        return _fail("protocol", "verify.beacon_round", expected=expected, actual=draw.beacon_round)
    published = beacon.round_time(draw.beacon_round)
    if draw.frozen_at is not None and draw.frozen_at >= published:
        return _fail("protocol", "verify.frozen_after_beacon", frozen_at=format_time(draw.frozen_at),
                     round=draw.beacon_round, round_at=format_time(published))
    if draw.aborted_at is not None and draw.aborted_at >= published:
        return _fail("protocol", "verify.aborted_after_beacon", aborted_at=format_time(draw.aborted_at),
                     round=draw.beacon_round, round_at=format_time(published))
    if draw.revealed_at is not None and draw.revealed_at < published:
        return _fail("protocol", "verify.revealed_before_beacon", revealed_at=format_time(draw.revealed_at),
                     round=draw.beacon_round, round_at=format_time(published))
    return _pass("protocol")


def _check_beacon(draw: DrawRecord) -> Check:
    if draw.beacon_round is None or draw.beacon_signature is None:
        return _skip("beacon")
    if not beacon.verify_round(draw.beacon_round, draw.beacon_signature):
        return _fail("beacon", "verify.beacon_invalid", round=draw.beacon_round)
    return _pass("beacon")


def _recompute_key(draw: DrawRecord) -> bytes | None:
    if draw.status != "revealed" or draw.seed is None or draw.list_hash is None:
        return None
    return derive_key(draw, draw.seed, draw.beacon_signature)


def expected_exclusions(old: DrawRecord, withdrawn: set[int]) -> str | None:
    """A replacement's excluded list: the revealed draw's own (version 3) plus its winners,
    `withdrew` for those who gave up the prize, `prize_kept` for the others."""
    if old.excluded_list is None:
        return None
    rows = decode_excluded(old.excluded_list)
    rows += [
        Excluded(w.entry_id, w.floor, "withdrew" if w.entry_id in withdrawn else "prize_kept")
        for w in old.winners
    ]
    return encode_excluded(rows)


def _check_replacement_v3(draw: DrawRecord, entries: EntryTable | None, replaced: object | None) -> Check:
    check = _check_replacement(draw, entries, replaced)
    if check.status != "pass" or replaced is None or draw.withdrawal is None:
        return check
    from app.draws.record import record_from_json

    old = record_from_json(replaced)
    if old.draw_id != draw.withdrawal.draw_id or old.version != 3 or draw.excluded_list is None:
        return check
    if expected_exclusions(old, set(draw.withdrawal.withdrawn)) != draw.excluded_list:
        return _fail("replacement", "verify.excluded_not_derived", draw_id=old.draw_id)
    return check


def _check_signature(data: Mapping[str, Any], trusted_key: str | None) -> Check:
    signature = data.get("signature")
    if signature is None:
        if trusted_key is not None:
            return _fail("signature", "verify.signature_invalid")
        return _skip("signature")
    from app.draws.signing import verify_record_signature

    if trusted_key is not None and signature["public_key"] != trusted_key:
        actual = signature["public_key"]
        return _fail("signature", "verify.signature_key", actual=actual, expected=trusted_key)
    if not verify_record_signature(data):
        return _fail("signature", "verify.signature_invalid")
    return _pass("signature")


def verify_record_v3(
    data: Mapping[str, Any], replaced: object | None = None, trusted_key: str | None = None
) -> VerifyResult:
    try:
        draw = record_from_json_v3(data)
    except DrawError as exc:
        return unreadable(exc, CHECKS_V3)
    list_check, entries = _check_list(draw)
    excluded_failure = None if list_check.status == "fail" else _check_excluded(draw, entries)
    key = _recompute_key(draw)
    winners_check, winners = _check_winners(draw, entries, key)
    checks = (
        _pass("format"),
        _check_metadata(draw),
        _check_commitment(draw),
        excluded_failure or list_check,
        _check_protocol(draw),
        _check_beacon(draw),
        _check_key(draw, key),
        winners_check,
        _check_replacement_v3(draw, entries, replaced),
        _check_signature(data, trusted_key),
    )
    return VerifyResult(checks, winners)
