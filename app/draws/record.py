"""The public record (JSON) of a draw, and its verification.

`record_to_json(draw)` is what `GET /api/v1/draws/{id}/record` serves; `verify_record(data)`
recomputes everything from such a JSON object and says which check failed. The standalone
script `app/static/verify_draw.py` implements the same checks independently.
"""

from __future__ import annotations

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

FORMAT = "camp-draw-record"
VERSION = 1
FIELDS = (
    "format", "version", "draw_id", "course", "assignment", "prize", "rule", "eligibility",
    "status", "replaces_draw_id", "committed_at", "commitment", "freeze_at", "frozen_at",
    "early_freeze_reason", "public_value_source", "entry_count", "list_hash", "revealed_at",
    "public_value", "seed", "key", "winners", "aborted_at", "abort_reason", "frozen_list",
)  # fmt: skip
TIME_FIELDS = ("committed_at", "freeze_at", "frozen_at", "revealed_at", "aborted_at")
FREEZE_FIELDS = ("frozen_at", "entry_count", "list_hash", "frozen_list")
CHECKS = ("format", "commitment", "list_hash", "protocol", "key", "winners")
CHECK_LABELS = {
    "format": ("Record format", "记录格式"),
    "commitment": ("Seed matches the commitment", "种子与承诺值一致"),
    "list_hash": ("Frozen list matches its hash", "冻结名单与哈希一致"),
    "protocol": ("Times and public value", "时间与公开随机值规则"),
    "key": ("Draw key", "抽奖密钥"),
    "winners": ("Winners recomputed", "中奖者复算"),
}
CheckStatus = Literal["pass", "fail", "skip"]
_WINNER_FIELDS = {"place": int, "position": int, "entry_id": int, "floor": int, "name": str}
_WINNER_EXTRA = {"ticket": str, "score": str, "likes": int}


# --- writing -------------------------------------------------------------------------------


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def record_to_json(draw: DrawRecord) -> dict[str, Any]:
    """The public record; the seed appears only once revealed or aborted."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "draw_id": draw.draw_id,
        "course": draw.course,
        "assignment": draw.assignment,
        "prize": draw.prize,
        "rule": draw.rule.to_json(),
        "eligibility": draw.eligibility,
        "status": draw.status,
        "replaces_draw_id": draw.replaces_draw_id,
        "commitment": draw.commitment,
        "early_freeze_reason": draw.early_freeze_reason,
        "public_value_source": draw.public_value_source,
        "entry_count": draw.entry_count,
        "list_hash": draw.list_hash,
        "public_value": draw.public_value,
        "seed": draw.seed if draw.status in ("revealed", "aborted") else None,
        "key": draw.key,
        "winners": [winner.to_json() for winner in draw.winners],
        "abort_reason": draw.abort_reason,
        "frozen_list": draw.frozen_list,
    }
    for name in TIME_FIELDS:
        data[name] = _time(getattr(draw, name))
    return {name: data[name] for name in FIELDS}


# --- reading -------------------------------------------------------------------------------


def _invalid(detail: str) -> DrawError:
    return DrawError("record.invalid", detail=detail)


def _is_int(value: object, minimum: int = 0) -> bool:
    return type(value) is int and value >= minimum


def _field_checks() -> dict[str, Callable[[object], bool]]:
    def text(value: object) -> bool:
        return isinstance(value, str)

    def optional(check: Callable[[object], bool]) -> Callable[[object], bool]:
        return lambda value: value is None or check(value)

    return {
        "draw_id": lambda v: _is_int(v, 1),
        "course": text,
        "assignment": text,
        "prize": text,
        "eligibility": text,
        "status": lambda v: v in STATUSES,
        "replaces_draw_id": optional(lambda v: _is_int(v, 1)),
        "commitment": is_hex64,
        "early_freeze_reason": optional(text),
        "public_value_source": optional(text),
        "entry_count": optional(_is_int),
        "list_hash": optional(is_hex64),
        "public_value": optional(valid_public_value),
        "seed": optional(is_hex64),
        "key": optional(is_hex64),
        "winners": lambda v: isinstance(v, list),
        "abort_reason": optional(text),
        "frozen_list": optional(text),
    }


_FIELD_CHECKS = _field_checks()


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


def record_from_json(data: object) -> DrawRecord:
    """Parse and check the shape of a record (not its hashes). Raises DrawError."""
    if not isinstance(data, Mapping):
        raise _invalid("a record is a JSON object")
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise _invalid(f"format must be {FORMAT!r} version {VERSION}")
    missing = [name for name in FIELDS if name not in data]
    if missing:
        raise _invalid(f"missing {', '.join(missing)}")
    for name, check in _FIELD_CHECKS.items():
        if not check(data[name]):
            raise _invalid(f"bad value for {name}")
    times = {
        name: None if data[name] is None else parse_time(data[name]) for name in TIME_FIELDS
    }
    if times["committed_at"] is None or times["freeze_at"] is None:
        raise _invalid("committed_at and freeze_at are required")
    _check_status_fields(data)
    fields = {name: data[name] for name in FIELDS if name not in ("format", "version")}
    fields.update(times)
    fields["rule"] = rule_from_json(data["rule"])
    fields["winners"] = tuple(winner_from_json(item) for item in data["winners"])
    return DrawRecord(**fields)


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


def _fail(name: str, code: str, **params: Any) -> Check:
    return Check(name, "fail", code, params)


def _pass(name: str) -> Check:
    return Check(name, "pass")


def _skip(name: str) -> Check:
    return Check(name, "skip", "verify.skipped")


def _check_commitment(draw: DrawRecord) -> Check:
    if draw.seed is None:
        return _skip("commitment")
    actual = commitment_of(draw.seed)
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


def _check_protocol(draw: DrawRecord) -> Check:
    failure = _time_order(draw)
    if failure is not None:
        return failure
    if draw.replaces_draw_id == draw.draw_id:
        return _fail("protocol", "verify.replaces_itself")
    if draw.frozen_early and not (draw.early_freeze_reason or "").strip():
        assert draw.frozen_at is not None
        return _fail(
            "protocol", "verify.early_without_reason",
            frozen_at=format_time(draw.frozen_at), freeze_at=format_time(draw.freeze_at),
        )  # fmt: skip
    needs_value = isinstance(draw.rule, Lottery) and (
        draw.frozen_early or bool((draw.public_value_source or "").strip())
    )
    if draw.status == "revealed" and needs_value and draw.public_value is None:
        return _fail("protocol", "verify.public_value_missing")
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


def verify_record(data: object) -> VerifyResult:
    """Recompute commitment, list hash, protocol rules, key and winners of a JSON record."""
    try:
        draw = record_from_json(data)
    except DrawError as exc:
        skipped = tuple(_skip(name) for name in CHECKS[1:])
        return VerifyResult((_fail("format", exc.code, **exc.params), *skipped))
    list_check, entries = _check_list(draw)
    key = _recompute_key(draw)
    winners_check, winners = _check_winners(draw, entries, key)
    checks = (
        _pass("format"),
        _check_commitment(draw),
        list_check,
        _check_protocol(draw),
        _check_key(draw, key),
        winners_check,
    )
    return VerifyResult(checks, winners)
