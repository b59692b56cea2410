"""Public records: every check of verify_record, and the standalone script run as a student would."""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.draws import (
    FixedRanks,
    Lottery,
    TopLikes,
    TopScore,
    parse_ranks,
    record_from_json,
    record_to_json,
    verify_record,
)
from tests.draws.drawkit import STANDALONE, make_entries, record_at, revealed

SEED = "c0ffee" * 10 + "c0ff"
RULES = [
    Lottery(3),
    FixedRanks(parse_ranks("1-3,6,66+100n<=666")),
    TopScore(4),
    TopLikes(4),
]


def statuses(data: Any) -> dict[str, str]:
    return {check.name: check.status for check in verify_record(data).checks}


def lottery_record(**kw: Any) -> dict[str, Any]:
    return record_to_json(revealed(Lottery(3), make_entries(20), SEED, **kw))


def run_script(tmp_path: Path, record: Any, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(STANDALONE), str(path), *args],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.kind)
def test_revealed_records_verify_completely(rule: Any) -> None:
    data = record_at("revealed", rule, make_entries(120, rule), SEED)
    result = verify_record(data)
    assert result.ok and result.complete, result.report()
    assert [w.to_json() for w in result.winners or ()] == data["winners"]
    assert json.loads(json.dumps(data)) == data  # plain JSON


@pytest.mark.parametrize("status", ["committed", "frozen", "aborted"])
def test_records_before_reveal_verify_what_they_can(status: str) -> None:
    data = record_at(status, Lottery(3), make_entries(10), SEED)
    result = verify_record(data)
    assert result.ok and not result.complete
    assert statuses(data)["winners"] == "skip"
    assert (data["seed"] is None) == (status != "aborted")


def test_aborted_after_freeze_checks_list_and_seed() -> None:
    data = record_at("aborted", Lottery(3), make_entries(10), SEED, after_freeze=True)
    assert statuses(data) == {
        "format": "pass", "commitment": "pass", "list_hash": "pass",
        "protocol": "pass", "key": "skip", "winners": "skip", "replacement": "skip",
    }  # fmt: skip


def test_record_round_trips_through_record_from_json() -> None:
    data = lottery_record(public_value="beacon")
    assert record_to_json(record_from_json(data)) == data


def test_one_changed_character_in_the_list_fails_the_list_hash() -> None:
    data = lottery_record()
    text = data["frozen_list"]
    data["frozen_list"] = text.replace("thunder95", "thunder96", 1)
    assert statuses(data)["list_hash"] == "fail"
    assert not verify_record(data).ok


def test_one_changed_byte_of_the_seed_fails_the_commitment() -> None:
    data = lottery_record()
    data["seed"] = ("d" if data["seed"][0] != "d" else "e") + data["seed"][1:]
    result = verify_record(data)
    assert result.failed[0] == "commitment"
    assert "SHA-256" in result.check("commitment").message("en")


def test_changed_public_value_fails_key_and_winners() -> None:
    data = lottery_record(public_value="beacon 1234")
    data["public_value"] = "beacon 1235"
    assert verify_record(data).failed == ("key", "winners")


def test_edited_winner_fails_winners() -> None:
    data = lottery_record()
    data["winners"][1]["name"] = "someone else"
    result = verify_record(data)
    assert result.failed == ("winners",)
    assert "place 2" in result.check("winners").message("en")
    assert "第 2 位" in result.check("winners").message("zh-CN")


def test_swapped_winner_order_fails_winners() -> None:
    data = lottery_record()
    data["winners"][0], data["winners"][1] = data["winners"][1], data["winners"][0]
    assert verify_record(data).failed == ("winners",)


def test_wrong_entry_count_fails_list_hash() -> None:
    data = lottery_record()
    data["entry_count"] += 1
    assert verify_record(data).failed == ("list_hash",)


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        (lambda d: d.update(revealed_at="2020-01-01T00:00:00Z"), ("protocol",)),
        (lambda d: d.update(frozen_at="2020-01-05T00:00:00Z"), ("protocol",)),  # early, no reason
        (lambda d: d.update(replaces_draw_id=d["draw_id"]), ("protocol",)),
        (lambda d: d.update(version=3), ("format",)),
        (lambda d: d.update(version=2), ("format",)),  # version 2 has a withdrawal key
        (lambda d: d.update(withdrawal={"draw_id": 1}), ("format",)),  # not in version 1
        (lambda d: d.pop("key"), ("format",)),
        (lambda d: d.update(status="frozen"), ("format",)),  # seed published before reveal
        (lambda d: d.update(draw_id="42"), ("format",)),
        (lambda d: d.update(rule={"kind": "fixed_ranks", "ranks": "3-1"}), ("format",)),
        (lambda d: d["winners"][0].update(floor=2.0), ("format",)),
        (lambda d: d["winners"][0].update(extra=1), ("format",)),
        (lambda d: d.update(committed_at="2020-01-02 04:00:00"), ("format",)),
        (lambda d: d.update(frozen_list=None), ("format",)),
    ],
)
def test_each_kind_of_damage_is_reported_by_the_right_check(change: Any, failed: tuple) -> None:
    data = lottery_record()
    change(data)
    assert verify_record(data).failed == failed


