"""Benchmark: freeze, draw and verify draws (record version 3) over 1,000,000 entries.

    python bench/draws.py [--entries N] [--repeat R] [--markdown]

Every step is timed R times and the best time is kept. Two baselines are measured in the same
run, on the same machine, so the numbers can be compared across machines:

* sha256 of N ids: SHA-256 of each 8-byte entry id (the unavoidable core of a lottery);
* sort N ints: `sorted()` of N random integers.

For every rule kind (a lottery revealed with the real drand quicknet round 123, top_score,
top_likes, fixed_ranks), with 1,000 excluded replies: freeze (canonical lists and hashes),
draw (reveal: check the seed, the drand signature, decode the frozen text, key, winners),
`camp draw verify`'s check (json.loads of the published record + verify_record), and the
standalone student script, in process and as `python3 verify_draw.py record.json`.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.draws import Entry, Excluded, record_to_json, rule_from_json, v3, verify_record  # noqa: E402

GOAL_SECONDS = 3.0
NAMES = ["thunder95", "你还说不想我吗", "百度用户#0762194095", "呵赫 he", "星光1dl"]
ROUND_123 = "b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92"
COMMITTED = datetime(2023, 8, 22, 8, tzinfo=UTC)
DEADLINE = datetime(2023, 8, 23, 15, tzinfo=UTC)
FREEZE = datetime(2023, 8, 23, 15, 5, 33, tzinfo=UTC)  # names round 123
REVEAL = datetime(2023, 8, 23, 15, 20, tzinfo=UTC)
RULES = {
    "lottery": {"kind": "lottery", "count": 5},
    "top_score": {"kind": "top_score", "count": 10},
    "top_likes": {"kind": "top_likes", "count": 5},
    "fixed_ranks": {"kind": "fixed_ranks", "ranks": "1-3,6,66+100n"},
}


def best_of(repeat: int, step: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        best = min(best, time.perf_counter() - start)
    return best, result


def load_standalone() -> Any:
    spec = importlib.util.spec_from_file_location("verify_draw", ROOT / "app/static/verify_draw.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def entries_for(kind: str, count: int, rng: random.Random) -> list[Entry]:
    """Floors 2, 4, 6, ...: the odd floors are the excluded replies."""
    return [
        Entry(10_000_000 + i, 2 + 2 * i, f"{NAMES[i % len(NAMES)]}{i}",
              Decimal(rng.randint(0, 10_000)) / 100 if kind == "top_score" else None,
              rng.randint(0, 50) if kind == "top_likes" else None)
        for i in range(count)
    ]  # fmt: skip


def run_kind(kind: str, count: int, repeat: int, standalone: Any) -> list[tuple[str, float, str]]:
    rng = random.Random(1)
    entries = entries_for(kind, count, rng)
    codes = ("late", "duplicate", "hidden")
    excluded = [Excluded(20_000_000 + i, 3 + 2 * i, codes[i % 3]) for i in range(1000)]
    seed = "5eed" * 16
    draw = v3.commit(
        draw_id=1, course="bench", assignment="1-1", rule=rule_from_json(RULES[kind]), seed=seed,
        committed_at=COMMITTED, freeze_at=FREEZE, deadline=DEADLINE, criteria={"correct_only": True},
    )  # fmt: skip
    rows: list[tuple[str, float, str]] = []
    t_freeze, frozen = best_of(repeat, lambda: v3.freeze(draw, entries, excluded, frozen_at=FREEZE))
    rows.append((f"{kind}: freeze (canonical lists + SHA-256)", t_freeze, ""))
    signature = ROUND_123 if kind == "lottery" else None
    t_draw, done = best_of(
        repeat, lambda: v3.reveal(frozen, seed=seed, revealed_at=REVEAL, beacon_signature=signature)
    )
    rows.append((f"{kind}: draw (reveal: drand check, decode, key, winners)", t_draw, ""))
    text = json.dumps(record_to_json(done), ensure_ascii=False)
    t_verify, result = best_of(repeat, lambda: verify_record(json.loads(text)))
    assert result.complete, result.report()
    rows.append((f"{kind}: camp draw verify (json.loads + verify_record)", t_verify, ""))
    t_script, outcome = best_of(repeat, lambda: standalone.verify(json.loads(text)))
    assert outcome["ok"] and not outcome["unchecked"], outcome["checks"]
    rows.append((f"{kind}: standalone script (in process)", t_script, ""))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "record.json"
        path.write_text(text, encoding="utf-8")
        command = [sys.executable, str(ROOT / "app/static/verify_draw.py"), str(path)]
        t_cli, finished = best_of(repeat, lambda: subprocess.run(command, capture_output=True, check=False))
    assert finished.returncode == 0, finished.stdout
    rows.append((f"{kind}: python3 verify_draw.py record.json (new process)", t_cli, ""))
    return rows


def run(count: int, repeat: int) -> list[tuple[str, float, str]]:
    rng = random.Random(1)
    ids = [10_000_000 + i for i in range(count)]
    ints = [rng.getrandbits(62) for _ in range(count)]
    sha256 = hashlib.sha256
    rows: list[tuple[str, float, str]] = []
    t_sha, _ = best_of(repeat, lambda: [sha256(i.to_bytes(8, "big")).digest() for i in ids])
    rows.append((f"baseline: sha256 of {count:,} ids", t_sha, "baseline"))
    t_sort, _ = best_of(repeat, lambda: sorted(ints))
    rows.append((f"baseline: sort {count:,} ints", t_sort, "baseline"))
    standalone = load_standalone()
    for kind in RULES:
        rows += run_kind(kind, count, repeat, standalone)
    return rows


def describe(rows: list[tuple[str, float, str]], markdown: bool) -> str:
    sha = next(t for name, t, kind in rows if kind == "baseline")
    lines = []
    if markdown:
        lines += ["| step | seconds | × sha256 baseline | goal < 3 s |", "|---|---:|---:|---|"]
    for name, seconds, kind in rows:
        if kind == "info":
            lines.append(f"| {name.strip()} | | | |" if markdown else name)
            continue
        ratio = seconds / sha
        verdict = "" if kind == "baseline" else ("yes" if seconds < GOAL_SECONDS else "**no**")
        if markdown:
            lines.append(f"| {name} | {seconds:.3f} | {ratio:.1f} | {verdict} |")
        else:
            lines.append(f"{name:<64} {seconds:8.3f} s  {ratio:5.1f}x  {verdict}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = run(args.entries, args.repeat)
    print(
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{args.entries:,} entries, best of {args.repeat}"
    )
    print(describe(rows, args.markdown))
    slow = [name for name, t, kind in rows if kind == "" and t >= GOAL_SECONDS]
    if slow:
        print(f"over the {GOAL_SECONDS} s goal: {', '.join(slow)}")


if __name__ == "__main__":
    main()
