"""commit -> freeze -> reveal (or abort) as pure state transitions, and what each refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.draws import (
    DrawError,
    FixedRanks,
    Lottery,
    abort,
    check_seed,
    commit,
    commitment_of,
    format_time,
    freeze,
    new_seed,
    parse_ranks,
    parse_time,
    public_value_required,
    record_to_json,
    reveal,
)
from tests.draws.drawkit import T0, committed, make_entries, revealed

SEED = "5eed" * 16
DAY = timedelta(days=1)


def test_new_seed_is_32_random_bytes_in_hex() -> None:
    seeds = {new_seed() for _ in range(20)}
    assert len(seeds) == 20
    assert all(len(bytes.fromhex(seed)) == 32 for seed in seeds)


def test_commitment_is_sha256_of_the_seed_bytes() -> None:
    assert commitment_of("00" * 32) == "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    assert commitment_of(" " + SEED.upper() + "\n") == commitment_of(SEED)


def test_commit_publishes_only_the_commitment() -> None:
    draw = committed(Lottery(5), SEED)
    assert draw.status == "committed" and draw.commitment == commitment_of(SEED)
    assert SEED not in str(record_to_json(draw))


def test_commit_needs_a_freeze_time_after_the_commit() -> None:
    with pytest.raises(DrawError) as info:
        commit(
            draw_id=1, course="c", assignment="a", rule=Lottery(1), seed=SEED,
            committed_at=T0, freeze_at=T0,
        )  # fmt: skip
    assert info.value.code == "commit.freeze_before_commit"


def test_times_must_carry_a_zone_and_are_kept_to_the_second() -> None:
    with pytest.raises(DrawError) as info:
        commit(
            draw_id=1, course="c", assignment="a", rule=Lottery(1), seed=SEED,
            committed_at=datetime(2020, 1, 1), freeze_at=datetime(2020, 1, 2),
        )  # fmt: skip
    assert info.value.code == "time.naive"
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2020, 1, 13, 12, 0, 0, 999_999, tzinfo=beijing)
    assert format_time(moment) == "2020-01-13T04:00:00Z"
    assert parse_time("2020-01-13T04:00:00Z") == datetime(2020, 1, 13, 4, tzinfo=UTC)
    for bad in ["2020-01-13 04:00:00Z", "2020-01-13T04:00:00+00:00", "2020-02-30T00:00:00Z", 5]:
        with pytest.raises(DrawError):
            parse_time(bad)  # type: ignore[arg-type]


def test_full_flow_and_wrong_seed_is_refused_at_reveal() -> None:
    entries = make_entries(30)
    draw = freeze(committed(Lottery(3), SEED), entries, frozen_at=T0 + 4 * DAY)
    assert draw.status == "frozen" and draw.entry_count == 30
    with pytest.raises(DrawError) as info:
        reveal(draw, seed="ab" * 32, revealed_at=T0 + 5 * DAY)
    assert info.value.code == "seed.mismatch"
    assert "不能" in info.value.message("zh-CN")
    with pytest.raises(DrawError) as info:
        reveal(draw, seed="not hex", revealed_at=T0 + 5 * DAY)
    assert info.value.code == "seed.malformed"
    done = reveal(draw, seed=SEED, revealed_at=T0 + 5 * DAY)
    assert done.status == "revealed" and len(done.winners) == 3 and done.seed == SEED
    with pytest.raises(DrawError) as info:
        reveal(done, seed=SEED, revealed_at=T0 + 6 * DAY)
    assert info.value.code == "state.wrong_status"
    with pytest.raises(DrawError):
        abort(done, reason="try again", seed=SEED, aborted_at=T0 + 6 * DAY)


def test_check_seed_refuses_a_wrong_seed() -> None:
    assert check_seed(SEED.upper(), commitment_of(SEED)) == SEED
    with pytest.raises(DrawError):
        check_seed("00" * 32, commitment_of(SEED))


def test_winners_come_from_the_frozen_text() -> None:
    entries = make_entries(30)
    draw = freeze(committed(Lottery(3), SEED), entries, frozen_at=T0 + 4 * DAY)
    entries[0] = entries[0]._replace(name="changed after freeze")
    done = reveal(draw, seed=SEED, revealed_at=T0 + 5 * DAY)
    assert all(w.name != "changed after freeze" for w in done.winners)


def test_early_freeze_needs_a_reason() -> None:
    draw = committed(Lottery(3), SEED)
    with pytest.raises(DrawError) as info:
        freeze(draw, make_entries(5), frozen_at=T0 + 3 * DAY, early_freeze_reason="  ")
    assert info.value.code == "freeze.early_needs_reason"
    with pytest.raises(DrawError) as info:
        freeze(draw, make_entries(5), frozen_at=T0 - DAY)
    assert info.value.code == "freeze.before_commit"


def test_lottery_frozen_early_needs_a_public_value_at_reveal() -> None:
    draw = freeze(
        committed(Lottery(3), SEED), make_entries(10), frozen_at=T0 + 3 * DAY,
        early_freeze_reason="prizes ran out",
    )  # fmt: skip
    assert public_value_required(draw.rule, draw.freeze_at, draw.frozen_at)  # type: ignore[arg-type]
    with pytest.raises(DrawError) as info:
        reveal(draw, seed=SEED, revealed_at=T0 + 4 * DAY, public_value="   ")
    assert info.value.code == "reveal.public_value_required"
    done = reveal(draw, seed=SEED, revealed_at=T0 + 4 * DAY, public_value=" beacon 42 ")
    assert done.public_value == "beacon 42"


def test_on_time_freeze_does_not_need_a_public_value() -> None:
    assert not public_value_required(Lottery(1), T0 + 4 * DAY, T0 + 4 * DAY)
    assert not public_value_required(Lottery(1), T0 + 4 * DAY, T0 + 5 * DAY)
    assert public_value_required(Lottery(1), T0 + 4 * DAY, T0 + 4 * DAY - timedelta(seconds=1))
    # compared at whole seconds: within the announced second is on time
    announced = T0 + 4 * DAY + timedelta(milliseconds=700)
    assert not public_value_required(Lottery(1), announced, announced - timedelta(milliseconds=500))
    fixed = FixedRanks(parse_ranks("1-3"))
    assert not public_value_required(fixed, T0 + 4 * DAY, T0 + 3 * DAY)


def test_announced_public_value_source_makes_the_value_mandatory() -> None:
    draw = freeze(
        committed(Lottery(3), SEED), make_entries(10), frozen_at=T0 + 4 * DAY,
        public_value_source="first NIST beacon pulse after 2020-01-06T05:00Z",
    )  # fmt: skip
    with pytest.raises(DrawError) as info:
        reveal(draw, seed=SEED, revealed_at=T0 + 5 * DAY)
    assert info.value.code == "reveal.public_value_announced"
    assert reveal(draw, seed=SEED, revealed_at=T0 + 5 * DAY, public_value="A1B2").public_value == "A1B2"


def test_public_value_changes_the_winners_and_too_long_is_refused() -> None:
    entries = make_entries(200)
    plain = revealed(Lottery(5), entries, SEED)
    mixed = revealed(Lottery(5), entries, SEED, public_value="beacon")
    assert plain.key != mixed.key
    assert [w.entry_id for w in plain.winners] != [w.entry_id for w in mixed.winners]
    with pytest.raises(DrawError) as info:
        revealed(Lottery(5), entries, SEED, public_value="x" * 1001)
    assert info.value.code == "public_value.invalid"


def test_abort_publishes_reason_and_seed_and_allows_a_replacement() -> None:
    draw = committed(Lottery(3), SEED)
    with pytest.raises(DrawError) as info:
        abort(draw, reason=" ", seed=SEED, aborted_at=T0 + DAY)
    assert info.value.code == "abort.reason_required"
    with pytest.raises(DrawError):
        abort(draw, reason="typo in rule", seed="00" * 32, aborted_at=T0 + DAY)
    with pytest.raises(DrawError) as info:
        committed(Lottery(3), new_seed(), draw_id=43, replaces=draw)
    assert info.value.code == "replace.not_aborted"
    stopped = abort(draw, reason="typo in rule", seed=SEED, aborted_at=T0 + DAY)
    assert (stopped.status, stopped.seed, stopped.abort_reason) == ("aborted", SEED, "typo in rule")
    again = committed(Lottery(3), new_seed(), draw_id=43, replaces=stopped)
    assert again.replaces_draw_id == 42
    with pytest.raises(DrawError):
        abort(stopped, reason="again", seed=SEED, aborted_at=T0 + DAY)


def test_freeze_and_reveal_need_the_right_status() -> None:
    draw = committed(Lottery(3), SEED)
    with pytest.raises(DrawError):
        reveal(draw, seed=SEED, revealed_at=T0 + 5 * DAY)
    frozen = freeze(draw, make_entries(3), frozen_at=T0 + 4 * DAY)
    with pytest.raises(DrawError):
        freeze(frozen, make_entries(3), frozen_at=T0 + 4 * DAY)
    with pytest.raises(DrawError) as info:
        reveal(frozen, seed=SEED, revealed_at=T0 + 3 * DAY)
    assert info.value.code == "reveal.before_freeze"


def test_fixed_ranks_draw_goes_through_the_same_steps() -> None:
    rule = FixedRanks(parse_ranks("1-3,6,66+100n<=666"))
    done = revealed(rule, make_entries(700), SEED)
    assert [w.position for w in done.winners] == [1, 2, 3, 6, 66, 166, 266, 366, 466, 566, 666]
