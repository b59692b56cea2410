#!/usr/bin/env python3
"""Verify a Camp prize draw from its public record — no Camp needed.

    python3 verify_draw.py record.json            # report in English and Chinese
    python3 verify_draw.py record.json --json     # machine-readable result
    python3 verify_draw.py new.json old.json      # a replacement, checked against the draw it replaces

This file deliberately re-implements the whole algorithm (standard library only, Python 3.8+)
from the published specification, so that you do not have to trust Camp's own code. It checks:

1. format      the record is a well-formed camp-draw-record, version 1 or 2
2. commitment  SHA-256(seed) equals the commitment published before the list was frozen
3. list_hash   SHA-256 of the frozen list equals the published list hash
4. protocol    times are in order; an early freeze has a reason and (lottery) a public value
5. key         the draw key recomputed from draw id, list hash, public value and seed
6. winners     the winners recomputed from rule, frozen list and key
7. replacement a draw replacing winners who withdrew lists none of the replaced draw's
               winners; with the replaced draw's record as a second file, the two fit together

Exit status: 0 all applicable checks passed, 1 a check failed, 2 the file could not be read.

验证 Camp 抽奖记录:本脚本独立实现了全部算法(只用 Python 标准库),
重新计算承诺值、名单哈希、密钥与中奖者,任何一项不符都会报告。
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
import sys
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

FORMAT = "camp-draw-record"
VERSIONS = (1, 2)
DOMAIN_TAG = b"camp-draw-v1"
MAX_ID = 2**63 - 1
MAX_RANK = 1_000_000_000
MAX_COUNT = 1_000_000
MAX_PUBLIC_VALUE = 1000
MAX_SCORE_LENGTH = 64
STATUSES = ("committed", "frozen", "revealed", "aborted")
FIELDS = (
    "format", "version", "draw_id", "course", "assignment", "prize", "rule", "eligibility",
    "status", "replaces_draw_id", "committed_at", "commitment", "freeze_at", "frozen_at",
    "early_freeze_reason", "public_value_source", "entry_count", "list_hash", "revealed_at",
    "public_value", "seed", "key", "winners", "aborted_at", "abort_reason", "frozen_list",
)  # fmt: skip
WITHDRAWAL_FIELDS = ("draw_id", "key", "withdrawn_entry_ids", "excluded_entry_ids", "reason")
TEXT_FIELDS = ("course", "assignment", "prize", "eligibility")
TIMES = ("committed_at", "freeze_at", "frozen_at", "revealed_at", "aborted_at")
CHECKS = (
    ("format", "record format", "记录格式"),
    ("commitment", "seed matches the commitment", "种子与承诺值一致"),
    ("list_hash", "frozen list matches its hash", "冻结名单与哈希一致"),
    ("protocol", "times and public value", "时间与公开随机值规则"),
    ("key", "draw key", "抽奖密钥"),
    ("winners", "winners recomputed", "中奖者复算"),
    ("replacement", "replaced draw and its winners", "被替换的抽奖及其中奖者"),
)
HEX64 = re.compile(r"[0-9a-f]{64}")
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
UINT = re.compile(r"0|[1-9][0-9]{0,18}")
SCORE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?")
UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


class Failed(Exception):
    """A check failed; the message says why."""


# --- rank expressions: "1-3,6,66+100n<=666", "2,3,23,123+100n" ---------------------------


def tokenize_ranks(text: str) -> list[str]:
    """Numbers, "-", "+", "n", "<=", "," and any other single character; spaces dropped.
    "，" counts as "," and "≤" as "<="."""
    if len(text) > 500:
        raise Failed("rank expression too long")
    tokens = []
    for match in re.finditer(r"\s*([0-9]+|<=|≤|.)", text, re.DOTALL):
        token = match.group(1)
        if not token.isspace():
            tokens.append({"，": ",", "≤": "<="}.get(token, token))
    return tokens


def rank_number(tokens: list[str], i: int) -> tuple[int, int]:
    """The number at tokens[i] (1..1,000,000,000) and the index after it."""
    if i >= len(tokens) or not (tokens[i].isascii() and tokens[i].isdigit()):
        raise Failed("expected a number in the rank expression")
    value = int(tokens[i])
    if not 1 <= value <= MAX_RANK:
        raise Failed(f"rank expression: {value} is out of range")
    return value, i + 1


def rank_term(tokens: list[str], i: int) -> tuple[tuple[int, int, int | None], int]:
    """One term as (start, step, last or None) and the index after it."""
    start, i = rank_number(tokens, i)
    if tokens[i : i + 1] == ["-"]:
        end, i = rank_number(tokens, i + 1)
        if end < start:
            raise Failed("rank range runs backwards")
        return (start, 1, end), i
    if tokens[i : i + 1] != ["+"]:
        return (start, 1, start), i
    step, i = rank_number(tokens, i + 1)
    if tokens[i : i + 1] != ["n"]:
        raise Failed("expected n after the step")
    if tokens[i + 1 : i + 2] != ["<="]:
        return (start, step, None), i + 1
    bound, i = rank_number(tokens, i + 2)
    if bound < start:
        raise Failed("rank bound below its start")
    return (start, step, bound), i


def parse_ranks(text: str) -> list[tuple[int, int, int | None]]:
    tokens = tokenize_ranks(text)
    if not tokens:
        raise Failed("empty rank expression")
    terms, i = [], 0
    while True:
        term, i = rank_term(tokens, i)
        terms.append(term)
        if i == len(tokens):
            return terms
        if tokens[i] != ",":
            raise Failed(f"unexpected {tokens[i]!r} in the rank expression")
        i += 1


def rank_positions(terms: list[tuple[int, int, int | None]], count: int) -> list[int]:
    """The selected 1-based ranks that exist among `count` entries, ascending."""
    chosen: set[int] = set()
    for start, step, end in terms:
        last = count if end is None else min(end, count)
        chosen.update(range(start, last + 1, step))
    return sorted(chosen)


def parse_rule(rule: Any) -> tuple[str, Any]:
    """(kind, rank terms) for fixed_ranks, (kind, count) otherwise; raise Failed."""
    if not isinstance(rule, dict):
        raise Failed("the rule is not an object")
    kind = rule.get("kind")
    if kind == "fixed_ranks":
        if not isinstance(rule.get("ranks"), str):
            raise Failed("fixed_ranks needs a ranks expression")
        return kind, parse_ranks(rule["ranks"])
    if kind in ("lottery", "top_score", "top_likes"):
        count = rule.get("count")
        if type(count) is not int or not 1 <= count <= MAX_COUNT:
            raise Failed("the rule's count is not 1..1000000")
        return kind, count
    raise Failed(f"unknown rule kind {kind!r}")


# --- the frozen list ------------------------------------------------------------------------


def unescape(name: str) -> str:
    """Undo the name escaping: \\\\ -> \\, \\t -> TAB, \\n -> LF, \\r -> CR."""
    out, i = [], 0
    while i < len(name):
        char = name[i]
        if char == "\r":
            raise Failed("raw CR in a name")
        if char == "\\":
            if name[i + 1 : i + 2] not in UNESCAPE:
                raise Failed("unknown escape in a name")
            char = UNESCAPE[name[i + 1]]
            i += 1
        out.append(char)
        i += 1
    return "".join(out)


def uint(text: str) -> int:
    if not UINT.fullmatch(text) or int(text) > MAX_ID:
        raise Failed(f"not a canonical integer: {text!r}")
    return int(text)


def parse_value(kind: str, text: str) -> Any:
    if kind == "top_likes":
        return uint(text)
    if len(text) > MAX_SCORE_LENGTH or text == "-0" or not SCORE.fullmatch(text):
        raise Failed(f"not a canonical score: {text!r}")
    return Decimal(text)


def parse_list(text: str, kind: str) -> list[tuple[int, int, str, Any]]:
    """Rows (entry_id, floor, name, score or likes or None), checked to be canonical."""
    if text and not text.endswith("\n"):
        raise Failed("the frozen list does not end with a newline")
    width = 4 if kind in ("top_score", "top_likes") else 3
    rows, seen = [], set()
    for number, line in enumerate(text.split("\n")[:-1], 1):
        fields = line.split("\t")
        if len(fields) != width:
            raise Failed(f"line {number} has {len(fields)} fields, not {width}")
        try:
            entry_id, floor = uint(fields[0]), uint(fields[1])
            name = fields[2]
            if "\\" in name or "\r" in name:
                name = unescape(name)
            value = parse_value(kind, fields[3]) if width == 4 else None
        except Failed as exc:
            raise Failed(f"line {number}: {exc}") from None
        if entry_id in seen:
            raise Failed(f"line {number}: entry id {entry_id} appears twice")
        seen.add(entry_id)
        rows.append((entry_id, floor, name, value))
    return rows


# --- key, tickets, winners ------------------------------------------------------------------


def frame(data: bytes) -> bytes:
    """4-byte big-endian length, then the bytes."""
    return len(data).to_bytes(4, "big") + data


def draw_key(draw_id: int, list_hash: str, public_value: str | None, seed: str) -> bytes:
    material = (
        frame(DOMAIN_TAG)
        + frame(str(draw_id).encode("ascii"))
        + frame(bytes.fromhex(list_hash))
        + frame((public_value or "").encode("utf-8"))
        + frame(bytes.fromhex(seed))
    )
    return hashlib.sha256(material).digest()


def score_text(value: Decimal) -> str:
    """The canonical text of a score (no exponent, no trailing zeros)."""
    if value == 0:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def descending(value: Any) -> Any:
    """Sort key for "largest first"; Decimal.copy_negate is exact (unary minus may round)."""
    return value.copy_negate() if isinstance(value, Decimal) else -value


def choose(rule: tuple[str, Any], rows: list[tuple[int, int, str, Any]], key: bytes) -> list:
    """(0-based index, extra winner fields) in winning order."""
    kind, arg = rule
    if kind == "fixed_ranks":
        return [(p - 1, {}) for p in rank_positions(arg, len(rows))]
    if kind == "lottery":
        sha256 = hashlib.sha256
        ids = (row[0].to_bytes(8, "big") for row in rows)
        tickets = [(sha256(key + entry_id).digest(), i) for i, entry_id in enumerate(ids)]
        return [(i, {"ticket": t.hex()}) for t, i in heapq.nsmallest(arg, tickets)]
    best = heapq.nsmallest(arg, range(len(rows)), key=lambda i: (descending(rows[i][3]), i))
    if kind == "top_score":
        return [(i, {"score": score_text(rows[i][3])}) for i in best]
    return [(i, {"likes": rows[i][3]}) for i in best]


def winners(
    rule: tuple[str, Any], rows: list[tuple[int, int, str, Any]], key: bytes
) -> list[dict[str, Any]]:
    result = []
    for place, (i, extra) in enumerate(choose(rule, rows, key), 1):
        entry_id, floor, name, _ = rows[i]
        winner = {"place": place, "position": i + 1, "entry_id": entry_id}
        winner.update({"floor": floor, "name": name}, **extra)
        result.append(winner)
    return result


# --- the record's shape ---------------------------------------------------------------------


def parse_time(text: Any) -> datetime:
    if not isinstance(text, str) or not TIME.fullmatch(text):
        raise Failed(f"not a time: {text!r}")
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise Failed(f"not a time: {text!r}") from None
    return moment.replace(tzinfo=timezone.utc)  # noqa: UP017 (also runs on Python 3.8)


def is_int(value: Any, minimum: int = 0) -> bool:
    return type(value) is int and value >= minimum


def is_hex64(value: Any) -> bool:
    return isinstance(value, str) and HEX64.fullmatch(value) is not None


def is_public_value(value: Any) -> bool:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_PUBLIC_VALUE:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_winner(value: Any) -> bool:
    base = {"place": int, "position": int, "entry_id": int, "floor": int, "name": str}
    extras = {"ticket": str, "score": str, "likes": int}
    if not isinstance(value, dict):
        return False
    extra = set(value) - set(base)
    if set(base) - set(value) or len(extra) > 1 or not extra <= set(extras):
        return False
    types = dict(base, **extras)
    return all(type(value[name]) is types[name] for name in value)


def is_id_list(value: Any) -> bool:
    """A non-empty list of entry ids (0 .. 2**63-1), strictly ascending."""
    if not isinstance(value, list) or not value:
        return False
    if not all(type(v) is int and 0 <= v <= MAX_ID for v in value):
        return False
    return all(value[i] < value[i + 1] for i in range(len(value) - 1))


def is_withdrawal(value: Any) -> bool:
    """The `withdrawal` object of version 2 (null is checked by the caller)."""
    if not isinstance(value, dict) or sorted(value) != sorted(WITHDRAWAL_FIELDS):
        return False
    withdrawn, excluded = value["withdrawn_entry_ids"], value["excluded_entry_ids"]
    reason = value["reason"]
    return (
        is_int(value["draw_id"], 1)
        and is_hex64(value["key"])
        and is_id_list(withdrawn)
        and is_id_list(excluded)
        and set(withdrawn) <= set(excluded)
        and isinstance(reason, str)
        and reason.strip() != ""
    )


def field_problems(r: dict[str, Any]) -> list[str]:
    """Names of fields whose value has the wrong type."""
    optional_text = ("early_freeze_reason", "public_value_source", "abort_reason", "frozen_list")
    good = {
        "draw_id": is_int(r["draw_id"], 1),
        "text": all(isinstance(r[n], str) for n in TEXT_FIELDS),
        "status": r["status"] in STATUSES,
        "replaces_draw_id": r["replaces_draw_id"] is None or is_int(r["replaces_draw_id"], 1),
        "commitment": is_hex64(r["commitment"]),
        "optional text": all(r[n] is None or isinstance(r[n], str) for n in optional_text),
        "entry_count": r["entry_count"] is None or is_int(r["entry_count"]),
        "hashes": all(r[n] is None or is_hex64(r[n]) for n in ("list_hash", "seed", "key")),
        "public_value": r["public_value"] is None or is_public_value(r["public_value"]),
        "winners": isinstance(r["winners"], list) and all(map(is_winner, r["winners"])),
        "withdrawal": r.get("withdrawal") is None or is_withdrawal(r["withdrawal"]),
    }
    return [name for name, ok in good.items() if not ok]


def check_shape(record: Any) -> None:
    """Raise Failed unless the record has every field, with the right types for its status."""
    if not isinstance(record, dict):
        raise Failed("the record is not a JSON object")
    version = record.get("version")
    if record.get("format") != FORMAT or type(version) is not int or version not in VERSIONS:
        raise Failed(f"not a {FORMAT} version 1 or 2")
    missing = [name for name in FIELDS if name not in record]
    if version == 2 and "withdrawal" not in record:
        missing.append("withdrawal")
    if missing:
        raise Failed("missing " + ", ".join(missing))
    if version == 1 and record.get("withdrawal") is not None:
        raise Failed("a withdrawal needs version 2")
    problems = field_problems(record)
    if problems:
        raise Failed("bad " + ", ".join(problems))
    for name in TIMES:
        if record[name] is not None:
            parse_time(record[name])
    if record["committed_at"] is None or record["freeze_at"] is None:
        raise Failed("committed_at and freeze_at are required")
    check_status(record)
    parse_rule(record["rule"])


def check_status(r: dict[str, Any]) -> None:
    """Which fields are set must fit the status (no seed before reveal, ...)."""
    status = r["status"]
    frozen = [r[n] is not None for n in ("frozen_at", "entry_count", "list_hash", "frozen_list")]
    if any(frozen) and not all(frozen):
        raise Failed("frozen_at, entry_count, list_hash and frozen_list go together")
    revealed, aborted = status == "revealed", status == "aborted"
    expected = {
        "seed": revealed or aborted,
        "revealed_at": revealed,
        "key": revealed,
        "aborted_at": aborted,
        "abort_reason": aborted,
    }
    if not aborted:
        expected["frozen_at"] = status in ("frozen", "revealed")
    for name, present in expected.items():
        if (r[name] is not None) != present:
            raise Failed(f"{name} does not fit the status {status}")
    if aborted and not r["abort_reason"].strip():
        raise Failed("blank abort reason")
    if r["public_value"] is not None and not revealed:
        raise Failed("a public value before reveal")
    if r["frozen_at"] is None and (r["early_freeze_reason"] or r["public_value_source"]):
        raise Failed("freeze details without a freeze")
    if r["winners"] and not revealed:
        raise Failed("winners before reveal")
    if r.get("withdrawal") is not None and r["replaces_draw_id"] is None:
        raise Failed("a withdrawal without replaces_draw_id")


# --- the checks -----------------------------------------------------------------------------


def check_commitment(r: dict[str, Any]) -> str:
    if r["seed"] is None:
        return "skip"
    actual = hashlib.sha256(bytes.fromhex(r["seed"])).hexdigest()
    if actual != r["commitment"]:
        raise Failed(f"SHA-256(seed) is {actual}, the commitment is {r['commitment']}")
    return "pass"


def check_list(r: dict[str, Any], kind: str) -> tuple[list | None, str | None]:
    """(parsed rows or None, failure or None)."""
    try:
        data = r["frozen_list"].encode("utf-8")
    except UnicodeEncodeError:
        return None, "the frozen list is not valid Unicode"
    try:
        rows = parse_list(r["frozen_list"], kind)
    except Failed as exc:
        return None, str(exc)
    actual = hashlib.sha256(data).hexdigest()
    if actual != r["list_hash"]:
        return rows, f"SHA-256 of the list is {actual}, the record says {r['list_hash']}"
    if len(rows) != r["entry_count"]:
        return rows, f"the list has {len(rows)} entries, the record says {r['entry_count']}"
    return rows, None


def check_protocol(r: dict[str, Any], kind: str) -> str:
    t = {name: None if r[name] is None else parse_time(r[name]) for name in TIMES}
    order = [
        ("committed_at", "freeze_at", True),
        ("committed_at", "frozen_at", False),
        ("frozen_at", "revealed_at", False),
        ("committed_at", "aborted_at", False),
        ("frozen_at", "aborted_at", False),
    ]
    for first, second, strict in order:
        a, b = t[first], t[second]
        if a is not None and b is not None and (b < a or (strict and a == b)):
            raise Failed(f"{second} ({r[second]}) is not after {first} ({r[first]})")
    withdrawal = r.get("withdrawal")
    withdrawn_from = None if withdrawal is None else withdrawal["draw_id"]
    if r["draw_id"] in (r["replaces_draw_id"], withdrawn_from):
        raise Failed("the draw says it replaces itself")
    early = t["frozen_at"] is not None and t["frozen_at"] < t["freeze_at"]
    if early and not (r["early_freeze_reason"] or "").strip():
        raise Failed("frozen before the announced time without a reason")
    announced = bool((r["public_value_source"] or "").strip())
    needed = kind == "lottery" and r["status"] == "revealed" and (early or announced)
    if needed and r["public_value"] is None:
        raise Failed("a public value was required (early freeze or announced) but is missing")
    replacing = kind == "lottery" and r["status"] == "revealed" and withdrawal is not None
    if replacing and r["public_value"] is None:
        raise Failed("a lottery that replaces withdrawn winners needs a public value")
    return "pass"


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def describe(winner: dict[str, Any] | None) -> str:
    if winner is None:
        return "nobody"
    return f"#{winner.get('floor')} {winner.get('name')} (entry {winner.get('entry_id')})"


def first_difference(computed: list, recorded: list) -> str:
    for i in range(max(len(computed), len(recorded))):
        mine = computed[i] if i < len(computed) else None
        theirs = recorded[i] if i < len(recorded) else None
        if mine is None or theirs is None or canonical(mine) != canonical(theirs):
            return f"place {i + 1}: recomputed {describe(mine)}, the record says {describe(theirs)}"
    return ""


# --- a replacement: winners withdrew from the replaced draw --------------------------------


def without_entries(text: str, excluded: list[int]) -> str:
    """The list text without the lines of the excluded entry ids (only LF ends a line)."""
    drop = {str(entry_id) for entry_id in excluded}
    lines = text.split("\n")
    kept = [line + "\n" for line in lines[:-1] if line.split("\t", 1)[0] not in drop]
    return "".join(kept) + lines[-1]


def check_withdrawal(r: dict[str, Any], rule: tuple[str, Any], rows: list | None) -> None:
    """From the record alone: the rule fits, and no excluded entry is in the frozen list."""
    withdrawal = r["withdrawal"]
    count = len(withdrawal["withdrawn_entry_ids"])
    if rule[0] == "fixed_ranks" or rule[1] != count:
        raise Failed(f"{count} winners withdrew, so the rule must draw exactly {count}")
    if r["frozen_list"] is None:
        return
    if rows is None:
        raise Failed("the frozen list cannot be parsed, so the excluded winners cannot be looked for")
    excluded = set(withdrawal["excluded_entry_ids"])
    for line, row in enumerate(rows, 1):
        if row[0] in excluded:
            raise Failed(f"entry {row[0]} won draw {withdrawal['draw_id']} but is on line {line} of the list")


def against_withdrawn_draw(r: dict[str, Any], old: dict[str, Any]) -> None:
    """`old` is the revealed draw that the withdrawn winners won."""
    withdrawal = r["withdrawal"]
    if old["status"] != "revealed":
        raise Failed(f"winners withdrew from draw {old['draw_id']}, but it is {old['status']}")
    if old["key"] != withdrawal["key"]:
        raise Failed(f"the replaced draw's key is {old['key']}, this record says {withdrawal['key']}")
    if old["rule"]["kind"] != r["rule"]["kind"]:
        raise Failed(f"the replaced draw's rule is {old['rule']['kind']}, this one's {r['rule']['kind']}")
    winners = {w["entry_id"] for w in old["winners"]}
    for entry_id in withdrawal["withdrawn_entry_ids"]:
        if entry_id not in winners:
            raise Failed(f"entry {entry_id} is not a winner of draw {old['draw_id']}")
    earlier = (old.get("withdrawal") or {}).get("excluded_entry_ids", [])
    if winners | set(earlier) != set(withdrawal["excluded_entry_ids"]):
        raise Failed(f"the excluded entries are not the winners of draw {old['draw_id']} (and earlier)")
    if r["frozen_list"] is not None:
        derived = without_entries(old["frozen_list"], withdrawal["excluded_entry_ids"])
        if derived != r["frozen_list"]:
            raise Failed(f"the list is not draw {old['draw_id']}'s list without the excluded entries")


def against_aborted_draw(r: dict[str, Any], old: dict[str, Any]) -> None:
    """`old` is the aborted draw that this one replaces directly."""
    if old["status"] != "aborted":
        raise Failed(f"draw {old['draw_id']} is {old['status']}; without withdrawn winners only "
                     "an aborted draw can be replaced")
    if canonical(old.get("withdrawal")) != canonical(r.get("withdrawal")):
        raise Failed(f"the aborted draw {old['draw_id']} carried another withdrawal")
    if r.get("withdrawal") is not None and old["rule"]["kind"] != r["rule"]["kind"]:
        raise Failed(f"the replaced draw's rule is {old['rule']['kind']}, this one's {r['rule']['kind']}")


def against_replaced(r: dict[str, Any], old: Any) -> None:
    """The replaced draw's record verifies, is the draw named, and fits this one."""
    result = verify(old)
    if not result["ok"]:
        failed = [c["name"] for c in result["checks"] if c["status"] == "fail"]
        raise Failed("the replaced draw's record does not verify: " + ", ".join(failed))
    if r["replaces_draw_id"] is None:
        raise Failed("a replaced draw's record was given, but this draw replaces none")
    if (old["course"], old["assignment"]) != (r["course"], r["assignment"]):
        raise Failed(f"the replaced draw belongs to {old['course']} {old['assignment']}")
    withdrawal = r.get("withdrawal")
    if withdrawal is not None and old["draw_id"] == withdrawal["draw_id"]:
        return against_withdrawn_draw(r, old)
    if old["draw_id"] == r["replaces_draw_id"]:
        return against_aborted_draw(r, old)
    expected = r["replaces_draw_id"] if withdrawal is None else withdrawal["draw_id"]
    raise Failed(f"the second record is draw {old['draw_id']}, this record names draw {expected}")


