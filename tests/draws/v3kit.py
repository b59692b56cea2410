"""Version 3 records built from real drand quicknet rounds (the worked examples of docs/draws.md
§11) and helpers to re-seal a tampered record the way a dishonest operator would."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from app.draws import Entry, record_from_json, record_to_json, replacement_entries, replacement_rule, v3
from app.draws.exclusions import Excluded
from app.draws.keys import commitment_v3
from app.draws.protocol import parse_time
from app.draws.rules import rule_from_json

HERE = Path(__file__).resolve().parent
EXAMPLE_V3 = HERE / "example_v3_record.json"
EXAMPLE_V3_REPLACEMENT = HERE / "example_v3_replacement_record.json"

# Real published quicknet rounds (api.drand.sh/<chain hash>/public/<round>), checked with two
# BLS libraries by test_draw_beacon.py.
ROUND_123 = (123, "b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92")
ROUND_657413 = (
    657413,
    "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b",
)
SEED_42 = bytes(range(32)).hex()
SEED_43 = bytes(range(32, 64)).hex()
ENTRIES = [
    Entry(101, 2, "thunder95"),
    Entry(102, 3, "你还说不想我吗"),
    Entry(103, 5, "百度用户#0762194095"),
    Entry(104, 8, "呵赫 he"),
    Entry(105, 13, "tab\there"),
]
EXCLUDED = [Excluded(100, 1, "staff"), Excluded(106, 4, "not_correct"), Excluded(109, 21, "late")]
CRITERIA = {"correct_only": True, "one_per_student": "first", "min_score": None}
ELIGIBILITY = "每位同学在截止时间前的第一条正确回复 / each student's first accepted reply before the deadline"


def t(text: str) -> datetime:
    return parse_time(text)


def example_draw() -> v3.DrawRecord:
    """Draw 42: a lottery for 2 prizes; freeze_at 15:05:33 names round 123 (15:15:33)."""
    draw = v3.commit(
        draw_id=42, course="dl-bootcamp", assignment="7-1",
        rule=rule_from_json({"kind": "lottery", "count": 2}), seed=SEED_42,
        committed_at=t("2023-08-22T08:00:00Z"), freeze_at=t("2023-08-23T15:05:33Z"),
        deadline=t("2023-08-23T15:00:00Z"), criteria=CRITERIA, eligibility=ELIGIBILITY,
        prize="飞桨定制本 + 数据线",
    )  # fmt: skip
    draw = v3.freeze(draw, ENTRIES, EXCLUDED, frozen_at=t("2023-08-23T15:05:33Z"))
    return v3.reveal(
        draw, seed=SEED_42, revealed_at=t("2023-08-23T15:20:00Z"), beacon_signature=ROUND_123[1]
    )


def example_replacement() -> v3.DrawRecord:
    """Draw 43: the second winner of draw 42 withdrew from their own account; a late lottery for
    1 prize whose freeze_at 10:50:03 names round 657413 (11:00:03)."""
    old = example_draw()
    gave_up = old.winners[1].entry_id
    new = v3.commit(
        draw_id=43, course="dl-bootcamp", assignment="7-1",
        rule=replacement_rule(old, 1), seed=SEED_43,
        committed_at=t("2023-09-15T10:00:00Z"), freeze_at=t("2023-09-15T10:50:03Z"),
        deadline=t("2023-08-23T15:00:00Z"), criteria=CRITERIA, late=True,
        eligibility=ELIGIBILITY + "；抽奖 42 的冻结名单去掉其全部中奖者 / draw 42's list without its winners",
        prize="飞桨定制本 + 数据线", replaces=old, withdrawn=[gave_up],
        withdrawal_reason="出国，无法领奖 / moved abroad, cannot receive the prize",
        withdrawn_by="winner",
    )  # fmt: skip
    assert new.withdrawal is not None
    excluded = [Excluded(*row) for row in _old_exclusions(old, {gave_up})]
    new = v3.freeze(
        new, replacement_entries(old, new.withdrawal), excluded, frozen_at=t("2023-09-15T10:50:03Z")
    )
    return v3.reveal(
        new, seed=SEED_43, revealed_at=t("2023-09-15T11:05:00Z"), beacon_signature=ROUND_657413[1]
    )


def _old_exclusions(old: v3.DrawRecord, withdrawn: set[int]) -> list[tuple[int, int, str]]:
    rows = [(e.submission_id, e.floor, e.reason) for e in EXCLUDED]
    for winner in old.winners:
        rows.append((winner.entry_id, winner.floor, "withdrew" if winner.entry_id in withdrawn else "prize_kept"))
    return rows


def reseal(record: dict[str, Any], seed: str | None = None) -> dict[str, Any]:
    """What a dishonest operator who knows the seed does after editing a record: recompute the
    metadata hash, the commitment, the list hashes, the key and the winners so that every hash
    fits. (Only the beacon signature, the beacon round rule and the timing rules stay.)"""
    data = dict(record)
    draw = record_from_json({**data, "metadata_hash": "0" * 64})
    digest = v3.metadata_hash(draw)
    data["metadata_hash"] = digest
    seed = seed or data["seed"]
    data["commitment"] = commitment_v3(seed, digest)
    if data["frozen_list"] is not None:
        data["list_hash"] = hashlib.sha256(data["frozen_list"].encode()).hexdigest()
        data["excluded_hash"] = hashlib.sha256(data["excluded_list"].encode()).hexdigest()
    if data["status"] == "revealed":
        draw = record_from_json(data)
        key = v3.derive_key(draw, seed, data["beacon_signature"])
        from app.draws import decode_entries, pick_winners

        winners = pick_winners(draw.rule, decode_entries(data["frozen_list"], draw.rule), key)
        data["key"] = key.hex()
        data["winners"] = [w.to_json() for w in winners]
        data["seed"] = seed
    return data


def example_records() -> tuple[dict[str, Any], dict[str, Any]]:
    return record_to_json(example_draw()), record_to_json(example_replacement())
