"""Record version 3: the drand beacon, bound metadata, timing rules, public exclusions and
signatures. Both verifiers (app.draws and the standalone script) must agree on every record,
and the attacks of issue "draws the operator cannot steer" are replayed and must fail."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.draws import DrawError, Entry, beacon, record_to_json, rule_from_json, v3, verify_record
from app.draws.exclusions import Excluded
from app.draws.signing import new_private_key, public_key_hex, sign_record
from tests.draws import v3kit
from tests.draws.drawkit import STANDALONE, load_standalone
from tests.draws.v3kit import ROUND_123, ROUND_657413, SEED_42, reseal, t

standalone = load_standalone()
EXAMPLE_V1 = Path(__file__).resolve().parent / "example_record.json"
EXAMPLE_V2 = Path(__file__).resolve().parent / "example_replacement_record.json"


def failed_both(record: dict, replaced: dict | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The failed checks by app.draws and by the standalone script; they must agree."""
    ours = verify_record(record, replaced).failed
    result = standalone.verify(record, replaced)
    theirs = tuple(c["name"] for c in result["checks"] if c["status"] == "fail")
    assert ours == theirs, (ours, theirs)
    return ours, theirs


# --- the worked examples, rebuilt from real drand rounds -------------------------------------


def test_worked_examples_are_rebuilt_exactly() -> None:
    first, second = v3kit.example_records()
    assert json.loads(v3kit.EXAMPLE_V3.read_text(encoding="utf-8")) == first
    assert json.loads(v3kit.EXAMPLE_V3_REPLACEMENT.read_text(encoding="utf-8")) == second
    assert first["beacon"]["round"] == 123 and second["beacon"]["round"] == 657413
    assert failed_both(first)[0] == ()
    assert failed_both(second)[0] == ()
    assert failed_both(second, first)[0] == ()
    assert verify_record(second, first).check("beacon").status == "pass"


def test_worked_example_numbers_in_the_docs() -> None:
    docs = (v3kit.HERE.parents[1] / "docs" / "draws.md").read_text(encoding="utf-8")
    first, second = v3kit.example_records()
    for record in (first, second):
        for name in ("metadata_hash", "commitment", "list_hash", "excluded_hash", "key"):
            assert record[name] in docs, name
        assert record["winners"][0]["ticket"] in docs


def test_older_records_still_verify_as_what_they_are() -> None:
    v1 = json.loads(EXAMPLE_V1.read_text(encoding="utf-8"))
    v2 = json.loads(EXAMPLE_V2.read_text(encoding="utf-8"))
    assert (v1["version"], v2["version"]) == (1, 2)
    assert failed_both(v1)[0] == () and failed_both(v2, v1)[0] == ()
    assert [c.name for c in verify_record(v1).checks][-1] == "replacement"  # the seven v1 checks


# --- the beacon ----------------------------------------------------------------------------


def test_round_arithmetic() -> None:
    assert beacon.round_time(1).timestamp() == beacon.GENESIS
    assert beacon.round_at_or_after(beacon.round_time(123)) == 123
    assert beacon.round_at_or_after(t("2023-08-23T15:15:31Z")) == 123
    assert beacon.round_at_or_after(t("2023-08-23T15:15:34Z")) == 124
    assert beacon.draw_round(t("2023-08-23T15:05:33Z")) == 123
    assert beacon.draw_round(t("2023-09-15T10:50:03Z")) == 657413
    assert standalone.beacon_round(t("2023-09-15T10:50:03Z")) == 657413


@pytest.mark.parametrize("backend", ["arkworks", pytest.param("py_ecc", marks=pytest.mark.slow)])  # pure Python: seconds
def test_real_rounds_verify_with_both_bls_libraries(backend: str) -> None:
    for number, signature in (ROUND_123, ROUND_657413):
        assert beacon.verify_round(number, signature, backend)
    number, signature = ROUND_123
    assert not beacon.verify_round(number + 1, signature, backend)  # another round
    assert not beacon.verify_round(number, ROUND_657413[1], backend)  # another round's signature
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert not beacon.verify_round(number, flipped, backend)
    assert not beacon.verify_round(number, "c0" + "00" * 47, backend)  # the point at infinity
    assert not beacon.verify_round(number, "00" * 48, backend)