def check_replacement(r: dict[str, Any], rule: tuple[str, Any], rows: list | None, old: Any) -> str:
    if r.get("withdrawal") is None and old is None:
        return "skip"
    if r.get("withdrawal") is not None:
        check_withdrawal(r, rule, rows)
    if old is not None:
        against_replaced(r, old)
    return "pass"


def run_checks(r: dict[str, Any], results: dict[str, tuple[str, str]], old: Any = None) -> list | None:
    """Fill `results` for every check after format; return the recomputed winners."""
    rule = parse_rule(r["rule"])
    for name, step in (("commitment", check_commitment), ("protocol", check_protocol)):
        try:
            results[name] = (step(r, rule[0]) if name == "protocol" else step(r), "")
        except Failed as exc:
            results[name] = ("fail", str(exc))
    rows = None
    if r["frozen_list"] is not None:
        rows, problem = check_list(r, rule[0])
        results["list_hash"] = ("fail", problem) if problem else ("pass", "")
    try:
        results["replacement"] = (check_replacement(r, rule, rows, old), "")
    except Failed as exc:
        results["replacement"] = ("fail", str(exc))
    if r["status"] != "revealed":
        return None
    key = draw_key(r["draw_id"], r["list_hash"], r["public_value"], r["seed"])
    same_key = key.hex() == r["key"]
    results["key"] = ("pass", "") if same_key else ("fail", f"recomputed {key.hex()}")
    if rows is None:
        results["winners"] = ("fail", "the frozen list cannot be parsed")
        return None
    computed = winners(rule, rows, key)
    same = [canonical(w) for w in computed] == [canonical(w) for w in r["winners"]]
    detail = "" if same else first_difference(computed, r["winners"])
    results["winners"] = ("pass" if same else "fail", detail)
    return computed


