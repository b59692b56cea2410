"""Benchmark: freeze, draw and verify a lottery over 1,000,000 entries.

    python bench/draws.py [--entries N] [--repeat R] [--markdown]

Every step is timed R times and the best time is kept. Two baselines are measured in the same
run, on the same machine, so the numbers can be compared across machines:

* sha256 of N ids: SHA-256 of each 8-byte entry id (the unavoidable core of a lottery);
* sort N ints: `sorted()` of N random integers.

Steps: freeze (encode the canonical list and hash it), draw (reveal: check the seed, decode the
frozen text, derive the key, N tickets, the k smallest), verify (json.loads of the published
record + verify_record), and the same verification by the standalone student script.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.draws import (  # noqa: E402
    Entry,
    Lottery,
    commit,
    freeze,
    record_to_json,
    reveal,
    verify_record,
)

GOAL_SECONDS = 3.0
T0 = datetime(2020, 1, 2, 4, tzinfo=UTC)
NAMES = ["thunder95", "你还说不想我吗", "百度用户#0762194095", "呵赫 he", "星光1dl"]


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


def run(count: int, repeat: int) -> list[tuple[str, float, str]]:
    rng = random.Random(1)
    entries = [
        Entry(10_000_000 + i, 2 + i, f"{NAMES[i % len(NAMES)]}{i}") for i in range(count)
    ]
    ids = [entry.entry_id for entry in entries]
    ints = [rng.getrandbits(62) for _ in range(count)]
    sha256 = hashlib.sha256
    seed = "5eed" * 16

    rows: list[tuple[str, float, str]] = []
    t_sha, _ = best_of(repeat, lambda: [sha256(i.to_bytes(8, "big")).digest() for i in ids])
    rows.append((f"baseline: sha256 of {count:,} ids", t_sha, "baseline"))
    t_sort, _ = best_of(repeat, lambda: sorted(ints))
    rows.append((f"baseline: sort {count:,} ints", t_sort, "baseline"))

    draw = commit(
        draw_id=1, course="bench", assignment="1-1", rule=Lottery(5), seed=seed,
        committed_at=T0, freeze_at=T0 + timedelta(days=4),
    )  # fmt: skip
    t_freeze, frozen = best_of(
        repeat, lambda: freeze(draw, entries, frozen_at=T0 + timedelta(days=4))
    )
    rows.append(("freeze (canonical list + SHA-256)", t_freeze, ""))
    t_draw, done = best_of(
        repeat, lambda: reveal(frozen, seed=seed, revealed_at=T0 + timedelta(days=5))
    )
    rows.append(("draw (reveal: decode, key, tickets, 5 winners)", t_draw, ""))
    text = json.dumps(record_to_json(done), ensure_ascii=False)
    rows.append((f"  (record JSON: {len(text.encode()) / 1e6:.1f} MB)", 0.0, "info"))
    t_verify, result = best_of(repeat, lambda: verify_record(json.loads(text)))
    assert result.complete, result.report()
    rows.append(("verify (json.loads + verify_record)", t_verify, ""))
    standalone = load_standalone()
    t_script, outcome = best_of(repeat, lambda: standalone.verify(json.loads(text)))
    assert outcome["ok"]
    rows.append(("verify with the standalone script (in process)", t_script, ""))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "record.json"
        path.write_text(text, encoding="utf-8")
        command = [sys.executable, str(ROOT / "app/static/verify_draw.py"), str(path)]
        t_cli, done = best_of(repeat, lambda: subprocess.run(command, capture_output=True, check=False))
    assert done.returncode == 0, done.stdout
    rows.append(("python3 verify_draw.py record.json (new process)", t_cli, ""))
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
            lines.append(f"{name:<52} {seconds:8.3f} s  {ratio:5.1f}x  {verdict}")
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