@pytest.mark.slow
def test_verifying_with_py_ecc_leaves_the_recursion_limit_so_deep_json_cannot_crash() -> None:
    """py_ecc raises the process's recursion limit to 100,000 when imported; a web process that
    verified a round with it then crashed (C stack) on a notebook of 100,000 '['. Run apart, so
    a crash is a failed assertion here and not the end of the test session."""
    number, signature = ROUND_123
    code = (
        "import sys\n"
        "from app.draws import beacon\n"
        "from grader.notebook import NotebookError, notebook_package\n"
        "before = sys.getrecursionlimit()\n"
        f"assert beacon.verify_round({number}, {signature!r}, 'py_ecc')\n"
        "assert sys.getrecursionlimit() == before, sys.getrecursionlimit()\n"
        "try:\n"
        "    notebook_package(b'[' * 100_000 + b']' * 100_000)\n"
        "except NotebookError:\n"
        "    print('refused')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and done.stdout.strip() == "refused", done.stderr[-2000:]

# --- grinding: the operator knows the seed and looks for a value that makes their pick win -----


def test_grinding_attack_fails() -> None:
    """After an on-time freeze the operator (who can read the seed) tries 27 candidate values
    for the public randomness; the reveal refuses each, and a record sealed with the value that
    puts the chosen entry first fails both verifiers."""
    draw = v3kit.example_draw()
    frozen = v3.freeze(
        v3.commit(
            draw_id=42, course="dl-bootcamp", assignment="7-1", rule=draw.rule, seed=SEED_42,
            committed_at=draw.committed_at, freeze_at=draw.freeze_at, deadline=t("2023-08-23T15:00:00Z"),
            criteria=v3kit.CRITERIA, eligibility=draw.eligibility, prize=draw.prize,
        ),
        v3kit.ENTRIES, v3kit.EXCLUDED, frozen_at=draw.frozen_at,
    )  # fmt: skip
    honest = record_to_json(draw)
    target = 104  # not a winner of the honest draw
    assert target not in {w["entry_id"] for w in honest["winners"]}
    chosen = None
    for i in range(27):
        candidate = format(i, "02x") * 48
        with pytest.raises(DrawError) as refused:
            v3.reveal(frozen, seed=SEED_42, revealed_at=draw.revealed_at, beacon_signature=candidate)
        assert refused.value.code in ("reveal.beacon_invalid",)
        forged = v3.reveal(frozen, seed=SEED_42, revealed_at=draw.revealed_at,
                           beacon_signature=candidate, verify_signature=False)
        if forged.winners[0].entry_id == target:
            chosen = record_to_json(forged)
            break
    assert chosen is not None, "the grinding found no value (the test needs one to replay)"
    assert failed_both(chosen)[0] == ("beacon",)
    # a real signature of another round, or another round named in the record, fails too
    other = reseal({**honest, "beacon_signature": ROUND_657413[1]})
    assert failed_both(other)[0] == ("beacon",)
    renamed = reseal({**honest, "beacon": beacon.beacon_json(657413), "beacon_signature": ROUND_657413[1]})
    assert failed_both(renamed)[0] == ("protocol",)


def test_reveal_refuses_a_missing_value_or_one_for_a_rule_without_randomness() -> None:
    draw = v3kit.example_draw()
    frozen = v3.freeze(
        v3.commit(draw_id=42, course="c", assignment="a", rule=draw.rule, seed=SEED_42,
                  committed_at=draw.committed_at, freeze_at=draw.freeze_at, deadline=draw.deadline),
        v3kit.ENTRIES, (), frozen_at=draw.frozen_at,
    )  # fmt: skip
    with pytest.raises(DrawError) as missing:
        v3.reveal(frozen, seed=SEED_42, revealed_at=draw.revealed_at)
    assert missing.value.code == "reveal.beacon_required"
    with pytest.raises(DrawError) as early:
        v3.reveal(frozen, seed=SEED_42, revealed_at=t("2023-08-23T15:15:32Z"), beacon_signature=ROUND_123[1])
    assert early.value.code == "reveal.beacon_not_yet"
    ranks = v3.freeze(
        v3.commit(draw_id=7, course="c", assignment="a", rule=rule_from_json({"kind": "fixed_ranks", "ranks": "1,3"}),
                  seed=SEED_42, committed_at=draw.committed_at, freeze_at=draw.freeze_at, deadline=draw.deadline),
        v3kit.ENTRIES, (), frozen_at=draw.frozen_at,
    )  # fmt: skip
    assert ranks.beacon_round is None
    with pytest.raises(DrawError) as unused:
        v3.reveal(ranks, seed=SEED_42, revealed_at=draw.revealed_at, beacon_signature=ROUND_123[1])
    assert unused.value.code == "reveal.beacon_unused"
    revealed = v3.reveal(ranks, seed=SEED_42, revealed_at=draw.revealed_at)
    assert [w.position for w in revealed.winners] == [1, 3]
    assert [w.floor for w in revealed.winners] == [2, 5]  # positions and floors
    assert failed_both(record_to_json(revealed))[0] == ()


# --- timing ----------------------------------------------------------------------------------


def _commit(**changes: object) -> v3.DrawRecord:
    args: dict = dict(
        draw_id=9, course="dl-bootcamp", assignment="7-1", rule=rule_from_json({"kind": "lottery", "count": 1}),
        seed=SEED_42, committed_at=t("2023-08-22T08:00:00Z"), freeze_at=t("2023-08-23T15:05:33Z"),
        deadline=t("2023-08-23T15:00:00Z"),
    )
    args.update(changes)
    return v3.commit(**args)


def test_late_commit_is_refused_unless_declared_and_forged_ones_fail() -> None:
    """A draw committed 3 s after the deadline (the list visible to staff) is refused; a record
    claiming such a commit fails both verifiers, even re-sealed by an operator with the seed."""
    with pytest.raises(DrawError) as late:
        _commit(committed_at=t("2023-08-23T15:00:03Z"))
    assert late.value.code == "commit.after_deadline"
    assert "declared late" in late.value.message("en") and "迟到" in late.value.message("zh-CN")
    with pytest.raises(DrawError) as before:
        _commit(freeze_at=t("2023-08-23T14:59:59Z"), committed_at=t("2023-08-22T08:00:00Z"))
    assert before.value.code == "commit.freeze_before_deadline"
    declared = _commit(committed_at=t("2023-08-23T15:00:03Z"), late=True)
    assert declared.beacon_round == 123 and beacon.round_time(123) > declared.committed_at

    honest = record_to_json(v3kit.example_draw())
    forged = reseal({**honest, "committed_at": "2023-08-23T15:00:03Z"})
    assert failed_both(forged)[0] == ("protocol",)
    edited = {**honest, "committed_at": "2023-08-23T15:00:03Z"}  # not re-sealed
    assert failed_both(edited)[0] == ("metadata", "protocol")


def test_freeze_must_come_before_the_beacon_round() -> None:
    draw = _commit()
    with pytest.raises(DrawError) as after:
        v3.freeze(draw, v3kit.ENTRIES, (), frozen_at=beacon.round_time(123))
    assert after.value.code == "freeze.after_beacon"
    honest = record_to_json(v3kit.example_draw())
    late_freeze = reseal({**honest, "frozen_at": "2023-08-23T15:15:33Z"})
    assert failed_both(late_freeze)[0] == ("protocol",)
    early = reseal({**honest, "revealed_at": "2023-08-23T15:15:30Z"})
    assert failed_both(early)[0] == ("protocol",)


# --- everything is bound ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("course", "other"), ("assignment", "7-2"), ("prize", "一台电脑"), ("eligibility", "任何人"),
        ("rule", {"kind": "lottery", "count": 1}), ("criteria", {"correct_only": False}),
        ("freeze_at", "2023-08-23T15:05:34Z"), ("deadline", "2023-08-23T15:01:00Z"),
        ("committed_at", "2023-08-22T08:00:01Z"), ("late", True), ("replaces_draw_id", 7),
        ("beacon", {"network": "quicknet", "chain_hash": beacon.CHAIN_HASH, "round": 124}),
    ],
)
def test_changing_any_commit_field_breaks_verification(field: str, value: object) -> None:
    honest = record_to_json(v3kit.example_draw())
    edited = {**honest, field: value}
    assert failed_both(edited)[0][0] == "metadata"
    rehashed = {**edited, "metadata_hash": standalone.metadata_hash_v3(edited)}
    failed = failed_both(rehashed)[0]
    assert "commitment" in failed and "key" in failed and "metadata" not in failed
    # re-sealed with the seed, only the commitment published at commit time (and kept in the
    # signed audit log) tells: it differs
    assert reseal(edited)["commitment"] != honest["commitment"]