def verify(record: Any, replaced: Any = None) -> dict[str, Any]:
    """{"ok": bool, "checks": [{"name", "status", "detail"}], "winners": [...] or None};
    `replaced`: the record of the draw that `record` replaces, if you have it."""
    results: dict[str, tuple[str, str]] = {}
    computed = None
    try:
        check_shape(record)
    except Failed as exc:
        results["format"] = ("fail", str(exc))
    else:
        results["format"] = ("pass", "")
        computed = run_checks(record, results, replaced)
    checks = []
    for name, _, _ in CHECKS:
        status, detail = results.get(name, ("skip", ""))
        checks.append({"name": name, "status": status, "detail": detail})
    ok = all(check["status"] != "fail" for check in checks)
    return {"ok": ok, "checks": checks, "winners": computed}


# --- command line ---------------------------------------------------------------------------


def winner_line(w: dict[str, Any]) -> str:
    extra = w.get("ticket") or w.get("score") or w.get("likes")
    tail = "" if extra is None else f"  {extra}"
    name = w["name"]
    if any(char < " " for char in name):
        name = json.dumps(name, ensure_ascii=False)  # show tabs and newlines as \t and \n
    where = f"entry {w['entry_id']}, position {w['position']}"
    return f"  {w['place']}. #{w['floor']} {name} ({where}){tail}"


