"""The public record (JSON) of a draw, and its verification.

`record_to_json(draw)` is what `GET /api/v1/draws/{id}/record` serves; `verify_record(data)`
recomputes everything from such a JSON object and says which check failed (given the record
of the draw it replaces too, it checks the replacement against it). The standalone script
`app/static/verify_draw.py` implements the same checks independently.

Version 1 is the record without a withdrawal; version 2 adds the `withdrawal` object of a
draw that replaces winners who withdrew. A writer uses version 1 whenever it can, so records
that were published before version 2 existed stay byte for byte the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from app.draws.algorithm import Winner, pick_winners
from app.draws.entries import EntryTable, decode_entries, list_hash
from app.draws.errors import DrawError, render
from app.draws.keys import commitment_of, derive_key, is_hex64
from app.draws.protocol import (
    STATUSES,
    DrawRecord,
    format_time,
    parse_time,
    valid_public_value,
)
from app.draws.rules import Lottery, rule_from_json
from app.draws.withdrawal import (
    Withdrawal,
    first_line_in,
    rule_fits,
    withdrawal_from_json,
    without_entries,
)

FORMAT = "camp-draw-record"
VERSION = 1  # the version of a record without a withdrawal
VERSIONS = (1, 2)  # handled here; version 3 in app.draws.record_v3
FIELDS = (
    "format", "version", "draw_id", "course", "assignment", "prize", "rule", "eligibility",
    "status", "replaces_draw_id", "committed_at", "commitment", "freeze_at", "frozen_at",
    "early_freeze_reason", "public_value_source", "entry_count", "list_hash", "revealed_at",
    "public_value", "seed", "key", "winners", "aborted_at", "abort_reason", "frozen_list",
)  # fmt: skip
FIELDS_V2 = (*FIELDS[:10], "withdrawal", *FIELDS[10:])  # after replaces_draw_id
TIME_FIELDS = ("committed_at", "freeze_at", "frozen_at", "revealed_at", "aborted_at")
FREEZE_FIELDS = ("frozen_at", "entry_count", "list_hash", "frozen_list")
CHECKS = ("format", "commitment", "list_hash", "protocol", "key", "winners", "replacement")
CHECK_LABELS = {
    "format": ("Record format", "记录格式"),
    "commitment": ("Seed matches the commitment", "种子与承诺值一致"),
    "list_hash": ("Frozen list matches its hash", "冻结名单与哈希一致"),
    "protocol": ("Times and public value", "时间与公开随机值规则"),
    "key": ("Draw key", "抽奖密钥"),
    "winners": ("Winners recomputed", "中奖者复算"),
    "replacement": ("Replaced draw and its winners", "被替换的抽奖及其中奖者"),
    "metadata": ("Commit metadata matches its hash", "提交元数据与哈希一致"),
    "beacon": ("drand beacon signature", "drand 信标签名"),
    "signature": ("Camp's Ed25519 signature", "Camp 的 Ed25519 签名"),
}
CheckStatus = Literal["pass", "fail", "skip"]
_WINNER_FIELDS = {"place": int, "position": int, "entry_id": int, "floor": int, "name": str}
_WINNER_EXTRA = {"ticket": str, "score": str, "likes": int}


# --- writing -------------------------------------------------------------------------------


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def common_json(draw: DrawRecord, time_fields: tuple[str, ...]) -> dict[str, Any]:
    """The values every record version publishes alike (each version orders its own keys)."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "draw_id": draw.draw_id,
        "course": draw.course,
        "assignment": draw.assignment,
        "prize": draw.prize,
        "rule": draw.rule.to_json(),
        "eligibility": draw.eligibility,
        "status": draw.status,
        "replaces_draw_id": draw.replaces_draw_id,
        "withdrawal": None if draw.withdrawal is None else draw.withdrawal.to_json(),
        "commitment": draw.commitment,
        "early_freeze_reason": draw.early_freeze_reason,
        "entry_count": draw.entry_count,
        "list_hash": draw.list_hash,
        "seed": draw.seed if draw.status in ("revealed", "aborted") else None,
        "key": draw.key,
        "winners": [winner.to_json() for winner in draw.winners],
        "abort_reason": draw.abort_reason,
        "frozen_list": draw.frozen_list,
    }
    for name in time_fields:
        data[name] = _time(getattr(draw, name))
    return data