def test_exclusions_are_public_and_bound() -> None:
    honest = record_to_json(v3kit.example_draw())
    assert honest["excluded_list"] == "100\t1\tstaff\n106\t4\tnot_correct\n109\t21\tlate\n"
    dropped = {**honest, "excluded_list": "100\t1\tstaff\n106\t4\tnot_correct\n"}
    assert failed_both(dropped)[0] == ("list_hash",)
    resealed = reseal(dropped)  # the operator re-hashes: the key and winners change with it
    resealed["excluded_count"] = 2
    assert failed_both(resealed)[0] == ()
    assert resealed["key"] != honest["key"]  # so it can only be done before the reveal
    overlap = reseal({**honest, "excluded_list": "101\t1\tstaff\n", "excluded_count": 1})
    assert failed_both(overlap)[0] == ("list_hash",)
    same_floor = reseal({**honest, "excluded_list": "99\t2\tstaff\n", "excluded_count": 1})
    assert failed_both(same_floor)[0] == ("list_hash",)
    # a new reason code (e.g. from a similarity review) needs no change of the format
    new_code = reseal({**honest, "excluded_list": "99\t1\tsimilarity.copied\n", "excluded_count": 1})
    assert failed_both(new_code)[0] == ()
    bad_code = reseal({**honest, "excluded_list": "99\t1\tCopied!\n", "excluded_count": 1})
    assert failed_both(bad_code)[0] == ("list_hash",)


