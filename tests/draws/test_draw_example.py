"""The worked example of docs/draws.md: every number printed there is recomputed here."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from app.draws import (
    Entry,
    Lottery,
    commit,
    freeze,
    record_from_json,
    record_to_json,
    replacement_entries,
    replacement_rule,
    reveal,
    ticket,
    verify_record,
    without_entries,
)
from app.draws.keys import key_material
from tests.draws.drawkit import ROOT, load_standalone

DOC = ROOT / "docs" / "draws.md"
RECORD = Path(__file__).with_name("example_record.json")
SEED = bytes(range(32)).hex()
ENTRIES = [
    Entry(101, 2, "thunder95"),
    Entry(102, 3, "你还说不想我吗"),
    Entry(103, 5, "百度用户#0762194095"),
    Entry(104, 8, "呵赫 he"),
    Entry(105, 13, "tab\there"),
]
EXPECTED = {
    "seed": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    "commitment": "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd",
    "list_hash": "2f7ef224a4023039ce21bc954132e2ce61f2802dc50d1f7f84948fad838bfdb0",
    "key": "e3b82cf6ba01fd9e107f261c5b089fd6935d2a7d61d9da46b1267e9cc8afd201",
}
LIST_HEX = (
    "3130310932097468756e64657239350a313032093309e4bda0e8bf98e8afb4e4b88de683b3e68891e590970a"
    "313033093509e799bee5baa6e794a8e688b723303736323139343039350a313034093809e591b5e8b5ab2068"
    "650a313035093133097461625c74686572650a"
)
MATERIAL_HEX = (
    "0000000c63616d702d647261772d7631"
    "000000023432"
    "000000202f7ef224a4023039ce21bc954132e2ce61f2802dc50d1f7f84948fad838bfdb0"
    "000000206578616d706c6520626561636f6e20323032302d30312d30365430343a33305a"
    "00000020000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
)
TICKETS = {
    101: "31329cbeb5f44ac1b833319200cc3635c16617b72f6de863e0c2ac6c40ddb902",
    102: "8d7014ecb38ea83c57d2b9614b985fec079b186b2f5566272f65936e423afc96",
    103: "18488569c3a3e7061cdb90822aee09b42f1a56127f262addf10d80f3f6be5fc9",
    104: "62dea52b06fdb3373f8afcabb7efa52537455a51afedc040026770e648e4c0dc",
    105: "2a4d55ed34ececf91686e8329ab3d1fa4b2c52a22351758e932d034ce8e3e1ba",
}


def example_record() -> dict:
    draw = commit(
        draw_id=42,
        course="dl-bootcamp",
        assignment="7-1",
        rule=Lottery(2),
        seed=SEED,
        committed_at=datetime(2020, 1, 2, 4, tzinfo=UTC),
        freeze_at=datetime(2020, 1, 6, 4, tzinfo=UTC),
        eligibility="每位同学在截止时间前的第一条有效回复 / "
        "each student's first valid reply before the deadline",
        prize="飞桨定制本 + 数据线",
    )
    draw = freeze(
        draw, ENTRIES, frozen_at=datetime(2020, 1, 6, 4, tzinfo=UTC),
        public_value_source="the value announced at 2020-01-06T04:30:00Z",
    )  # fmt: skip
    draw = reveal(
        draw, seed=SEED, revealed_at=datetime(2020, 1, 6, 5, tzinfo=UTC),
        public_value="example beacon 2020-01-06T04:30Z",
    )  # fmt: skip
    return record_to_json(draw)


def test_example_numbers() -> None:
    data = example_record()
    for field, value in EXPECTED.items():
        assert data[field] == value
    assert hashlib.sha256(bytes.fromhex(SEED)).hexdigest() == EXPECTED["commitment"]
    assert data["frozen_list"].encode("utf-8").hex() == LIST_HEX
    material = key_material(42, EXPECTED["list_hash"], data["public_value"], SEED)
    assert material.hex() == MATERIAL_HEX and len(material) == 130
    assert hashlib.sha256(material).hexdigest() == EXPECTED["key"]
    key = bytes.fromhex(EXPECTED["key"])
    assert {e.entry_id: ticket(key, e.entry_id).hex() for e in ENTRIES} == TICKETS
    assert [(w["entry_id"], w["floor"], w["name"]) for w in data["winners"]] == [
        (103, 5, "百度用户#0762194095"),
        (105, 13, "tab\there"),
    ]


def test_example_record_file_is_current_and_verifies_with_both_verifiers() -> None:
    stored = json.loads(RECORD.read_text(encoding="utf-8"))
    assert stored == example_record()
    assert verify_record(stored).complete
    assert load_standalone().verify(stored)["ok"]


def test_doc_prints_the_same_numbers() -> None:
    doc = DOC.read_text(encoding="utf-8")
    numbers = [*EXPECTED.values(), *TICKETS.values(), LIST_HEX[:88]]
    numbers += [MATERIAL_HEX[i : i + 72] for i in range(0, len(MATERIAL_HEX), 72)]
    for number in numbers:
        assert number in doc.replace("\n", "").replace(" ", ""), number
    assert f"Its {len(LIST_HEX) // 2} UTF-8 bytes" in doc
    assert "The 130 bytes hashed into the key" in doc
    stored = RECORD.read_text(encoding="utf-8")
    assert stored.strip() in doc  # the whole record is shown


# --- the worked replacement: the winner of entry 105 withdrew -------------------------------

REPLACEMENT = Path(__file__).with_name("example_replacement_record.json")
SEED_43 = bytes(range(32, 64)).hex()
EXPECTED_43 = {
    "seed": "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
    "commitment": "72dbb7336c76780023f83da4c355f2eeea85733b13d3477697917790c1229084",
    "list_hash": "ed5f7dff29fe4e3d33faf1086578dc98cc0a6a401ab06495fded1c5420eb0334",
    "key": "a780c25059ab2d5b94a63bdbcd53a7215aa33bf31bf8882db9266e503f155fb9",
}
LIST_HEX_43 = (
    "3130310932097468756e64657239350a313032093309e4bda0e8bf98e8afb4e4b88de683b3e68891e590970a"
    "313034093809e591b5e8b5ab2068650a"
)
MATERIAL_HEX_43 = (
    "0000000c63616d702d647261772d7631"
    "000000023433"
    "00000020ed5f7dff29fe4e3d33faf1086578dc98cc0a6a401ab06495fded1c5420eb0334"
    "000000206578616d706c6520626561636f6e20323032302d30312d30375430353a33305a"
    "00000020202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
)
TICKETS_43 = {
    101: "39fdf4283a32be9e362aa4733fe0f3f5b05fe5e25549b4e070ba8518f83eb8ba",
    102: "44f7090cd63b52a008fc88cb09b8bdd21b7b49c8376e900cdd73c5aa15e1a9ce",
    104: "db90de0cb69aae042304cfce69caf071f60b0d745bc3490d68732c70b2ae0267",
}


def example_replacement() -> dict:
    old = record_from_json(example_record())
    draw = commit(
        draw_id=43, course="dl-bootcamp", assignment="7-1", rule=replacement_rule(old, 1),
        seed=SEED_43, committed_at=datetime(2020, 1, 7, 4, tzinfo=UTC),
        freeze_at=datetime(2020, 1, 7, 5, tzinfo=UTC),
        eligibility="每位同学在截止时间前的第一条有效回复；抽奖 42 的冻结名单去掉其全部中奖者（含放弃者） / "
        "each student's first valid reply before the deadline; draw 42's frozen list without any of "
        "its winners (those who withdrew included)",
        prize=old.prize, replaces=old, withdrawn=[105],
        withdrawal_reason="出国，无法领奖 / moved abroad, cannot receive the prize",
    )  # fmt: skip
    assert draw.withdrawal is not None
    draw = freeze(
        draw, replacement_entries(old, draw.withdrawal), frozen_at=datetime(2020, 1, 7, 5, tzinfo=UTC),
        public_value_source="the value announced at 2020-01-07T05:30:00Z",
    )  # fmt: skip
    draw = reveal(
        draw, seed=SEED_43, revealed_at=datetime(2020, 1, 7, 6, tzinfo=UTC),
        public_value="example beacon 2020-01-07T05:30Z",
    )  # fmt: skip
    return record_to_json(draw)


def test_replacement_example_numbers() -> None:
    data = example_replacement()
    for field, value in EXPECTED_43.items():
        assert data[field] == value
    assert data["frozen_list"] == without_entries(example_record()["frozen_list"], [103, 105])
    assert data["frozen_list"].encode("utf-8").hex() == LIST_HEX_43
    material = key_material(43, EXPECTED_43["list_hash"], data["public_value"], SEED_43)
    assert material.hex() == MATERIAL_HEX_43 and len(material) == 130
    key = bytes.fromhex(EXPECTED_43["key"])
    assert {entry_id: ticket(key, entry_id).hex() for entry_id in TICKETS_43} == TICKETS_43
    assert [(w["entry_id"], w["floor"], w["name"]) for w in data["winners"]] == [(101, 2, "thunder95")]


def test_replacement_record_file_is_current_and_verifies_with_both_verifiers() -> None:
    stored = json.loads(REPLACEMENT.read_text(encoding="utf-8"))
    assert stored == example_replacement()
    old = json.loads(RECORD.read_text(encoding="utf-8"))
    for replaced in (None, old):
        assert verify_record(stored, replaced).complete
        result = load_standalone().verify(stored, replaced)
        assert result["ok"] and result["checks"][-1]["status"] == "pass"


def test_doc_prints_the_replacement_numbers() -> None:
    doc = DOC.read_text(encoding="utf-8")
    flat = doc.replace("\n", "").replace(" ", "")
    numbers = [*EXPECTED_43.values(), *TICKETS_43.values(), LIST_HEX_43[:88]]
    numbers += [MATERIAL_HEX_43[i : i + 72] for i in range(0, len(MATERIAL_HEX_43), 72)]
    for number in numbers:
        assert number in flat, number
    assert f"Its {len(LIST_HEX_43) // 2} UTF-8 bytes" in doc
    assert REPLACEMENT.read_text(encoding="utf-8").strip() in doc
