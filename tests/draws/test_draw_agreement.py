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
    replacement_entries,
    replacement_rule,
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


def both(data: Any, replaced: Any = None) -> tuple[list[tuple[str, str]], list[tuple[str, str]], Any, Any]:
    ours = verify_record(data, replaced)
    theirs = standalone.verify(data, replaced)
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


# --- replacements of revealed draws (winners withdrew) ---------------------------------------


def random_revealed(rng: random.Random) -> Any:
    kind = rng.choice([Lottery, Lottery, TopScore, TopLikes])
    seed = new_seed()
    draw = commit(
        draw_id=rng.randint(1, 10**5), course="dl-bootcamp", assignment="7-1",
        rule=kind(rng.randint(1, 6)), seed=seed, committed_at=T0, freeze_at=T0 + timedelta(days=4),
    )  # fmt: skip
    draw = freeze(draw, random_entries(rng, rng.randint(1, 40)), frozen_at=T0 + timedelta(days=4))
    return reveal(draw, seed=seed, revealed_at=T0 + timedelta(days=5), public_value="beacon 1")


def random_replacement(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """(a replacement record at a random stage, the record of the revealed draw it replaces)."""
    old = random_revealed(rng)
    winners = [w.entry_id for w in old.winners]
    gone = rng.sample(winners, rng.randint(1, len(winners)))
    seed, start = new_seed(), T0 + timedelta(days=6)
    draw = commit(
        draw_id=old.draw_id + rng.randint(1, 50), course=old.course, assignment=old.assignment,
        rule=replacement_rule(old, len(gone)), seed=seed, committed_at=start,
        freeze_at=start + timedelta(hours=1), replaces=old, withdrawn=gone,
        withdrawal_reason=rng.choice(["出国了", "moved abroad", " x "]),
    )  # fmt: skip
    status = rng.choice(["committed", "frozen", "revealed", "revealed", "aborted"])
    if status in ("frozen", "revealed") or (status == "aborted" and rng.random() < 0.5):
        entries = replacement_entries(old, draw.withdrawal)  # type: ignore[arg-type]
        draw = freeze(draw, entries, frozen_at=start + timedelta(hours=1))
    if status == "revealed":
        draw = reveal(draw, seed=seed, revealed_at=start + timedelta(hours=2), public_value="pulse 9")
    if status == "aborted":
        draw = abort(draw, reason="typo", seed=seed, aborted_at=start + timedelta(hours=3))
    return record_to_json(draw), record_to_json(old)


def sneak_in(rng: random.Random, data: dict[str, Any], old: dict[str, Any]) -> None:
    """Put one of the old winners' lines into the list, re-hashed and re-counted."""
    if data.get("frozen_list") is None or not old["winners"]:
        return
    winner = rng.choice(old["winners"])["entry_id"]
    line = next(x for x in old["frozen_list"].split("\n") if x.startswith(f"{winner}\t"))
    lines = data["frozen_list"].split("\n")[:-1]
    lines.insert(rng.randint(0, len(lines)), line)
    data["frozen_list"] = "".join(f"{x}\n" for x in lines)
    data["list_hash"] = list_hash(data["frozen_list"])
    data["entry_count"] = len(lines)


def mutate_withdrawal(rng: random.Random, data: dict[str, Any], old: dict[str, Any]) -> None:
    """One random damage to what makes a replacement."""
    withdrawal = data.get("withdrawal")
    choice = rng.randrange(9)
    if choice == 0:
        sneak_in(rng, data, old)
    elif choice == 1 and isinstance(withdrawal, dict):
        field = rng.choice(["withdrawn_entry_ids", "excluded_entry_ids"])
        ids = list(withdrawal[field])
        action = rng.randrange(4)
        if action == 0 and ids:
            ids.pop(rng.randrange(len(ids)))
        elif action == 1:
            ids.append(rng.choice([0, 7, 10**6 + 1, ids[-1] if ids else 1]))
        elif action == 2:
            ids.reverse()
        else:
            ids = sorted(set(ids) | {rng.randint(0, 10**6)})
        withdrawal[field] = ids
    elif choice == 2 and isinstance(withdrawal, dict):
        withdrawal[rng.choice(list(withdrawal))] = rng.choice([None, 0, 1, "", " ", "0" * 64, [], [1]])
    elif choice == 3:
        data["version"] = rng.choice([1, 2, 3])
    elif choice == 4:
        data["replaces_draw_id"] = rng.choice([None, old["draw_id"], old["draw_id"] + 1, data["draw_id"]])
    elif choice == 5:
        data["rule"] = {"kind": rng.choice(["lottery", "top_score", "top_likes"]), "count": rng.randint(1, 3)}
    elif choice == 6:
        data["withdrawal"] = None if rng.random() < 0.5 else data.pop("withdrawal", None)
    elif choice == 7:
        old["assignment"] = rng.choice(["7-1", "7-2"])
    elif choice == 8:
        mutate(rng, rng.choice([data, old]))


@pytest.mark.parametrize("seed", range(3))
def test_verifiers_agree_on_random_replacements(seed: int) -> None:
    rng = random.Random(1000 + seed)
    outcomes: dict[str, int] = {}
    for _ in range(150):
        data, old = random_replacement(rng)
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            mutate_withdrawal(rng, data, old)
        for replaced in (None, old):
            mine, script, winners, script_winners = both(data, replaced)
            assert mine == script, (json.dumps(data, ensure_ascii=False)[:1500], replaced is not None)
            if mine[-2][1] == "pass":
                assert winners == script_winners
            outcome = f"replacement:{mine[-1][1]}"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert {"replacement:pass", "replacement:fail", "replacement:skip"} <= set(outcomes), outcomes


def test_verifiers_agree_that_undamaged_replacements_verify() -> None:
    rng = random.Random(77)
    for _ in range(100):
        data, old = random_replacement(rng)
        for replaced in (None, old):
            mine, script, winners, script_winners = both(data, replaced)
            assert mine == script and all(status != "fail" for _, status in mine), mine
            assert mine[-1] == ("replacement", "pass")
            if data["status"] == "revealed":
                assert winners == script_winners == data["winners"]
