"""Camp's verifier and the standalone student script agree on many random (often damaged) records.

The script re-implements the algorithm on purpose; these tests keep both implementations equal:
same pass/fail/skip for every check, and the same recomputed winners.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.draws import (
    DrawError,
    Entry,
    FixedRanks,
    Lottery,
    Rule,
    TopLikes,
    TopScore,
    abort,
    commit,
    format_time,
    freeze,
    list_hash,
    new_seed,
    parse_ranks,
    record_to_json,
    reveal,
    verify_record,
)
from tests.draws.drawkit import T0, load_standalone

standalone = load_standalone()
NAME_CHARS = "ab xyz\\\t\n\r中文用户🎉#"
RANK_CHARS = "0123456789-+n<=≤,， ;a1"


def random_rule(rng: random.Random) -> Rule:
    kind = rng.choice(["lottery", "fixed_ranks", "top_score", "top_likes"])
    if kind == "fixed_ranks":
        start, step = rng.randint(1, 9), rng.randint(1, 15)
        bound = rng.choice(["", f"<={start + rng.randint(0, 60)}"])
        return FixedRanks(parse_ranks(f"1-{rng.randint(1, 4)},{rng.randint(1, 70)},{start}+{step}n{bound}"))
    count = rng.randint(1, 6)
    return {"lottery": Lottery, "top_score": TopScore, "top_likes": TopLikes}[kind](count)


def random_entries(rng: random.Random, count: int) -> list[Entry]:
    ids = rng.sample(range(0, 10**6), count)
    entries = []
    for position, entry_id in enumerate(ids):
        name = "".join(rng.choice(NAME_CHARS) for _ in range(rng.randint(0, 6)))
        score = Decimal(rng.randint(-500, 500)).scaleb(-rng.randint(0, 3))
        entries.append(Entry(entry_id, position + rng.randint(1, 3), name, score, rng.randint(0, 5)))
    return entries


def random_record(rng: random.Random) -> dict[str, Any]:
    rule, seed = random_rule(rng), new_seed()
    draw = commit(
        draw_id=rng.randint(1, 10**6), course="dl-bootcamp", assignment=rng.choice(["1-1", "7-1"]),
        rule=rule, seed=seed, committed_at=T0, freeze_at=T0 + timedelta(days=4),
    )  # fmt: skip
    status = rng.choice(["committed", "frozen", "revealed", "revealed", "revealed", "aborted"])
    if status != "committed" and not (status == "aborted" and rng.random() < 0.5):
        early = rng.random() < 0.3
        source = "NIST beacon" if rng.random() < 0.2 else None
        draw = freeze(
            draw, random_entries(rng, rng.randint(0, 60)),
            frozen_at=T0 + timedelta(days=3 if early else 4, seconds=rng.randint(0, 100)),
            early_freeze_reason="ran out of prizes" if early else None, public_value_source=source,
        )  # fmt: skip
    if status == "revealed":
        value = rng.choice([None, "beacon 1", "区块 00af", "x" * rng.randint(1, 40)])
        if value is None and (draw.frozen_early or draw.public_value_source):
            value = "required value"
        draw = reveal(draw, seed=seed, revealed_at=T0 + timedelta(days=5), public_value=value)
    if status == "aborted":
        draw = abort(draw, reason="wrong rule", seed=seed, aborted_at=T0 + timedelta(days=6))
    return record_to_json(draw)


def flip_char(rng: random.Random, text: str) -> str:
    if not text:
        return "0"
    i = rng.randrange(len(text))
    replacement = rng.choice("0123456789abcdef\t\\n中 ")
    return text[:i] + replacement + text[i + 1 :]


def mutate(rng: random.Random, data: dict[str, Any]) -> None:
    """One random damage: a changed character, a wrong type, a missing field, a re-hashed list..."""
    name = rng.choice(list(data))
    choice = rng.randrange(10)
    if choice == 0 and isinstance(data[name], str):
        data[name] = flip_char(rng, data[name])
    elif choice == 1:
        data[name] = rng.choice([None, 0, -1, 1, "", "x", [], {}, True, 1.5, "2020-01-05T00:00:00Z"])
    elif choice == 2:
        del data[name]
    elif choice == 3:
        data["status"] = rng.choice(["committed", "frozen", "revealed", "aborted", "done"])
    elif choice == 4:
        data["rule"] = json.loads(json.dumps(data["rule"]))
        if "count" in data["rule"]:
            data["rule"]["count"] = rng.choice([0, 1, 2, 7, "3"])
        else:
            data["rule"]["ranks"] = "".join(rng.choice(RANK_CHARS) for _ in range(rng.randint(0, 8)))
    elif choice == 5 and data.get("winners"):
        winner = rng.choice(data["winners"])
        key = rng.choice(list(winner))
        winner[key] = rng.choice([0, 1, "x", None, 2.0, winner[key]])
    elif choice == 6 and isinstance(data.get("frozen_list"), str):
        lines = data["frozen_list"].split("\n")
        rng.shuffle(lines)
        data["frozen_list"] = "\n".join(lines)
        if rng.random() < 0.7:  # a consistent forgery: re-hash and re-count
            try:
                data["list_hash"] = list_hash(data["frozen_list"])
            except ValueError:
                pass
            data["entry_count"] = data["frozen_list"].count("\n")
    elif choice == 7:
        field = rng.choice(["committed_at", "freeze_at", "frozen_at", "revealed_at", "aborted_at"])
        data[field] = format_time(T0 + timedelta(days=rng.randint(-1, 6), seconds=rng.randint(0, 9)))
    elif choice == 8 and data.get("winners"):
        data["winners"] = data["winners"][:-1] if rng.random() < 0.5 else data["winners"] * 2
    elif choice == 9:
        field = rng.choice(["seed", "commitment", "list_hash", "key"])
        if isinstance(data.get(field), str) and data[field]:
            i = rng.randrange(len(data[field]))
            old = data[field][i]
            digit = "0123456789abcdef"[(int(old, 16) + 1) % 16] if old in "0123456789abcdef" else "0"
            data[field] = data[field][:i] + digit + data[field][i + 1 :]


def both(data: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]], Any, Any]:
    ours = verify_record(data)
    theirs = standalone.verify(data)
    mine = [(c.name, c.status) for c in ours.checks]
    script = [(c["name"], c["status"]) for c in theirs["checks"]]
    winners = None if ours.winners is None else [w.to_json() for w in ours.winners]
    return mine, script, winners, theirs["winners"]


@pytest.mark.parametrize("seed", range(4))
def test_verifiers_agree_on_random_records(seed: int) -> None:
    rng = random.Random(seed)
    outcomes: dict[str, int] = {}
    for _ in range(250):
        data = random_record(rng)
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            mutate(rng, data)
        mine, script, winners, script_winners = both(data)
        assert mine == script, json.dumps(data, ensure_ascii=False)[:2000]
        if mine[-1][1] == "pass":
            assert winners == script_winners
        failed = ",".join(name for name, status in mine if status == "fail") or "ok"
        outcomes[failed] = outcomes.get(failed, 0) + 1
    # the random damage reaches every check
    reached = set(",".join(outcomes).split(","))
    assert {"ok", "format", "commitment", "list_hash", "protocol", "key", "winners"} <= reached, outcomes


def test_verifiers_agree_on_undamaged_records() -> None:
    rng = random.Random(99)
    for _ in range(200):
        data = random_record(rng)
        mine, script, winners, script_winners = both(data)
        assert mine == script
        assert all(status != "fail" for _, status in mine), mine
        if data["status"] == "revealed":
            assert winners == script_winners == data["winners"]


def test_rank_parsers_agree_on_random_expressions() -> None:
    rng = random.Random(5)
    accepted = 0
    for _ in range(3000):
        text = "".join(rng.choice(RANK_CHARS) for _ in range(rng.randint(0, 14)))
        if rng.random() < 0.3:
            text = f"{rng.randint(0, 9)}-{rng.randint(0, 20)},{rng.randint(1, 9)}+{rng.randint(0, 9)}n"
        try:
            spec = parse_ranks(text)
        except DrawError:
            with pytest.raises(standalone.Failed):
                standalone.parse_ranks(text)
            continue
        accepted += 1
        terms = standalone.parse_ranks(text)
        for count in (0, 1, 7, 50, 333):
            assert spec.positions(count) == standalone.rank_positions(terms, count), text
    assert accepted > 300
