"""Benchmark: does a cheap reply wait behind code? Reply → verdict latency of homework 1-1 (a
format check) with and without a backlog of MNIST gradings, per worker layout.

    python bench/head_of_line.py [--backlog 200] [--samples 20] [--old-layout-samples 3]

Private PostgreSQL database and Redis server, Camp's web process, real MNIST packages
(examples/mnist-lenet) and real workers:

* default layout: `camp worker -c 1` with no -Q: a pool for the cheap `cpu` queue, another for
  the code `gpu` queue (what the README and embedded `camp serve` run);
* one pool for both queues: `camp worker -Q cpu,gpu -c 1` (the layout before the split), for
  comparison, with a few samples and a cap on each wait.

Each sample: one student POSTs `作业1-1：已跑通`, the time until the row is `scored` (polled in
the database every 10 ms). First without a backlog, then right after `--backlog` MNIST
packages were submitted by other students (the backlog is still being graded while the cheap
replies are measured). Goal: the backlog raises the cheap p50 and p99 by at most 2×.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.grading import baseline_zip  # noqa: E402
from bench.load import (  # noqa: E402
    PG,
    camp,
    camp_env,
    database,
    free_port,
    pct,
    process,
    redis_server,
    student_tokens,
    wait_up,
)

CHEAP = "作业1-1：已跑通"
BASE_PATH = "/api/v1/courses/dl-bootcamp/assignments"
DAILY_CODE_LIMIT = 5  # homework 6-2 in courses/dl-bootcamp.yaml


def cheap_samples(client: httpx.Client, db: str, token: str, n: int, cap: float) -> tuple[list[float], int]:
    """`n` cheap replies one after another: seconds from POST to `scored`, and how many hit `cap`."""
    times, capped = [], 0
    headers = {"Authorization": f"Bearer {token}"}
    with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
        for _ in range(n):
            sent = time.perf_counter()
            r = client.post(f"{BASE_PATH}/1-1/submissions", data={"text": CHEAP}, headers=headers)
            r.raise_for_status()
            sid = r.json()["id"]
            while True:
                row = conn.execute("SELECT status FROM submissions WHERE id = %s", (sid,)).fetchone()
                if row is not None and row[0] == "scored":
                    times.append(time.perf_counter() - sent)
                    break
                if time.perf_counter() - sent > cap:
                    times.append(cap)
                    capped += 1
                    break
                time.sleep(0.01)
    return times, capped


def submit_backlog(client: httpx.Client, tokens: list[str], n: int, package: bytes) -> int:
    """`n` MNIST packages, at most the daily limit per student; returns how many were accepted."""
    accepted = 0
    for i in range(n):
        token = tokens[i // DAILY_CODE_LIMIT]
        r = client.post(f"{BASE_PATH}/6-2/submissions", data={"text": "作业6-2：LeNet"},
                        files={"files": ("package.zip", package, "application/zip")},
                        headers={"Authorization": f"Bearer {token}"})
        accepted += r.status_code == 201
    return accepted


def waiting_code(db: str) -> int:
    with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM submissions s JOIN assignments a ON a.id = s.assignment_id"
                           " WHERE a.queue = 'gpu' AND s.status IN ('queued', 'running')").fetchone()
        return int(row[0]) if row else 0


def run_layout(name: str, worker_args: list[str], args: argparse.Namespace, samples: int,
               cap: float, package: bytes) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="camp-hol-"))
    rows = []
    try:
        with ExitStack() as stack:
            db = stack.enter_context(database())
            env = camp_env(db, redis_server(stack, work), work)
            # one token posts every cheap sample, back to back: lift the per-account reply rate
            env.update(CAMP_REPLIES_PER_MINUTE="100000", CAMP_REPLIES_PER_HOUR="100000")
            camp(env, "db", "upgrade")
            camp(env, "course", "load", str(ROOT / "courses" / "dl-bootcamp.yaml"))
            backlog_students = -(-args.backlog // DAILY_CODE_LIMIT)
            tokens = student_tokens(env, backlog_students + 2)
            stack.enter_context(process([sys.executable, "-m", "app.cli", "worker", *worker_args], env,
                                        work / "worker.log"))
            port = free_port()
            stack.enter_context(process([sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port",
                                         str(port)], env, work / "web.log"))
            base = f"http://127.0.0.1:{port}"
            wait_up(base + "/healthz")
            with httpx.Client(base_url=base, timeout=60) as client:
                cheap_samples(client, db, tokens[-2], 2, cap)  # warm-up: both pools up, first imports done
                quiet, _ = cheap_samples(client, db, tokens[-2], samples, cap)
                started = time.perf_counter()
                accepted = submit_backlog(client, tokens, args.backlog, package)
                submitted_in = time.perf_counter() - started
                before = waiting_code(db)
                loaded, capped = cheap_samples(client, db, tokens[-1], samples, cap)
                after = waiting_code(db)
            rows.append(f"| {name} | no backlog | {samples} | {pct(quiet, 0.5)} | {pct(quiet, 0.99)} | |")
            rows.append(f"| {name} | {accepted} MNIST gradings submitted in {submitted_in:.0f} s; "
                        f"{before} → {after} still waiting while measured | {samples} | {pct(loaded, 0.5)} | "
                        f"{pct(loaded, 0.99)} | {capped} capped at {cap:g} s |")
            p50 = sorted(loaded)[len(loaded) // 2] / max(sorted(quiet)[len(quiet) // 2], 1e-9)
            rows.append(f"| {name} | backlog ÷ no backlog (p50) | | {p50:.2f}× | | |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="head-of-line benchmark (loopback only)")
    parser.add_argument("--backlog", type=int, default=200)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--old-layout-samples", type=int, default=3,
                        help="samples with one pool for both queues (0: skip that layout)")
    parser.add_argument("--cap", type=float, default=60.0, help="longest wait per sample, seconds")
    args = parser.parse_args()
    load_avg = os.getloadavg()
    package = baseline_zip()
    rows = run_layout("default: `camp worker -c 1` (a pool per queue)", ["-c", "1"], args, args.samples,
                      args.cap, package)
    if args.old_layout_samples:
        rows += run_layout("one pool: `camp worker -Q cpu,gpu -c 1`", ["-Q", "cpu,gpu", "-c", "1"], args,
                           args.old_layout_samples, args.cap, package)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{when}, Python {platform.python_version()}, {os.cpu_count()} CPUs; load average "
          f"{load_avg[0]:.1f} / {load_avg[1]:.1f} / {load_avg[2]:.1f} at the start; PostgreSQL + Redis\n")
    print("| layout | backlog | replies | cheap reply → verdict p50 ms | p99 ms | note |")
    print("|---|---|---:|---:|---:|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
