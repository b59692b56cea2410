#!/usr/bin/env python3
"""Verify a Camp prize draw from its public record — no Camp needed.

    python3 verify_draw.py record.json            # report in English and Chinese
    python3 verify_draw.py record.json --json     # machine-readable result
    python3 verify_draw.py new.json old.json      # a replacement, checked against the draw it replaces

This file deliberately re-implements the whole algorithm (standard library only, Python 3.8+)
from the published specification, so that you do not have to trust Camp's own code. It checks:

1. format      the record is a well-formed camp-draw-record, version 1 or 2 (3: below)
2. commitment  SHA-256(seed) equals the commitment published before the list was frozen
3. list_hash   SHA-256 of the frozen list equals the published list hash
4. protocol    times are in order; an early freeze has a reason and (lottery) a public value
5. key         the draw key recomputed from draw id, list hash, public value and seed
6. winners     the winners recomputed from rule, frozen list and key
7. replacement a draw replacing winners who withdrew lists none of the replaced draw's
               winners; with the replaced draw's record as a second file, the two fit together

Version 3 records (docs/draws.md §11) get ten checks: format, metadata (everything published
at commit, hashed), commitment (seed and metadata), list_hash (frozen and excluded lists),
protocol (deadline, late draws, the drand round named by freeze_at), beacon (the drand quicknet
BLS signature: needs `pip install py-ecc`, or py_arkworks_bls12381, the one optional
dependency), key, winners, replacement and signature (Camp's Ed25519 signature; `--key HEX`
requires the key published at /.well-known/camp-draw-key).

Exit status: 0 all applicable checks passed, 1 a check failed, 2 the file could not be read
(or is not JSON), 3 verified except the drand signature (no BLS library installed).

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


# --- record version 3 (docs/draws.md §11) ---------------------------------------------------
# The drand quicknet beacon, pinned: chain hash, public key (G2), BLS on G1 (RFC 9380 suite).
QUICKNET_CHAIN_HASH = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
QUICKNET_PUBLIC_KEY = (
    "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1"
    "fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a"
)
QUICKNET_DST = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
QUICKNET_GENESIS = 1692803367
QUICKNET_PERIOD = 3
BEACON_MARGIN = 600  # seconds after freeze_at
FIELDS_V3 = (
    "format", "version", "draw_id", "course", "assignment", "prize", "rule", "criteria",
    "eligibility", "status", "late", "replaces_draw_id", "withdrawal", "deadline",
    "committed_at", "freeze_at", "beacon", "metadata_hash", "commitment", "frozen_at",
    "early_freeze_reason", "entry_count", "list_hash", "excluded_count", "excluded_hash",
    "revealed_at", "beacon_signature", "seed", "key", "winners", "aborted_at", "abort_reason",
    "audit_head", "signature", "frozen_list", "excluded_list",
)  # fmt: skip
TIMES_V3 = ("deadline", "committed_at", "freeze_at", "frozen_at", "revealed_at", "aborted_at")
CHECKS_V3 = (
    ("format", "record format", "记录格式"),
    ("metadata", "commit metadata matches its hash", "提交元数据与哈希一致"),
    ("commitment", "seed and metadata match the commitment", "种子与元数据和承诺值一致"),
    ("list_hash", "frozen and excluded lists match their hashes", "冻结名单与排除名单与哈希一致"),
    ("protocol", "deadline, freeze and beacon times", "截止、冻结与信标时间"),
    ("beacon", "drand beacon signature", "drand 信标签名"),
    ("key", "draw key", "抽奖密钥"),
    ("winners", "winners recomputed", "中奖者复算"),
    ("replacement", "replaced draw and its winners", "被替换的抽奖及其中奖者"),
    ("signature", "Camp's Ed25519 signature", "Camp 的 Ed25519 签名"),
)
CODE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")
HEX = re.compile(r"[0-9a-f]*")


class Unchecked(Exception):
    """A check that needs the optional BLS library, which is not installed."""


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def round_time(round_number: int) -> int:
    return QUICKNET_GENESIS + (round_number - 1) * QUICKNET_PERIOD


def beacon_round(freeze_at: datetime) -> int:
    """The first round published at or after freeze_at + 10 minutes."""
    elapsed = int(freeze_at.timestamp()) + BEACON_MARGIN - QUICKNET_GENESIS
    return 1 if elapsed <= 0 else -(-elapsed // QUICKNET_PERIOD) + 1


def bls_verify(round_number: int, signature: bytes) -> bool:
    """drand quicknet: e(signature, g2) == e(H(SHA-256(round)), public key). Needs
    `py_arkworks_bls12381` or `py_ecc` (pip install py-ecc); raises Unchecked without."""
    message = hashlib.sha256(round_number.to_bytes(8, "big")).digest()
    key = bytes.fromhex(QUICKNET_PUBLIC_KEY)
    try:
        import py_arkworks_bls12381 as ark
    except ImportError:
        ark = None
    if ark is not None:
        try:
            point = ark.G1Point.from_compressed_bytes(signature)
        except Exception:
            return False
        hashed = ark.G1Point.hash_to_curve(message, QUICKNET_DST)
        public = ark.G2Point.from_compressed_bytes(key)
        return bool(ark.GT.pairing(point, ark.G2Point()) == ark.GT.pairing(hashed, public))
    try:
        from py_ecc.bls.hash_to_curve import hash_to_G1
        from py_ecc.bls.point_compression import decompress_G1, decompress_G2
        from py_ecc.optimized_bls12_381 import FQ12, G2, final_exponentiate, neg
        from py_ecc.optimized_bls12_381.optimized_pairing import miller_loop
    except ImportError:
        raise Unchecked("install py-ecc (pip install py-ecc) to check the drand signature / "
                        "安装 py-ecc 以检查 drand 签名") from None
    try:
        point = decompress_G1(int.from_bytes(signature, "big"))
    except (ValueError, AssertionError):
        return False
    public = decompress_G2((int.from_bytes(key[:48], "big"), int.from_bytes(key[48:], "big")))
    hashed = hash_to_G1(message, QUICKNET_DST, hashlib.sha256)
    return final_exponentiate(miller_loop(G2, point) * miller_loop(neg(public), hashed)) == FQ12.one()


# Ed25519 verification (RFC 8032 §5.1.7), standard library only.
ED_P = 2**255 - 19
ED_L = 2**252 + 27742317777372353535851937790883648493
ED_D = -121665 * pow(121666, ED_P - 2, ED_P) % ED_P
ED_I = pow(2, (ED_P - 1) // 4, ED_P)


def ed_add(a: tuple, b: tuple) -> tuple:
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    p = ED_P
    aa, bb = (y1 - x1) * (y2 - x2) % p, (y1 + x1) * (y2 + x2) % p
    cc, dd = 2 * t1 * t2 * ED_D % p, 2 * z1 * z2 % p
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def ed_mul(scalar: int, point: tuple) -> tuple:
    result = (0, 1, 1, 0)
    while scalar:
        if scalar & 1:
            result = ed_add(result, point)
        point = ed_add(point, point)
        scalar >>= 1
    return result


def ed_decode(data: bytes) -> tuple | None:
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= ED_P:
        return None
    x2 = (y * y - 1) * pow(ED_D * y * y + 1, ED_P - 2, ED_P) % ED_P
    x = pow(x2, (ED_P + 3) // 8, ED_P)
    if (x * x - x2) % ED_P:
        x = x * ED_I % ED_P
    if (x * x - x2) % ED_P or (x == 0 and sign):
        return None
    if x & 1 != sign:
        x = ED_P - x
    return (x, y, 1, x * y % ED_P)


def ed_equal(a: tuple, b: tuple) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % ED_P == 0 and (a[1] * b[2] - b[1] * a[2]) % ED_P == 0


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    point_a = ed_decode(public)
    if point_a is None or len(signature) != 64:
        return False
    point_r = ed_decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if point_r is None or s >= ED_L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % ED_L
    gy = 4 * pow(5, ED_P - 2, ED_P) % ED_P
    gx = ed_decode(gy.to_bytes(32, "little"))
    assert gx is not None
    return ed_equal(ed_mul(s, gx), ed_add(point_r, ed_mul(h, point_a)))


def is_hex(value: Any, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and HEX.fullmatch(value) is not None


def field_problems_v3(r: dict[str, Any]) -> list[str]:
    beacon, head, sig = r["beacon"], r["audit_head"], r["signature"]
    good = {
        "draw_id": is_int(r["draw_id"], 1),
        "text": all(isinstance(r[n], str) for n in TEXT_FIELDS),
        "status": r["status"] in STATUSES,
        "late": type(r["late"]) is bool,
        "criteria": isinstance(r["criteria"], dict) and len(r["criteria"]) <= 32 and all(
            isinstance(k, str) and len(k) <= 64 and CODE.fullmatch(k)
            and (v is None or type(v) in (str, int, bool))
            for k, v in r["criteria"].items()),
        "replaces_draw_id": r["replaces_draw_id"] is None or is_int(r["replaces_draw_id"], 1),
        "beacon": beacon is None or (
            isinstance(beacon, dict) and sorted(beacon) == ["chain_hash", "network", "round"]
            and beacon["network"] == "quicknet" and beacon["chain_hash"] == QUICKNET_CHAIN_HASH
            and is_int(beacon["round"], 1) and beacon["round"] <= MAX_ID),
        "hashes": all(is_hex64(r[n]) for n in ("metadata_hash", "commitment")) and all(
            r[n] is None or is_hex64(r[n]) for n in ("list_hash", "excluded_hash", "seed", "key")),
        "counts": all(r[n] is None or is_int(r[n]) for n in ("entry_count", "excluded_count")),
        "optional text": all(r[n] is None or isinstance(r[n], str) for n in (
            "early_freeze_reason", "abort_reason", "frozen_list", "excluded_list")),
        "beacon_signature": r["beacon_signature"] is None or is_hex(r["beacon_signature"], 96),
        "winners": isinstance(r["winners"], list) and all(map(is_winner, r["winners"])),
        "withdrawal": r["withdrawal"] is None or is_withdrawal_v3(r["withdrawal"]),
        "audit_head": head is None or (isinstance(head, dict) and sorted(head) == ["hash", "seq"]
                                       and is_int(head["seq"], 1) and is_hex64(head["hash"])),
        "signature": sig is None or (isinstance(sig, dict) and sorted(sig) == ["alg", "public_key", "value"]
                                     and sig["alg"] == "ed25519" and is_hex(sig["public_key"], 64)
                                     and is_hex(sig["value"], 128)),
    }
    return [name for name, ok in good.items() if not ok]


def is_withdrawal_v3(value: Any) -> bool:
    if not isinstance(value, dict) or value.get("withdrawn_by") not in ("winner", "staff"):
        return False
    return is_withdrawal({k: v for k, v in value.items() if k != "withdrawn_by"})


def check_shape_v3(r: dict[str, Any]) -> None:
    missing = [name for name in FIELDS_V3 if name not in r]
    if missing:
        raise Failed("missing " + ", ".join(missing))
    problems = field_problems_v3(r)
    if problems:
        raise Failed("bad " + ", ".join(problems))
    for name in TIMES_V3:
        if r[name] is not None:
            parse_time(r[name])
    for name in ("deadline", "committed_at", "freeze_at"):
        if r[name] is None:
            raise Failed(f"{name} is required")
    status = r["status"]
    frozen = [r[n] is not None for n in ("frozen_at", "entry_count", "list_hash", "frozen_list",
                                         "excluded_count", "excluded_hash", "excluded_list")]
    if any(frozen) and not all(frozen):
        raise Failed("the freeze fields go together")
    revealed, aborted = status == "revealed", status == "aborted"
    expected = {"seed": revealed or aborted, "revealed_at": revealed, "key": revealed,
                "aborted_at": aborted, "abort_reason": aborted,
                "beacon_signature": revealed and r["beacon"] is not None}
    if not aborted:
        expected["frozen_at"] = status in ("frozen", "revealed")
    for name, present in expected.items():
        if (r[name] is not None) != present:
            raise Failed(f"{name} does not fit the status {status}")
    if aborted and not r["abort_reason"].strip():
        raise Failed("blank abort reason")
    if r["frozen_at"] is None and r["early_freeze_reason"] is not None:
        raise Failed("freeze details without a freeze")
    if r["winners"] and not revealed:
        raise Failed("winners before reveal")
    if r["audit_head"] is not None and not (revealed or aborted):
        raise Failed("an audit head before reveal or abort")
    if r["withdrawal"] is not None and r["replaces_draw_id"] is None:
        raise Failed("a withdrawal without replaces_draw_id")
    parse_rule(r["rule"])


def metadata_hash_v3(r: dict[str, Any]) -> str:
    names = ("draw_id", "course", "assignment", "prize", "eligibility", "rule", "criteria", "late",
             "replaces_draw_id", "withdrawal", "deadline", "committed_at", "freeze_at", "beacon")
    meta = {name: r[name] for name in names}
    meta["spec"] = "camp-draw-v3"
    return hashlib.sha256(canonical_bytes(meta)).hexdigest()


def parse_excluded(text: str) -> list[tuple[int, int, str]]:
    if text and not text.endswith("\n"):
        raise Failed("the excluded list does not end with a newline")
    rows: list[tuple[int, int, str]] = []
    for number, line in enumerate(text.split("\n")[:-1], 1):
        fields = line.split("\t")
        if len(fields) != 3 or len(fields[2]) > 64 or not CODE.fullmatch(fields[2]):
            raise Failed(f"excluded list line {number} is not id TAB floor TAB reason code")
        row = (uint(fields[0]), uint(fields[1]), fields[2])
        if rows and (row[1], row[0]) <= (rows[-1][1], rows[-1][0]):
            raise Failed(f"excluded list line {number} is out of order or repeats an id")
        rows.append(row)
    if len({row[0] for row in rows}) != len(rows):
        raise Failed("the excluded list names a submission twice")
    return rows


def check_lists_v3(r: dict[str, Any], kind: str) -> tuple[list | None, list | None, str | None]:
    rows, problem = check_list(r, kind)
    if problem:
        return rows, None, problem
    try:
        excluded = parse_excluded(r["excluded_list"])
    except Failed as exc:
        return rows, None, str(exc)
    actual = hashlib.sha256(r["excluded_list"].encode("utf-8")).hexdigest()
    if actual != r["excluded_hash"]:
        expected = r["excluded_hash"]
        return rows, excluded, f"SHA-256 of the excluded list is {actual}, the record says {expected}"
    if len(excluded) != r["excluded_count"]:
        count = r["excluded_count"]
        return rows, excluded, f"the excluded list has {len(excluded)} lines, the record says {count}"
    assert rows is not None
    if {row[0] for row in rows} & {row[0] for row in excluded}:
        return rows, excluded, "a submission is both an entry and excluded"
    floors = [row[1] for row in rows] + [row[1] for row in excluded]
    if len(set(floors)) != len(floors):
        return rows, excluded, "a floor appears twice"
    return rows, excluded, None


def check_protocol_v3(r: dict[str, Any], kind: str) -> str:
    t = {name: None if r[name] is None else parse_time(r[name]) for name in TIMES_V3}
    check_protocol_order(r, t)
    if t["freeze_at"] < t["deadline"]:
        raise Failed(f"freeze_at ({r['freeze_at']}) is before the deadline ({r['deadline']})")
    if t["committed_at"] >= t["deadline"] and not r["late"]:
        raise Failed(f"committed at {r['committed_at']}, not before the deadline {r['deadline']}, "
                     "and not declared late")
    early = t["frozen_at"] is not None and t["frozen_at"] < t["freeze_at"]
    if early and not (r["early_freeze_reason"] or "").strip():
        raise Failed("frozen before the announced time without a reason")
    if (kind == "lottery") != (r["beacon"] is not None):
        raise Failed("a lottery names a beacon round, other rules none")
    if r["beacon"] is None:
        return "pass"
    number, expected = r["beacon"]["round"], beacon_round(t["freeze_at"])
    if number != expected:
        raise Failed(f"the beacon must be round {expected} (the first at or after freeze_at + 10 min), "
                     f"not {number}")
    published = round_time(number)
    if t["frozen_at"] is not None and t["frozen_at"].timestamp() >= published:
        raise Failed(f"frozen at {r['frozen_at']}, not before round {number} was published")
    if t["aborted_at"] is not None and t["aborted_at"].timestamp() >= published:
        raise Failed(f"aborted at {r['aborted_at']}, after round {number} was published: "
                     "the outcome was known when it was stopped")
    if t["revealed_at"] is not None and t["revealed_at"].timestamp() < published:
        raise Failed(f"revealed at {r['revealed_at']}, before round {number} was published")
    return "pass"


def check_protocol_order(r: dict[str, Any], t: dict[str, Any]) -> None:
    order = [("committed_at", "freeze_at", True), ("committed_at", "frozen_at", False),
             ("frozen_at", "revealed_at", False), ("committed_at", "aborted_at", False),
             ("frozen_at", "aborted_at", False)]
    for first, second, strict in order:
        a, b = t[first], t[second]
        if a is not None and b is not None and (b < a or (strict and a == b)):
            raise Failed(f"{second} ({r[second]}) is not after {first} ({r[first]})")
    withdrawal = r.get("withdrawal")
    withdrawn_from = None if withdrawal is None else withdrawal["draw_id"]
    if r["draw_id"] in (r["replaces_draw_id"], withdrawn_from):
        raise Failed("the draw says it replaces itself")


def draw_key_v3(r: dict[str, Any]) -> bytes:
    signature = r["beacon_signature"]
    randomness = b"" if signature is None else hashlib.sha256(bytes.fromhex(signature)).digest()
    material = (frame(b"camp-draw-v3") + frame(bytes.fromhex(r["metadata_hash"]))
                + frame(bytes.fromhex(r["list_hash"])) + frame(bytes.fromhex(r["excluded_hash"]))
                + frame(randomness) + frame(bytes.fromhex(r["seed"])))
    return hashlib.sha256(material).digest()


def excluded_text(rows: list[tuple[int, int, str]]) -> str:
    return "".join(f"{i}\t{f}\t{c}\n" for i, f, c in sorted(rows, key=lambda row: (row[1], row[0])))


def check_signature_v3(r: dict[str, Any], trusted_key: str | None) -> str:
    sig = r["signature"]
    if sig is None:
        if trusted_key is not None:
            raise Failed("the record is not signed")
        return "skip"
    if trusted_key is not None and sig["public_key"] != trusted_key:
        raise Failed(f"signed with key {sig['public_key']}, not with {trusted_key}")
    body = canonical_bytes({k: v for k, v in r.items() if k != "signature"})
    if not ed25519_verify(bytes.fromhex(sig["public_key"]), body, bytes.fromhex(sig["value"])):
        raise Failed("the Ed25519 signature does not match the record")
    return "pass"


def run_checks_v3(r: dict[str, Any], results: dict[str, tuple[str, str]], old: Any,
                  trusted_key: str | None) -> list | None:
    rule = parse_rule(r["rule"])
    actual = metadata_hash_v3(r)
    results["metadata"] = ("pass", "") if actual == r["metadata_hash"] else (
        "fail", f"SHA-256 of the metadata is {actual}, the record says {r['metadata_hash']}")
    if r["seed"] is not None:
        material = (frame(b"camp-draw-v3-commitment") + frame(bytes.fromhex(r["seed"]))
                    + frame(bytes.fromhex(r["metadata_hash"])))
        commitment = hashlib.sha256(material).hexdigest()
        results["commitment"] = ("pass", "") if commitment == r["commitment"] else (
            "fail", f"recomputed {commitment}, the commitment is {r['commitment']}")
    for name, step in (("protocol", lambda: check_protocol_v3(r, rule[0])),
                       ("signature", lambda: check_signature_v3(r, trusted_key))):
        try:
            results[name] = (step(), "")
        except Failed as exc:
            results[name] = ("fail", str(exc))
    rows = None
    if r["frozen_list"] is not None:
        rows, _, problem = check_lists_v3(r, rule[0])
        results["list_hash"] = ("fail", problem) if problem else ("pass", "")
    try:
        results["replacement"] = (check_replacement(r, rule, rows, old), "")
        withdrawal = r["withdrawal"]
        if old is not None and withdrawal is not None and old.get("version") == 3 and \
                old["draw_id"] == withdrawal["draw_id"] and r["excluded_list"] is not None:
            gave_up = set(withdrawal["withdrawn_entry_ids"])
            expected = parse_excluded(old["excluded_list"]) + [
                (w["entry_id"], w["floor"], "withdrew" if w["entry_id"] in gave_up else "prize_kept")
                for w in old["winners"]]
            if excluded_text(expected) != r["excluded_list"]:
                raise Failed(f"the excluded list is not draw {old['draw_id']}'s plus its winners")
    except Failed as exc:
        results["replacement"] = ("fail", str(exc))
    if r["beacon_signature"] is not None:
        try:
            ok = bls_verify(r["beacon"]["round"], bytes.fromhex(r["beacon_signature"]))
            results["beacon"] = ("pass", "") if ok else (
                "fail", f"not drand quicknet's signature of round {r['beacon']['round']}")
        except Unchecked as exc:
            results["beacon"] = ("unchecked", str(exc))
    if r["status"] != "revealed":
        return None
    key = draw_key_v3(r)
    results["key"] = ("pass", "") if key.hex() == r["key"] else ("fail", f"recomputed {key.hex()}")
    if rows is None:
        results["winners"] = ("fail", "the frozen list cannot be parsed")
        return None
    computed = winners(rule, rows, key)
    same = [canonical(w) for w in computed] == [canonical(w) for w in r["winners"]]
    detail = "" if same else first_difference(computed, r["winners"])
    results["winners"] = ("pass" if same else "fail", detail)
    return computed


def is_v3(record: Any) -> bool:
    return isinstance(record, dict) and record.get("format") == FORMAT and record.get("version") == 3


def verify(record: Any, replaced: Any = None, trusted_key: Any = None) -> dict[str, Any]:
    """{"ok": bool, "checks": [{"name", "status", "detail"}], "winners": [...] or None,
    "unchecked": bool}; `replaced`: the record of the draw that `record` replaces, if you have
    it; `trusted_key`: the hex Ed25519 key that must have signed a version 3 record. A check
    reported "unchecked" (the drand signature without a BLS library) is not a failure, but
    `unchecked` is then true and the command line exits with status 3."""
    results: dict[str, tuple[str, str]] = {}
    computed = None
    try:
        if is_v3(record):
            check_shape_v3(record)
        else:
            check_shape(record)
    except Failed as exc:
        results["format"] = ("fail", str(exc))
    else:
        results["format"] = ("pass", "")
        if is_v3(record):
            computed = run_checks_v3(record, results, replaced, trusted_key)
        else:
            computed = run_checks(record, results, replaced)
    checks = []
    for name, _, _ in CHECKS_V3 if is_v3(record) else CHECKS:
        status, detail = results.get(name, ("skip", ""))
        checks.append({"name": name, "status": status, "detail": detail})
    ok = all(check["status"] != "fail" for check in checks)
    unchecked = any(check["status"] == "unchecked" for check in checks)
    return {"ok": ok, "checks": checks, "winners": computed, "unchecked": unchecked}


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
    marks = {"pass": "OK  ", "fail": "FAIL", "skip": "--  ", "unchecked": "??  "}
    lines = []
    if isinstance(record, dict):
        head = [record.get(n) for n in ("draw_id", "course", "assignment", "status")]
        lines.append("draw {} {} {} ({})".format(*head))
        withdrawal = record.get("withdrawal")
        if isinstance(withdrawal, dict):
            lines.append("replaces winners who withdrew from draw {} / 替换抽奖 {} 中放弃领奖的中奖者: "
                         "{} ({})".format(withdrawal.get("draw_id"), withdrawal.get("draw_id"),
                                          withdrawal.get("withdrawn_entry_ids"), withdrawal.get("reason")))
    labels = {name: f"{english} / {chinese}" for name, english, chinese in CHECKS + CHECKS_V3}
    for check in result["checks"]:
        detail = check["detail"] or ("not applicable / 不适用" if check["status"] == "skip" else "")
        suffix = f": {detail}" if detail else ""
        lines.append(f"{marks[check['status']]} {labels[check['name']]}{suffix}")
    if result["winners"] is not None:
        lines.append("winners / 中奖者:")
        lines.extend(winner_line(w) for w in result["winners"])
    if not result["ok"]:
        lines.append("VERIFICATION FAILED / 验证失败")
    elif result.get("unchecked"):
        lines.append("VERIFIED EXCEPT THE DRAND SIGNATURE (install py-ecc) / "
                     "除 drand 签名外验证通过(请安装 py-ecc)")
    else:
        lines.append("VERIFIED / 验证通过")
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
    trusted_key = None
    if "--key" in args:
        at = args.index("--key")
        trusted_key = args[at + 1].strip().lower() if at + 1 < len(args) else ""
        del args[at : at + 2]
    paths = [a for a in args if a != "--json"]
    if len(paths) not in (1, 2) or (trusted_key is not None and not is_hex(trusted_key, 64)):
        sys.stderr.write("usage: python3 verify_draw.py RECORD.json [REPLACED.json] [--json] [--key HEX]\n")
        return 2
    records = []
    for path in paths:
        try:
            records.append(read_json(path))
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"cannot read {path}: {exc}\n")
            return 2
    record = records[0]
    result = verify(record, records[1] if len(records) == 2 else None, trusted_key)
    print(json.dumps(result, ensure_ascii=False, indent=2) if as_json else report(record, result))
    if not result["ok"]:
        return 1
    return 3 if result["unchecked"] else 0


if __name__ == "__main__":
    sys.exit(main())