def test_early_lottery_without_public_value_fails_protocol() -> None:
    data = lottery_record()
    data["frozen_at"] = "2020-01-05T00:00:00Z"
    data["early_freeze_reason"] = "prizes ran out"
    assert verify_record(data).failed == ("protocol",)
    good = record_to_json(revealed(Lottery(3), make_entries(20), SEED, early=True, public_value="b"))
    assert verify_record(good).ok


def test_not_a_record_at_all() -> None:
    for data in [None, [], "x", {}, {"format": "camp-draw-record", "version": 1}]:
        result = verify_record(data)
        assert result.failed == ("format",)
        assert [c.status for c in result.checks[1:]] == ["skip"] * 6


def test_report_in_both_languages() -> None:
    result = verify_record(lottery_record())
    assert "OK   Winners recomputed: OK" in result.report("en")
    assert "中奖者复算: 通过" in result.report("zh-CN")


# --- the standalone script, as a subprocess -------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.kind)
def test_standalone_script_reproduces_the_winners(tmp_path: Path, rule: Any) -> None:
    data = record_at("revealed", rule, make_entries(150, rule), SEED, public_value="b")
    done = run_script(tmp_path, data, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] and result["winners"] == data["winners"]
    assert [c["status"] for c in result["checks"]] == ["pass"] * 6 + ["skip"]


def test_standalone_script_prints_a_bilingual_report(tmp_path: Path) -> None:
    data = lottery_record()
    done = run_script(tmp_path, data)
    assert done.returncode == 0
    assert "VERIFIED / 验证通过" in done.stdout
    first = data["winners"][0]
    assert f"1. #{first['floor']} {first['name']}" in done.stdout


@pytest.mark.parametrize("field", ["frozen_list", "seed", "public_value"])
def test_standalone_script_fails_on_one_changed_byte(tmp_path: Path, field: str) -> None:
    data = lottery_record(public_value="beacon 1234")
    original = data[field]
    index = len(original) // 2
    data[field] = original[:index] + ("0" if original[index] != "0" else "1") + original[index + 1 :]
    done = run_script(tmp_path, data, "--json")
    assert done.returncode == 1
    failed = {c["name"] for c in json.loads(done.stdout)["checks"] if c["status"] == "fail"}
    if field == "frozen_list":  # the hash fails; winners may fail too if a winner's line changed
        assert "list_hash" in failed and failed <= {"list_hash", "winners"}
    else:
        expected = {"seed": {"commitment", "key", "winners"}, "public_value": {"key", "winners"}}
        assert failed == expected[field]
    assert "VERIFICATION FAILED" in run_script(tmp_path, data).stdout


def test_standalone_script_usage_and_unreadable_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(STANDALONE), str(bad)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "cannot read" in done.stderr
    done = subprocess.run([sys.executable, str(STANDALONE)], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "usage" in done.stderr


def test_standalone_script_uses_only_the_standard_library() -> None:
    """Besides the standard library, only the optional BLS library (version 3's drand check),
    imported inside the one function that needs it."""
    tree = ast.parse(STANDALONE.read_text(encoding="utf-8"))
    top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    imports = {alias.name for node in top if isinstance(node, ast.Import) for alias in node.names}
    imports |= {node.module or "" for node in top if isinstance(node, ast.ImportFrom)}
    allowed = {"__future__", "hashlib", "heapq", "json", "re", "sys", "datetime", "decimal", "typing"}
    assert imports <= allowed
    nested = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    nested |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    optional = {name for name in nested - allowed}
    assert {name.split(".")[0] for name in optional} <= {"py_arkworks_bls12381", "py_ecc"}


def test_mutating_a_copy_leaves_the_original(tmp_path: Path) -> None:
    data = lottery_record()
    copied = copy.deepcopy(data)
    copied["seed"] = "00" * 32
    assert verify_record(data).ok and not verify_record(copied).ok