@pytest.mark.parametrize("kind", ["fixed_ranks", "top_score", "top_likes", "lottery"])
@pytest.mark.parametrize("status", ["committed", "frozen", "revealed", "aborted"])
def test_every_kind_and_status_agree(kind: str, status: str) -> None:
    from decimal import Decimal

    rule = rule_from_json({"kind": kind, "ranks": "1,3-4"} if kind == "fixed_ranks" else {"kind": kind, "count": 2})
    entries = [Entry(e.entry_id, e.floor, e.name, Decimal(e.entry_id % 7) / 2 if kind == "top_score" else None,
                     e.entry_id % 3 if kind == "top_likes" else None) for e in v3kit.ENTRIES]
    draw = _commit(rule=rule)
    if status in ("frozen", "revealed") or status == "aborted":
        draw = v3.freeze(draw, entries, v3kit.EXCLUDED, frozen_at=t("2023-08-23T15:05:33Z"))
    if status == "revealed":
        signature = ROUND_123[1] if kind == "lottery" else None
        draw = v3.reveal(draw, seed=SEED_42, revealed_at=t("2023-08-23T15:20:00Z"), beacon_signature=signature)
    if status == "aborted":
        from app.draws import abort

        draw = abort(draw, reason="服务器故障", seed=SEED_42, aborted_at=t("2023-08-23T15:10:00Z"))
    record = record_to_json(draw)
    assert failed_both(record)[0] == ()
    if status in ("committed", "frozen"):
        assert record["seed"] is None
    tampered = copy.deepcopy(record)
    tampered["prize"] += "!"
    assert "metadata" in failed_both(tampered)[0]


