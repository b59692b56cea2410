"""A winner withdrew after the reveal: a new draw replaces the revealed one. Its list is the old
list without every old winner, it draws as many as withdrew, and both verifiers prove it from
the records alone (and, given the old record too, that the two fit together)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.draws import (
    DrawError,
    DrawRecord,
    FixedRanks,
    Lottery,
    TopLikes,
    TopScore,
    abort,
    commit,
    freeze,
    list_hash,
    new_seed,
    parse_ranks,
    record_to_json,
    replacement_entries,
    replacement_rule,
    reveal,
    verify_record,
    without_entries,
)
from tests.draws.drawkit import STANDALONE, T0, load_standalone, make_entries, replacement, revealed

standalone = load_standalone()
SEED, SEED2, SEED3 = "5eed" * 16, "beef" * 16, "cafe" * 16
DAY = timedelta(days=1)


def old_lottery(count: int = 3, entries: int = 20) -> DrawRecord:
    return revealed(Lottery(count), make_entries(entries), SEED)


def ids(draw: DrawRecord) -> list[int]:
    return [w.entry_id for w in draw.winners]


def listed(draw: DrawRecord) -> list[int]:
    assert draw.frozen_list is not None
    return [int(line.split("\t")[0]) for line in draw.frozen_list.split("\n")[:-1]]


def statuses(data: Any, replaced: Any = None) -> dict[str, str]:
    ours = {c.name: c.status for c in verify_record(data, replaced).checks}
    theirs = {c["name"]: c["status"] for c in standalone.verify(data, replaced)["checks"]}
    assert ours == theirs, (ours, theirs)
    return ours


def rehash(data: dict[str, Any], frozen_list: str) -> None:
    """A consistent forgery of the list: new text, its hash and count."""
    data["frozen_list"] = frozen_list
    data["list_hash"] = list_hash(frozen_list)
    data["entry_count"] = frozen_list.count("\n")


# --- the pure steps --------------------------------------------------------------------------


def test_replacing_a_revealed_lottery_excludes_every_old_winner() -> None:
    old = old_lottery()
    before = record_to_json(old)
    gone = ids(old)[1]
    new = replacement(old, [gone], SEED2)
    assert new.status == "revealed" and new.replaces_draw_id == old.draw_id
    assert new.rule == Lottery(1) and len(new.winners) == 1
    assert new.withdrawal is not None
    assert new.withdrawal.withdrawn == (gone,)
    assert new.withdrawal.excluded == tuple(sorted(ids(old)))
    assert new.withdrawal.key == old.key and new.withdrawal.draw_id == old.draw_id
    assert not set(ids(old)) & set(listed(new)) and new.entry_count == 17
    assert listed(new) == [i for i in listed(old) if i not in ids(old)]  # same order
    assert ids(new)[0] not in ids(old)
    assert record_to_json(old) == before  # the published record does not change


@pytest.mark.parametrize("trial", range(30))
def test_old_winners_never_win_again_and_k_is_the_number_withdrawn(trial: int) -> None:
    rng = random.Random(trial)
    old = revealed(Lottery(rng.randint(1, 6)), make_entries(rng.randint(1, 40), rng=rng), new_seed())
    if not old.winners:
        return
    gone = rng.sample(ids(old), rng.randint(1, len(old.winners)))
    new = replacement(old, gone, new_seed(), public_value=f"value {trial}")
    assert new.rule == Lottery(len(gone))
    assert not set(ids(old)) & set(listed(new))
    assert not set(ids(old)) & set(ids(new))
    assert len(new.winners) == min(len(gone), old.entry_count - len(old.winners))  # type: ignore[operator]
    assert verify_record(record_to_json(new), record_to_json(old)).complete


@pytest.mark.parametrize("rule", [TopScore(3), TopLikes(3)], ids=lambda r: r.kind)
def test_top_n_replacement_takes_the_next_best(rule: Any) -> None:
    entries = make_entries(30, rule)
    old = revealed(rule, entries, SEED)
    withdrawn = [ids(old)[0], ids(old)[2]]
    new = replacement(old, withdrawn, SEED2, public_value=None)  # no randomness, no value needed
    ranking = revealed(type(rule)(5), entries, SEED)  # the top 5 of the same list
    assert ids(new) == ids(ranking)[3:5]
    assert verify_record(record_to_json(new), record_to_json(old)).complete


def test_a_replacement_lottery_needs_a_public_value() -> None:
    old = old_lottery()
    frozen = replacement(old, [ids(old)[0]], SEED2, status="frozen")
    with pytest.raises(DrawError) as info:
        reveal(frozen, seed=SEED2, revealed_at=frozen.frozen_at + DAY)  # type: ignore[operator]
    assert info.value.code == "reveal.public_value_replacement"
    assert "公开随机值" in info.value.message("zh-CN")
    data = record_to_json(replacement(old, [ids(old)[0]], SEED2))
    data["public_value"] = None
    assert statuses(data)["protocol"] == "fail"


@pytest.mark.parametrize(
    ("withdrawn", "reason", "code"),
    [
        ([], "x", "replace.withdrawn_required"),
        ([1], "x", "replace.not_a_winner"),
        (["first", "first"], "x", "replace.withdrawn_twice"),
        (["first"], "  ", "replace.reason_required"),
    ],
)
def test_what_a_withdrawal_refuses(withdrawn: list[Any], reason: str, code: str) -> None:
    old = old_lottery()
    entry_ids = [ids(old)[0] if item == "first" else item for item in withdrawn]
    with pytest.raises(DrawError) as info:
        commit(
            draw_id=43, course=old.course, assignment=old.assignment, rule=Lottery(1), seed=SEED2,
            committed_at=T0 + 6 * DAY, freeze_at=T0 + 7 * DAY, replaces=old, withdrawn=entry_ids,
            withdrawal_reason=reason,
        )  # fmt: skip
    assert info.value.code == code
    assert info.value.message("zh-CN") != info.value.message("en")


def test_the_rule_must_be_the_same_kind_for_as_many_as_withdrew() -> None:
    old = old_lottery()
    for rule in (Lottery(2), TopScore(1), FixedRanks(parse_ranks("1"))):
        with pytest.raises(DrawError) as info:
            commit(
                draw_id=43, course=old.course, assignment=old.assignment, rule=rule, seed=SEED2,
                committed_at=T0 + 6 * DAY, freeze_at=T0 + 7 * DAY, replaces=old,
                withdrawn=[ids(old)[0]], withdrawal_reason="ill",
            )  # fmt: skip
        assert info.value.code == "replace.rule_mismatch"


def test_fixed_ranks_have_no_replacement() -> None:
    old = revealed(FixedRanks(parse_ranks("1-3")), make_entries(10), SEED)
    with pytest.raises(DrawError) as info:
        replacement_rule(old, 1)
    assert info.value.code == "replace.fixed_ranks"
    with pytest.raises(DrawError) as info:
        commit(
            draw_id=43, course=old.course, assignment=old.assignment, rule=Lottery(1), seed=SEED2,
            committed_at=T0 + 6 * DAY, freeze_at=T0 + 7 * DAY, replaces=old,
            withdrawn=[ids(old)[0]], withdrawal_reason="ill",
        )  # fmt: skip
    assert info.value.code == "replace.fixed_ranks"


def test_only_aborted_or_revealed_draws_of_the_same_homework_are_replaced() -> None:
    old = old_lottery()
    frozen = freeze(
        commit(draw_id=50, course="dl-bootcamp", assignment="7-1", rule=Lottery(1), seed=SEED,
               committed_at=T0, freeze_at=T0 + DAY),
        make_entries(5), frozen_at=T0 + DAY,
    )  # fmt: skip
    cases = [
        (frozen, "7-1", [], "replace.not_aborted"),
        (old, "7-2", [ids(old)[0]], "replace.other_assignment"),
        (old, "7-1", [], "replace.withdrawn_required"),
        (abort(frozen, reason="x", seed=SEED, aborted_at=T0 + DAY), "7-1", [1001], "replace.withdrawn_on_aborted"),
    ]
    for replaced, assignment, withdrawn, code in cases:
        with pytest.raises(DrawError) as info:
            commit(
                draw_id=51, course="dl-bootcamp", assignment=assignment, rule=Lottery(1), seed=SEED2,
                committed_at=T0 + 6 * DAY, freeze_at=T0 + 7 * DAY, replaces=replaced,
                withdrawn=withdrawn, withdrawal_reason="x",
            )  # fmt: skip
        assert info.value.code == code, code


def test_freeze_refuses_a_list_with_an_old_winner() -> None:
    old = old_lottery()
    draw = replacement(old, [ids(old)[0]], SEED2, status="committed")
    sneaky = make_entries(20)  # the old list, winners included
    with pytest.raises(DrawError) as info:
        freeze(draw, sneaky, frozen_at=draw.freeze_at)
    assert info.value.code == "freeze.excluded_entry"
    assert info.value.params["draw_id"] == old.draw_id


def test_a_replacement_of_a_replacement_excludes_every_earlier_winner() -> None:
    old = old_lottery(count=3, entries=12)
    first = replacement(old, [ids(old)[0]], SEED2)
    second = replacement(first, ids(first), SEED3, draw_id=44)
    assert second.withdrawal is not None
    assert set(second.withdrawal.excluded) == set(ids(old)) | set(ids(first))
    assert not set(second.withdrawal.excluded) & set(listed(second))
    assert len(listed(second)) == 12 - 4
    assert verify_record(record_to_json(second), record_to_json(first)).complete
    data = record_to_json(second)
    assert statuses(data, record_to_json(old))["replacement"] == "fail"  # names draw 43, not 42


def test_an_aborted_replacement_is_replaced_with_the_same_withdrawal() -> None:
    old = old_lottery()
    stopped = abort(
        replacement(old, [ids(old)[2]], SEED2, status="committed"),
        reason="typo in the prize", seed=SEED2, aborted_at=T0 + 6 * DAY,
    )  # fmt: skip
    again = commit(
        draw_id=44, course=old.course, assignment=old.assignment, rule=Lottery(1), seed=SEED3,
        committed_at=T0 + 7 * DAY, freeze_at=T0 + 8 * DAY, replaces=stopped,
    )  # fmt: skip
    assert again.withdrawal == stopped.withdrawal and again.replaces_draw_id == 43
    assert again.withdrawal is not None and again.withdrawal.draw_id == old.draw_id
    again = freeze(again, replacement_entries(old, again.withdrawal), frozen_at=T0 + 8 * DAY)
    again = reveal(again, seed=SEED3, revealed_at=T0 + 9 * DAY, public_value="pulse 7")
    data = record_to_json(again)
    assert statuses(data, record_to_json(old))["replacement"] == "pass"
    assert statuses(data, record_to_json(stopped))["replacement"] == "pass"
    with pytest.raises(DrawError) as info:  # the rule still has to fit the withdrawal
        commit(
            draw_id=45, course=old.course, assignment=old.assignment, rule=Lottery(2), seed=SEED3,
            committed_at=T0 + 7 * DAY, freeze_at=T0 + 8 * DAY, replaces=stopped,
        )  # fmt: skip
    assert info.value.code == "replace.rule_mismatch"


# --- what the verifiers catch ----------------------------------------------------------------


def test_replacement_records_are_version_2_and_others_stay_version_1() -> None:
    old = old_lottery()
    new = record_to_json(replacement(old, [ids(old)[0]], SEED2))
    assert record_to_json(old)["version"] == 1 and "withdrawal" not in record_to_json(old)
    assert new["version"] == 2 and list(new).index("withdrawal") == list(new).index("replaces_draw_id") + 1
    assert new["withdrawal"] == {
        "draw_id": 42, "key": old.key, "withdrawn_entry_ids": [ids(old)[0]],
        "excluded_entry_ids": sorted(ids(old)), "reason": "moved abroad, cannot receive the prize",
    }  # fmt: skip
    assert statuses(new) == dict.fromkeys(statuses(new), "pass")
    assert statuses(new, record_to_json(old))["replacement"] == "pass"


@pytest.mark.parametrize("status", ["committed", "frozen", "revealed"])
def test_a_replacement_verifies_at_every_stage(status: str) -> None:
    old = old_lottery()
    data = record_to_json(replacement(old, [ids(old)[0]], SEED2, status=status))
    assert statuses(data)["replacement"] == "pass"
    assert statuses(data, record_to_json(old))["replacement"] == "pass"
    assert verify_record(data, record_to_json(old)).ok


def test_an_old_winner_sneaked_into_the_list_fails_from_the_record_alone() -> None:
    old = old_lottery()
    data = record_to_json(replacement(old, [ids(old)[0]], SEED2, status="frozen"))
    line = next(x for x in old.frozen_list.split("\n") if x.startswith(f"{ids(old)[1]}\t"))  # type: ignore[union-attr]
    rehash(data, f"{line}\n" + data["frozen_list"])
    assert statuses(data) == {
        "format": "pass", "commitment": "skip", "list_hash": "pass", "protocol": "pass",
        "key": "skip", "winners": "skip", "replacement": "fail",
    }  # fmt: skip
    check = verify_record(data).check("replacement")
    assert check.code == "verify.excluded_in_list" and check.params == {
        "entry_id": ids(old)[1], "line": 1, "draw_id": 42}
    assert "冻结名单第 1 行" in check.message("zh-CN")


def test_hiding_the_sneaked_winner_from_the_exclusions_fails_against_the_old_record() -> None:
    old = old_lottery()
    data = record_to_json(replacement(old, [ids(old)[0]], SEED2, status="frozen"))
    kept = ids(old)[1]
    line = next(x for x in old.frozen_list.split("\n") if x.startswith(f"{kept}\t"))  # type: ignore[union-attr]
    rehash(data, f"{line}\n" + data["frozen_list"])
    data["withdrawal"]["excluded_entry_ids"].remove(kept)
    assert statuses(data)["replacement"] == "pass"  # alone, the forgery is consistent
    assert statuses(data, record_to_json(old))["replacement"] == "fail"
    assert verify_record(data, record_to_json(old)).check("replacement").code == "verify.excluded_mismatch"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda d, o: d["withdrawal"].update(key="0" * 64), "verify.replaced_key"),
        (lambda d, o: d["withdrawal"].update(withdrawn_entry_ids=[5], excluded_entry_ids=[5, *o]),
         "verify.withdrawn_not_winner"),
        (lambda d, o: rehash(d, d["frozen_list"].split("\n", 1)[1]), "verify.list_not_derived"),
        (lambda d, o: d.update(assignment="7-2"), "verify.replaced_other_assignment"),
        (lambda d, o: d["withdrawal"].update(draw_id=41), "verify.replaced_not_aborted"),
        (lambda d, o: d.update(replaces_draw_id=41) or d["withdrawal"].update(draw_id=41),
         "verify.replaced_other_draw"),
    ],
)
def test_what_the_old_record_reveals(change: Any, code: str) -> None:
    old = old_lottery()
    data = record_to_json(replacement(old, [ids(old)[0]], SEED2, status="frozen"))
    change(data, sorted(ids(old)))
    assert statuses(data)["replacement"] == "pass"
    result = verify_record(data, record_to_json(old))
    assert result.failed == ("replacement",) and result.check("replacement").code == code


def test_a_plain_replacement_cannot_replace_a_revealed_draw() -> None:
    """Dropping the withdrawal (back to version 1) hides nothing when the old record is given."""
    old = old_lottery()
    data = record_to_json(replacement(old, [ids(old)[0]], SEED2, status="frozen"))
    data["version"] = 1
    del data["withdrawal"]
    assert statuses(data)["replacement"] == "skip"
    assert statuses(data, record_to_json(old))["replacement"] == "fail"
    assert verify_record(data, record_to_json(old)).check("replacement").code == "verify.replaced_not_aborted"


def test_a_replaced_record_that_does_not_verify_fails_the_replacement() -> None:
    old = record_to_json(old_lottery())
    data = record_to_json(replacement(old_lottery(), [old["winners"][0]["entry_id"]], SEED2))
    old["seed"] = "0" * 64
    assert statuses(data, old)["replacement"] == "fail"
    assert "commitment" in verify_record(data, old).check("replacement").message("en")
    assert statuses(data, {"not": "a record"})["replacement"] == "fail"


def test_an_aborted_draw_replaced_as_before() -> None:
    stopped = abort(
        commit(draw_id=42, course="dl-bootcamp", assignment="7-1", rule=Lottery(2), seed=SEED,
               committed_at=T0, freeze_at=T0 + DAY),
        reason="wrong rule", seed=SEED, aborted_at=T0 + DAY,
    )  # fmt: skip
    new = commit(
        draw_id=43, course="dl-bootcamp", assignment="7-1", rule=Lottery(3), seed=SEED2,
        committed_at=T0 + DAY, freeze_at=T0 + 2 * DAY, replaces=stopped,
    )  # fmt: skip
    new = reveal(freeze(new, make_entries(9), frozen_at=T0 + 2 * DAY), seed=SEED2, revealed_at=T0 + 3 * DAY)
    data = record_to_json(new)
    assert data["version"] == 1 and new.withdrawal is None
    assert statuses(data)["replacement"] == "skip"
    assert statuses(data, record_to_json(stopped))["replacement"] == "pass"
    assert statuses(record_to_json(stopped), data)["replacement"] == "fail"  # replaces nothing


def test_without_entries_keeps_the_order_and_other_line_breaks() -> None:
    text = "1\t2\ta\u2028b\n3\t4\tc\x0bd\n5\t6\te\n"
    assert without_entries(text, [3]) == "1\t2\ta\u2028b\n5\t6\te\n"
    assert without_entries(text, []) == text and without_entries("", [1]) == ""


# --- the standalone script as a subprocess ---------------------------------------------------


def run_script(tmp_path: Path, *records: Any) -> subprocess.CompletedProcess[str]:
    paths = []
    for i, record in enumerate(records):
        path = tmp_path / f"record{i}.json"
        path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        paths.append(str(path))
    return subprocess.run(
        [sys.executable, str(STANDALONE), *paths], capture_output=True, text=True, check=False, timeout=60
    )


def test_standalone_script_checks_a_replacement_with_and_without_the_old_record(tmp_path: Path) -> None:
    old = old_lottery()
    data = record_to_json(replacement(old, [ids(old)[0]], SEED2))
    alone = run_script(tmp_path, data)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert "VERIFIED" in alone.stdout and "withdrew from draw 42" in alone.stdout
    both = run_script(tmp_path, data, record_to_json(old))
    assert both.returncode == 0 and "OK   replaced draw and its winners" in both.stdout, both.stdout
    line = next(x for x in old.frozen_list.split("\n") if x.startswith(f"{ids(old)[1]}\t"))  # type: ignore[union-attr]
    rehash(data, f"{line}\n" + data["frozen_list"])
    sneaked = run_script(tmp_path, data)
    assert sneaked.returncode == 1 and f"entry {ids(old)[1]} won draw 42" in sneaked.stdout
    unreadable = tmp_path / "missing.json"
    done = subprocess.run([sys.executable, str(STANDALONE), str(tmp_path / "record0.json"), str(unreadable)],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2 and "cannot read" in done.stderr