def record_to_json(draw: DrawRecord) -> dict[str, Any]:
    """The public record; the seed appears only once revealed or aborted. Version 2 (with
    `withdrawal`) only for a draw that replaces withdrawn winners; version 3 for a draw
    committed as one."""
    if draw.version == 3:
        from app.draws.record_v3 import record_to_json_v3

        return record_to_json_v3(draw)
    data = common_json(draw, TIME_FIELDS)
    data["version"] = VERSION if draw.withdrawal is None else 2
    data["public_value_source"] = draw.public_value_source
    data["public_value"] = draw.public_value
    return {name: data[name] for name in (FIELDS if draw.withdrawal is None else FIELDS_V2)}


# --- reading -------------------------------------------------------------------------------


def _invalid(detail: str) -> DrawError:
    return DrawError("record.invalid", detail=detail)


def _is_int(value: object, minimum: int = 0) -> bool:
    return type(value) is int and value >= minimum


def _text(value: object) -> bool:
    return isinstance(value, str)


def _optional(check: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: value is None or check(value)


#: the check of each field's value, by name; each version checks those it has, in its order
VALUE_CHECKS: dict[str, Callable[[object], bool]] = {
    "draw_id": lambda v: _is_int(v, 1),
    "course": _text,
    "assignment": _text,
    "prize": _text,
    "eligibility": _text,
    "status": lambda v: v in STATUSES,
    "replaces_draw_id": _optional(lambda v: _is_int(v, 1)),
    "commitment": is_hex64,
    "early_freeze_reason": _optional(_text),
    "public_value_source": _optional(_text),
    "entry_count": _optional(_is_int),
    "list_hash": _optional(is_hex64),
    "public_value": _optional(valid_public_value),
    "seed": _optional(is_hex64),
    "key": _optional(is_hex64),
    "winners": lambda v: isinstance(v, list),
    "abort_reason": _optional(_text),
    "frozen_list": _optional(_text),
}


def read_fields(
    data: Mapping[str, Any], fields: tuple[str, ...], checks: Mapping[str, Callable[[object], bool]],
    time_fields: tuple[str, ...],
) -> dict[str, datetime | None]:
    """Every field present and each value of the right kind; returns the times, parsed."""
    missing = [name for name in fields if name not in data]
    if missing:
        raise _invalid(f"missing {', '.join(missing)}")
    for name in fields:
        check = checks.get(name)
        if check is not None and not check(data[name]):
            raise _invalid(f"bad value for {name}")
    return {name: None if data[name] is None else parse_time(data[name]) for name in time_fields}


def winner_from_json(data: object) -> Winner:
    """A winner object exactly as `Winner.to_json` writes it; raises DrawError otherwise."""
    if not isinstance(data, Mapping):
        raise _invalid("a winner is an object")
    extra = set(data) - set(_WINNER_FIELDS)
    if set(_WINNER_FIELDS) - set(data) or len(extra) > 1 or not extra <= set(_WINNER_EXTRA):
        raise _invalid(f"winner fields {sorted(data)}")
    for name, kind in {**_WINNER_FIELDS, **_WINNER_EXTRA}.items():
        if name in data and type(data[name]) is not kind:
            raise _invalid(f"winner field {name} must be {kind.__name__}")
    return Winner(**{name: data[name] for name in data})


def _check_status_fields(data: Mapping[str, Any]) -> None:
    """Which fields are set must fit the status (e.g. no seed before reveal)."""
    status = data["status"]
    frozen = [data[name] is not None for name in FREEZE_FIELDS]
    if any(frozen) and not all(frozen):
        raise _invalid(f"{', '.join(FREEZE_FIELDS)} are set together")
    must = {
        "committed": {"frozen_at": False, "seed": False, "revealed_at": False},
        "frozen": {"frozen_at": True, "seed": False, "revealed_at": False},
        "revealed": {"frozen_at": True, "seed": True, "revealed_at": True, "key": True},
        "aborted": {"seed": True, "revealed_at": False, "key": False, "aborted_at": True},
    }[status]
    must.setdefault("key", False)
    must.setdefault("aborted_at", False)
    for name, present in must.items():
        if (data[name] is not None) != present:
            raise _invalid(f"{name} must {'' if present else 'not '}be set when {status}")
    if (data["abort_reason"] is not None) != (status == "aborted"):
        raise _invalid("abort_reason is set exactly when aborted")
    if status == "aborted" and not data["abort_reason"].strip():
        raise _invalid("abort_reason is blank")
    if data["public_value"] is not None and status != "revealed":
        raise _invalid("public_value is set only when revealed")
    if data["frozen_at"] is None and (data["early_freeze_reason"] or data["public_value_source"]):
        raise _invalid("early_freeze_reason and public_value_source come with the freeze")
    if data["winners"] and status != "revealed":
        raise _invalid("only a revealed draw has winners")
    if data.get("withdrawal") is not None and data["replaces_draw_id"] is None:
        raise _invalid("a withdrawal comes with replaces_draw_id")


def _withdrawal(data: Mapping[str, Any]) -> Withdrawal | None:
    """Version 2 has a `withdrawal` (object or null); version 1 none (absent or null)."""
    if data["version"] == 2 and "withdrawal" not in data:
        raise _invalid("missing withdrawal")
    value = data.get("withdrawal")
    if value is not None and data["version"] == 1:
        raise _invalid("a withdrawal needs version 2")
    return None if value is None else withdrawal_from_json(value)


def record_from_json(data: object) -> DrawRecord:
    """Parse and check the shape of a record (not its hashes). Raises DrawError."""
    if not isinstance(data, Mapping):
        raise _invalid("a record is a JSON object")
    version = data.get("version")
    if data.get("format") == FORMAT and type(version) is int and version == 3:
        from app.draws.record_v3 import record_from_json_v3

        return record_from_json_v3(data)
    if data.get("format") != FORMAT or type(version) is not int or version not in VERSIONS:
        raise _invalid(f"format must be {FORMAT!r} version 1, 2 or 3")
    times = read_fields(data, FIELDS, VALUE_CHECKS, TIME_FIELDS)
    if times["committed_at"] is None or times["freeze_at"] is None:
        raise _invalid("committed_at and freeze_at are required")
    withdrawal = _withdrawal(data)
    _check_status_fields(data)
    fields = {name: data[name] for name in FIELDS if name not in ("format", "version")}
    fields.update(times)
    fields["rule"] = rule_from_json(data["rule"])
    fields["winners"] = tuple(winner_from_json(item) for item in data["winners"])
    return DrawRecord(**fields, withdrawal=withdrawal)


# --- verifying -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One verification step: `status` is pass, fail or skip; `code`/`params` explain it."""

    name: str
    status: CheckStatus
    code: str = "verify.ok"
    params: Mapping[str, Any] | None = None

    def label(self, locale: str | None = "en") -> str:
        english, chinese = CHECK_LABELS[self.name]
        return chinese if (locale or "").lower().startswith("zh") else english

    def message(self, locale: str | None = "en") -> str:
        return render(self.code, dict(self.params or {}), locale)


@dataclass(frozen=True)
class VerifyResult:
    """All checks in `CHECKS` order, and the winners as recomputed (None if not computed)."""

    checks: tuple[Check, ...]
    winners: tuple[Winner, ...] | None = None

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(check.name for check in self.checks if check.status == "fail")

    @property
    def complete(self) -> bool:
        """True when the winners themselves were recomputed and matched."""
        return self.ok and any(c.name == "winners" and c.status == "pass" for c in self.checks)

    def check(self, name: str) -> Check:
        return next(check for check in self.checks if check.name == name)

    def report(self, locale: str | None = "en") -> str:
        marks = {"pass": "OK  ", "fail": "FAIL", "skip": "--  "}
        lines = [
            f"{marks[c.status]} {c.label(locale)}: {c.message(locale)}" for c in self.checks
        ]
        return "\n".join(lines)


def unreadable(exc: DrawError, checks: tuple[str, ...]) -> VerifyResult:
    """A record that does not parse: the format check fails, the others are skipped."""
    return VerifyResult((_fail("format", exc.code, **exc.params), *(_skip(name) for name in checks[1:])))


def _fail(name: str, code: str, **params: Any) -> Check:
    return Check(name, "fail", code, params)


def _pass(name: str) -> Check:
    return Check(name, "pass")


def _skip(name: str) -> Check:
    return Check(name, "skip", "verify.skipped")


def check_commitment(draw: DrawRecord, commitment: Callable[[str], str] = commitment_of) -> Check:
    """`commitment(seed)`: how the record's version commits to its seed."""
    if draw.seed is None:
        return _skip("commitment")
    actual = commitment(draw.seed)
    if actual != draw.commitment:
        return _fail(
            "commitment", "verify.commitment_mismatch", actual=actual, expected=draw.commitment
        )
    return _pass("commitment")


def _check_list(draw: DrawRecord) -> tuple[Check, EntryTable | None]:
    if draw.frozen_list is None:
        return _skip("list_hash"), None
    try:
        actual = list_hash(draw.frozen_list)
    except ValueError:
        return _fail("list_hash", "verify.list_not_utf8"), None
    try:
        entries = decode_entries(draw.frozen_list, draw.rule)
    except DrawError as exc:
        return _fail("list_hash", exc.code, **exc.params), None
    if actual != draw.list_hash:
        expected = draw.list_hash
        check = _fail("list_hash", "verify.list_hash_mismatch", actual=actual, expected=expected)
        return check, entries
    if len(entries) != draw.entry_count:
        count = draw.entry_count
        return _fail(
            "list_hash", "verify.entry_count_mismatch", actual=len(entries), expected=count
        ), entries
    return _pass("list_hash"), entries


def _time_order(draw: DrawRecord) -> Check | None:
    pairs = [
        ("committed_at", "freeze_at", True),
        ("committed_at", "frozen_at", False),
        ("frozen_at", "revealed_at", False),
        ("committed_at", "aborted_at", False),
        ("frozen_at", "aborted_at", False),
    ]
    for earlier, later, strict in pairs:
        first, second = getattr(draw, earlier), getattr(draw, later)
        if first is None or second is None:
            continue
        if second < first or (strict and second == first):
            return _fail(
                "protocol", "verify.time_order", earlier=earlier, later=later,
                earlier_at=format_time(first), later_at=format_time(second),
            )  # fmt: skip
    return None


def order_and_identity(draw: DrawRecord) -> Check | None:
    """Times in order, and no draw replacing itself (every version)."""
    failure = _time_order(draw)
    if failure is not None:
        return failure
    withdrawn_from = None if draw.withdrawal is None else draw.withdrawal.draw_id
    if draw.draw_id in (draw.replaces_draw_id, withdrawn_from):
        return _fail("protocol", "verify.replaces_itself")
    return None


def early_reason(draw: DrawRecord) -> Check | None:
    """A draw frozen before its announced time says why (every version)."""
    if draw.frozen_early and not (draw.early_freeze_reason or "").strip():
        assert draw.frozen_at is not None
        return _fail(
            "protocol", "verify.early_without_reason",
            frozen_at=format_time(draw.frozen_at), freeze_at=format_time(draw.freeze_at),
        )  # fmt: skip
    return None


def _check_protocol(draw: DrawRecord) -> Check:
    failure = order_and_identity(draw) or early_reason(draw)
    if failure is not None:
        return failure
    needs_value = isinstance(draw.rule, Lottery) and (
        draw.frozen_early or bool((draw.public_value_source or "").strip())
    )
    if draw.status == "revealed" and needs_value and draw.public_value is None:
        return _fail("protocol", "verify.public_value_missing")
    replacing = isinstance(draw.rule, Lottery) and draw.withdrawal is not None
    if draw.status == "revealed" and replacing and draw.public_value is None:
        return _fail("protocol", "verify.public_value_replacement")
    return _pass("protocol")


def _recompute_key(draw: DrawRecord) -> bytes | None:
    if draw.seed is None or draw.list_hash is None or draw.status != "revealed":
        return None
    return derive_key(draw.draw_id, draw.list_hash, draw.public_value, draw.seed)


def _check_key(draw: DrawRecord, key: bytes | None) -> Check:
    if key is None or draw.key is None:
        return _skip("key")
    if key.hex() != draw.key:
        return _fail("key", "verify.key_mismatch", actual=key.hex(), expected=draw.key)
    return _pass("key")


def _describe(winner: Winner | None) -> str:
    if winner is None:
        return "-"
    return f"#{winner.floor} {winner.name} (entry {winner.entry_id})"


def _check_winners(
    draw: DrawRecord, entries: EntryTable | None, key: bytes | None
) -> tuple[Check, tuple[Winner, ...] | None]:
    if draw.status != "revealed":
        return _skip("winners"), None
    if entries is None:
        detail = "the frozen list does not parse"
        return _fail("winners", "verify.winners_unavailable", detail=detail), None
    winners = tuple(pick_winners(draw.rule, entries, key))
    if winners == draw.winners:
        return _pass("winners"), winners
    place = next(
        i for i in range(max(len(winners), len(draw.winners)))
        if i >= len(winners) or i >= len(draw.winners) or winners[i] != draw.winners[i]
    )  # fmt: skip
    expected = winners[place] if place < len(winners) else None
    actual = draw.winners[place] if place < len(draw.winners) else None
    check = _fail(
        "winners", "verify.winners_mismatch", place=place + 1,
        expected=_describe(expected), actual=_describe(actual),
    )  # fmt: skip
    return check, winners


# --- the replacement check ------------------------------------------------------------------


def _fail_replacement(code: str, **params: Any) -> Check:
    return _fail("replacement", code, **params)


def _check_withdrawal(draw: DrawRecord, entries: EntryTable | None) -> Check | None:
    """From the record alone: the rule fits the withdrawal, and no excluded entry is listed."""
    withdrawal = draw.withdrawal
    assert withdrawal is not None
    if not rule_fits(draw.rule, draw.rule.kind, withdrawal):
        return _fail_replacement(
            "verify.replacement_rule", count=len(withdrawal.withdrawn),
            rule=json_text(draw.rule.to_json()),
        )  # fmt: skip
    if draw.frozen_list is None:
        return None
    if entries is None:
        return _fail_replacement("verify.replacement_list_unreadable")
    found = first_line_in(entries.ids, withdrawal.excluded)
    if found is not None:
        return _fail_replacement(
            "verify.excluded_in_list", entry_id=found[1], line=found[0], draw_id=withdrawal.draw_id
        )
    return None


def json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _first_difference(ids: set[int], other: set[int]) -> int:
    return min(ids ^ other)


def _first_line_difference(text: str, other: str) -> int:
    mine, theirs = text.split("\n"), other.split("\n")
    return next(
        (i for i, (a, b) in enumerate(zip(mine, theirs, strict=False), 1) if a != b),
        min(len(mine), len(theirs)),
    )


def _against_withdrawn_draw(draw: DrawRecord, old: DrawRecord) -> Check | None:
    """`old` is the revealed draw the withdrawn winners won."""
    withdrawal = draw.withdrawal
    assert withdrawal is not None
    if old.status != "revealed":
        return _fail_replacement("verify.replaced_not_revealed", draw_id=old.draw_id, status=old.status)
    if old.key != withdrawal.key:
        return _fail_replacement("verify.replaced_key", actual=old.key, expected=withdrawal.key)
    if old.rule.kind != draw.rule.kind:
        return _fail_replacement("verify.replaced_rule", expected=old.rule.kind, actual=draw.rule.kind)
    winners = {winner.entry_id for winner in old.winners}
    stray = [entry_id for entry_id in withdrawal.withdrawn if entry_id not in winners]
    if stray:
        return _fail_replacement("verify.withdrawn_not_winner", entry_id=stray[0], draw_id=old.draw_id)
    expected = winners | set(old.withdrawal.excluded if old.withdrawal else ())
    if expected != set(withdrawal.excluded):
        entry_id = _first_difference(expected, set(withdrawal.excluded))
        return _fail_replacement("verify.excluded_mismatch", draw_id=old.draw_id, entry_id=entry_id)
    if draw.frozen_list is not None and old.frozen_list is not None:
        derived = without_entries(old.frozen_list, withdrawal.excluded)
        if derived != draw.frozen_list:
            line = _first_line_difference(derived, draw.frozen_list)
            return _fail_replacement("verify.list_not_derived", draw_id=old.draw_id, line=line)
    return None


def _against_aborted_draw(draw: DrawRecord, old: DrawRecord) -> Check | None:
    """`old` is the aborted draw this one replaces directly."""
    if old.status != "aborted":
        return _fail_replacement("verify.replaced_not_aborted", draw_id=old.draw_id, status=old.status)
    if old.withdrawal != draw.withdrawal:
        return _fail_replacement("verify.withdrawal_differs", draw_id=old.draw_id)
    if draw.withdrawal is not None and old.rule.kind != draw.rule.kind:
        return _fail_replacement("verify.replaced_rule", expected=old.rule.kind, actual=draw.rule.kind)
    return None


def _against_replaced(draw: DrawRecord, replaced: object) -> Check | None:
    """The record of the replaced draw: it verifies, it is the draw named, and it fits."""
    result = verify_record(replaced)
    if not result.ok:
        draw_id = replaced.get("draw_id") if isinstance(replaced, Mapping) else None
        return _fail_replacement("verify.replaced_invalid", draw_id=draw_id, failed=", ".join(result.failed))
    old = record_from_json(replaced)
    if draw.replaces_draw_id is None:
        return _fail_replacement("verify.replaces_nothing")
    if (old.course, old.assignment) != (draw.course, draw.assignment):
        return _fail_replacement(
            "verify.replaced_other_assignment", course=old.course, assignment=old.assignment
        )
    withdrawal = draw.withdrawal
    if withdrawal is not None and old.draw_id == withdrawal.draw_id:
        return _against_withdrawn_draw(draw, old)
    if old.draw_id == draw.replaces_draw_id:
        return _against_aborted_draw(draw, old)
    expected = draw.replaces_draw_id if withdrawal is None else withdrawal.draw_id
    return _fail_replacement("verify.replaced_other_draw", actual=old.draw_id, expected=expected)


def _check_replacement(
    draw: DrawRecord, entries: EntryTable | None, replaced: object | None
) -> Check:
    if draw.withdrawal is None and replaced is None:
        return _skip("replacement")
    failure = None if draw.withdrawal is None else _check_withdrawal(draw, entries)
    if failure is None and replaced is not None:
        failure = _against_replaced(draw, replaced)
    return failure or _pass("replacement")


def verify_record(
    data: object, replaced: object | None = None, trusted_key: str | None = None
) -> VerifyResult:
    """Recompute commitment, list hash, protocol rules, key and winners of a JSON record, and
    check a replacement: from the record alone (no excluded entry in the list) and, given
    `replaced` (the JSON record of the draw it replaces), against that record. Version 3
    records get their own checks (`app.draws.record_v3`); `trusted_key` (hex) is the Ed25519
    key that must have signed a version 3 record."""
    if isinstance(data, Mapping) and data.get("format") == FORMAT and data.get("version") == 3:
        from app.draws.record_v3 import verify_record_v3

        return verify_record_v3(data, replaced, trusted_key)
    try:
        draw = record_from_json(data)
    except DrawError as exc:
        return unreadable(exc, CHECKS)
    list_check, entries = _check_list(draw)
    key = _recompute_key(draw)
    winners_check, winners = _check_winners(draw, entries, key)
    checks = (
        _pass("format"),
        check_commitment(draw),
        list_check,
        _check_protocol(draw),
        _check_key(draw, key),
        winners_check,
        _check_replacement(draw, entries, replaced),
    )
    return VerifyResult(checks, winners)
