"""Verifiable prize draws, as pure functions (no database, no web; record version 3 adds a BLS
library for the drand beacon and `cryptography` for Ed25519 signatures).

Flow for the web layer (see docs/draws.md for the exact algorithm and record format)::

    seed = new_seed()                                   # keep secret, e.g. in the draws table
    draw = commit(draw_id=..., course=..., assignment=..., rule=rule_from_json(...),
                  seed=seed, committed_at=now, freeze_at=deadline, eligibility=...)
    draw = freeze(draw, entries, frozen_at=now, early_freeze_reason=None)
    draw = reveal(draw, seed=seed, revealed_at=now, public_value=None)  # wrong seed: DrawError
    record = record_to_json(draw)                       # GET /api/v1/draws/{id}/record
    result = verify_record(record)                      # `camp draw verify RECORD.json`

A winner withdrew after the reveal: a new draw replaces the revealed one::

    new = commit(..., rule=Lottery(1), replaces=draw, withdrawn=[entry_id], withdrawal_reason=...)
    new = freeze(new, replacement_entries(draw, new.withdrawal), frozen_at=now)
    result = verify_record(record_to_json(new), replaced=record_to_json(draw))
"""

from app.draws import beacon, v3
from app.draws.algorithm import Winner, lottery_order, pick_winners
from app.draws.entries import (
    Entry,
    EntryTable,
    FrozenList,
    canonical_score,
    decode_entries,
    encode_entries,
    freeze_entries,
    list_hash,
)
from app.draws.errors import DrawError
from app.draws.exclusions import Excluded, decode_excluded, encode_excluded
from app.draws.keys import (
    DOMAIN_TAG,
    check_seed,
    commitment_of,
    derive_key,
    new_seed,
    normalize_seed,
    seed_matches,
    ticket,
)
from app.draws.protocol import (
    DrawRecord,
    abort,
    check_public_value,
    check_replaceable,
    commit,
    format_time,
    freeze,
    parse_time,
    public_value_required,
    replacement_entries,
    replacement_rule,
    reveal,
)
from app.draws.ranks import RankExprError, RankSpec, parse_ranks
from app.draws.record import (
    Check,
    VerifyResult,
    record_from_json,
    record_to_json,
    verify_record,
    winner_from_json,
)
from app.draws.rules import FixedRanks, Lottery, Rule, TopLikes, TopScore, rule_from_json
from app.draws.withdrawal import Withdrawal, withdrawal_from_json, without_entries

__all__ = [
    "DOMAIN_TAG",
    "Check",
    "DrawError",
    "DrawRecord",
    "Entry",
    "EntryTable",
    "Excluded",
    "FixedRanks",
    "FrozenList",
    "Lottery",
    "RankExprError",
    "RankSpec",
    "Rule",
    "TopLikes",
    "TopScore",
    "VerifyResult",
    "Winner",
    "Withdrawal",
    "abort",
    "beacon",
    "canonical_score",
    "check_public_value",
    "check_replaceable",
    "check_seed",
    "commit",
    "commitment_of",
    "decode_entries",
    "decode_excluded",
    "derive_key",
    "encode_entries",
    "encode_excluded",
    "format_time",
    "freeze",
    "freeze_entries",
    "list_hash",
    "lottery_order",
    "new_seed",
    "normalize_seed",
    "parse_ranks",
    "parse_time",
    "pick_winners",
    "public_value_required",
    "record_from_json",
    "record_to_json",
    "replacement_entries",
    "replacement_rule",
    "reveal",
    "rule_from_json",
    "seed_matches",
    "ticket",
    "v3",
    "verify_record",
    "winner_from_json",
    "withdrawal_from_json",
    "without_entries",
]
