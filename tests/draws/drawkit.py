"""Helpers shared by the draw tests: entries, whole records, and the standalone verifier."""

from __future__ import annotations

import importlib.util
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from app.draws import (
    DrawRecord,
    Entry,
    Rule,
    TopLikes,
    TopScore,
    abort,
    commit,
    freeze,
    record_to_json,
    replacement_entries,
    replacement_rule,
    reveal,
)

ROOT = Path(__file__).resolve().parents[2]
STANDALONE = ROOT / "app" / "static" / "verify_draw.py"
T0 = datetime(2020, 1, 2, 4, 0, tzinfo=UTC)
NAMES = ["thunder95", "你还说不想我吗", "百度用户#0762194095", "呵赫 he", "星光1dl", "a\tb", "x\\ny"]


def load_standalone() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_draw_standalone", STANDALONE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_entries(count: int, rule: Rule | None = None, rng: random.Random | None = None) -> list:
    """`count` entries with ids 1001.., floors 2.. and names that need escaping now and then."""
    rng = rng or random.Random(count)
    entries = []
    for i in range(count):
        name = f"{NAMES[i % len(NAMES)]}{i}"
        score = Decimal(rng.randint(0, 1000)) / 100 if isinstance(rule, TopScore) else None
        likes = rng.randint(0, 30) if isinstance(rule, TopLikes) else None
        entries.append(Entry(1001 + i, 2 + i, name, score, likes))
    return entries


def committed(rule: Rule, seed: str, draw_id: int = 42, **kw: Any) -> DrawRecord:
    return commit(
        draw_id=draw_id,
        course="dl-bootcamp",
        assignment="7-1",
        rule=rule,
        seed=seed,
        committed_at=T0,
        freeze_at=T0 + timedelta(days=4),
        eligibility="first valid reply of each student before the deadline",
        prize="飞桨定制本 + 数据线",
        **kw,
    )


def revealed(
    rule: Rule,
    entries: list,
    seed: str,
    *,
    draw_id: int = 42,
    public_value: str | None = None,
    early: bool = False,
) -> DrawRecord:
    draw = committed(rule, seed, draw_id)
    frozen_at = T0 + timedelta(days=3 if early else 4)
    reason = "all prizes handed out before the deadline" if early else None
    draw = freeze(draw, entries, frozen_at=frozen_at, early_freeze_reason=reason)
    return reveal(
        draw, seed=seed, revealed_at=T0 + timedelta(days=4, hours=1), public_value=public_value
    )


def record_at(status: str, rule: Rule, entries: list, seed: str, **kw: Any) -> dict[str, Any]:
    """A JSON record of a draw at `status` (committed, frozen, revealed or aborted)."""
    draw = committed(rule, seed)
    if status == "aborted":
        if kw.get("after_freeze"):
            draw = freeze(draw, entries, frozen_at=T0 + timedelta(days=4))
        return record_to_json(
            abort(draw, reason="wrong rule", seed=seed, aborted_at=T0 + timedelta(days=5))
        )
    if status == "frozen":
        draw = freeze(draw, entries, frozen_at=T0 + timedelta(days=4))
    if status == "revealed":
        draw = revealed(rule, entries, seed, public_value=kw.get("public_value"))
    return record_to_json(draw)


def replacement(
    old: DrawRecord,
    withdrawn: list[int],
    seed: str,
    *,
    draw_id: int = 43,
    status: str = "revealed",
    public_value: str | None = "beacon 2020-01-08",
    reason: str = "moved abroad, cannot receive the prize",
) -> DrawRecord:
    """A draw replacing the `withdrawn` winners of the revealed `old`, a few days later,
    taken to `status` (committed, frozen or revealed) on time."""
    start = (old.revealed_at or T0) + timedelta(days=1)
    draw = commit(
        draw_id=draw_id, course=old.course, assignment=old.assignment,
        rule=replacement_rule(old, len(withdrawn)), seed=seed, committed_at=start,
        freeze_at=start + timedelta(hours=1), prize=old.prize, replaces=old,
        withdrawn=withdrawn, withdrawal_reason=reason,
    )  # fmt: skip
    if status == "committed":
        return draw
    assert draw.withdrawal is not None
    draw = freeze(draw, replacement_entries(old, draw.withdrawal), frozen_at=start + timedelta(hours=1))
    if status == "frozen":
        return draw
    return reveal(draw, seed=seed, revealed_at=start + timedelta(hours=2), public_value=public_value)