def test_replacement_checks_against_the_replaced_record() -> None:
    first, second = v3kit.example_records()
    assert second["withdrawal"]["withdrawn_by"] == "winner"
    kept = [w["entry_id"] for w in first["winners"] if w["entry_id"] not in second["withdrawal"]["withdrawn_entry_ids"]]
    assert f"{kept[0]}\t" in second["excluded_list"] and "prize_kept" in second["excluded_list"]
    hidden = reseal({**second, "excluded_list": second["excluded_list"].replace("prize_kept", "hidden")})
    assert failed_both(hidden)[0] == ()  # alone it cannot tell
    assert failed_both(hidden, first)[0] == ("replacement",)  # against draw 42 it can
    staff = reseal({**second, "withdrawal": {**second["withdrawal"], "withdrawn_by": "staff"}})
    assert failed_both(staff, first)[0] == ()  # who withdrew is shown, and bound by the metadata
    assert failed_both({**staff, "metadata_hash": second["metadata_hash"]})[0][0] == "metadata"


# --- signatures --------------------------------------------------------------------------------


def test_signed_records_and_the_trusted_key(tmp_path: Path) -> None:
    key = new_private_key()
    record = sign_record({**record_to_json(v3kit.example_draw()), "audit_head": {"seq": 7, "hash": "ab" * 32}}, key)
    trusted = public_key_hex(key)
    assert verify_record(record, trusted_key=trusted).ok
    assert standalone.verify(record, None, trusted)["ok"]
    other = public_key_hex(new_private_key())
    assert verify_record(record, trusted_key=other).failed == ("signature",)
    assert not standalone.verify(record, None, other)["ok"]
    cut = {**record, "audit_head": {"seq": 4, "hash": "ab" * 32}}  # a truncated log's head
    assert failed_both(cut)[0] == ("signature",)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    run = subprocess.run([sys.executable, str(STANDALONE), str(path), "--key", trusted],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    run = subprocess.run([sys.executable, str(STANDALONE), str(path), "--key", other],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "FAIL" in run.stdout


def test_standalone_without_a_bls_library_says_what_it_could_not_check(tmp_path: Path) -> None:
    """Run under an interpreter without either BLS library (isolated mode, empty path): every
    other check passes, the drand check is reported unchecked, exit status 3."""
    probe = subprocess.run([sys.executable, "-I", "-S", "-c", "import py_ecc"], capture_output=True, timeout=60)
    if probe.returncode == 0:
        pytest.skip("this interpreter has py_ecc even in isolated mode")
    run = subprocess.run([sys.executable, "-I", "-S", str(STANDALONE), str(v3kit.EXAMPLE_V3)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "??" in run.stdout and "py-ecc" in run.stdout
    bad = json.loads(v3kit.EXAMPLE_V3.read_text(encoding="utf-8"))
    bad["seed"] = "ff" * 32
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    run = subprocess.run([sys.executable, "-I", "-S", str(STANDALONE), str(path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1


def test_unparsable_json_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    run = subprocess.run([sys.executable, str(STANDALONE), str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2


def test_excluded_reason_codes() -> None:
    from app.draws.exclusions import decode_excluded, encode_excluded

    text = encode_excluded([Excluded(5, 9, "likes.farming"), Excluded(3, 2, "hidden")])
    assert text == "3\t2\thidden\n5\t9\tlikes.farming\n"
    assert decode_excluded(text) == [Excluded(3, 2, "hidden"), Excluded(5, 9, "likes.farming")]
    for bad in ("3\t2\tHidden\n", "3\t2\thidden", "5\t9\ta\n3\t2\tb\n", "03\t2\ta\n", "3\t2\ta.\n"):
        with pytest.raises(DrawError):
            decode_excluded(bad)


def test_a_lottery_cannot_be_aborted_once_its_round_is_published() -> None:
    """Selective abort: the operator sees round 123, dislikes the winners and stops the draw."""
    from app.draws import abort

    draw = v3.freeze(_commit(), v3kit.ENTRIES, (), frozen_at=t("2023-08-23T15:05:33Z"))
    with pytest.raises(DrawError) as refused:
        abort(draw, reason="结果不满意", seed=SEED_42, aborted_at=beacon.round_time(123))
    assert refused.value.code == "abort.after_beacon"
    stopped = abort(draw, reason="规则写错了", seed=SEED_42, aborted_at=t("2023-08-23T15:15:32Z"))
    record = record_to_json(stopped)
    assert failed_both(record)[0] == ()
    late = reseal({**record, "aborted_at": "2023-08-23T15:15:33Z"})
    assert failed_both(late)[0] == ("protocol",)