def report(record: Any, result: dict[str, Any]) -> str:
    marks = {"pass": "OK  ", "fail": "FAIL", "skip": "--  "}
    lines = []
    if isinstance(record, dict):
        head = [record.get(n) for n in ("draw_id", "course", "assignment", "status")]
        lines.append("draw {} {} {} ({})".format(*head))
        withdrawal = record.get("withdrawal")
        if isinstance(withdrawal, dict):
            lines.append("replaces winners who withdrew from draw {} / 替换抽奖 {} 中放弃领奖的中奖者: "
                         "{} ({})".format(withdrawal.get("draw_id"), withdrawal.get("draw_id"),
                                          withdrawal.get("withdrawn_entry_ids"), withdrawal.get("reason")))
    labels = {name: f"{english} / {chinese}" for name, english, chinese in CHECKS}
    for check in result["checks"]:
        detail = check["detail"] or ("not applicable / 不适用" if check["status"] == "skip" else "")
        suffix = f": {detail}" if detail else ""
        lines.append(f"{marks[check['status']]} {labels[check['name']]}{suffix}")
    if result["winners"] is not None:
        lines.append("winners / 中奖者:")
        lines.extend(winner_line(w) for w in result["winners"])
    lines.append("VERIFIED / 验证通过" if result["ok"] else "VERIFICATION FAILED / 验证失败")
    return "\n".join(lines)


def read_json(path: str) -> Any:
    """The JSON in a file ("-" = standard input); raises OSError or ValueError."""
    if path == "-":
        return json.load(sys.stdin)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    paths = [a for a in args if a != "--json"]
    if len(paths) not in (1, 2):
        sys.stderr.write("usage: python3 verify_draw.py RECORD.json [REPLACED.json] [--json]\n")
        return 2
    records = []
    for path in paths:
        try:
            records.append(read_json(path))
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"cannot read {path}: {exc}\n")
            return 2
    record = records[0]
    result = verify(record, records[1] if len(records) == 2 else None)
    print(json.dumps(result, ensure_ascii=False, indent=2) if as_json else report(record, result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
