"""Benchmark: the homework page and the leaderboard JSON against a bare FastAPI hello-world.

    python bench/pages.py [--seconds S] [--concurrency C] [--submissions N] [--logged-in]

Builds a throwaway PostgreSQL database with the demo course and N scored submissions (default
10,000) from 1,000 students on homework 6-2, serves Camp and the hello-world with one uvicorn
worker each on loopback, and drives each URL with C concurrent keep-alive clients for S
seconds (wrk when installed, else httpx in this process). Prints requests per second, p50/p99
latency and the ratio to the hello-world measured in the same run.
Goals: page >= 0.25x, leaderboard JSON >= 0.4x. `--logged-in` adds the homework page as a
logged-in student sees it (two of the page's 50 replies their own), with a session cookie.
Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG = "postgresql://postgres@127.0.0.1:5432"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def database() -> Iterator[str]:
    name = f"camp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def camp_env(db: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMP_")}
    env.update(
        CAMP_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}",
        CAMP_BROKER_URL="redis://127.0.0.1:6379/14",
        CAMP_BROKER_KEY_PREFIX=f"camp-bench-{uuid.uuid4().hex[:6]}:",
        CAMP_SECRET_KEY=secrets.token_urlsafe(48),
        CAMP_DATA_DIR=str(data_dir),
    )
    return env


def camp(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def seed(db: str, submissions: int, students: int = 1000) -> None:
    """Students and scored replies, written straight into the tables (fast, realistic shape)."""
    now = datetime.now(UTC)
    with psycopg.connect(f"{PG}/{db}") as conn:
        assignment_id = conn.execute(
            "SELECT a.id FROM assignments a JOIN courses c ON c.id = a.course_id "
            "WHERE c.slug = 'dl-bootcamp' AND a.code = '6-2'"
        ).fetchone()[0]
        with conn.cursor().copy(
            "COPY users (name, name_key, password_hash, role, is_active, created_at) FROM STDIN"
        ) as copy:
            for i in range(students):  # the key of a plain lower-case ASCII name is the name
                copy.write_row((f"student{i:04d}", f"student{i:04d}", "!", "student", True, now))
        first_user = conn.execute("SELECT min(id) FROM users").fetchone()[0]
        with conn.cursor().copy(
            "COPY submissions (assignment_id, author_id, floor, text, is_late, hidden, featured, status,"
            " verdict, score, messages, detail, log, attempts, created_at, queued_at, updated_at, graded_at)"
            " FROM STDIN"
        ) as copy:
            for floor in range(1, submissions + 1):
                accuracy = 0.9 + (floor * 7919 % 1000) / 10_000
                at = now - timedelta(seconds=submissions - floor)
                copy.write_row((
                    assignment_id, first_user + floor % students, floor,
                    f"作业6-2：第 {floor} 个模型，准确率 {accuracy:.4f}", False, False, False, "scored",
                    "accepted", accuracy, '{"zh_CN": "准确率", "en": "accuracy"}',
                    f'{{"public_accuracy": {accuracy}, "private_accuracy": {accuracy}}}', "", 1,
                    at, at, at, at,
                ))
        conn.execute("UPDATE assignments SET next_floor = %s WHERE id = %s", (submissions + 1, assignment_id))


def student_cookie(env: dict[str, str], db: str, site: str) -> str:
    """A student who wrote floors 1 and 25, logged in through the form: their Cookie header."""
    name, password = f"bench{uuid.uuid4().hex[:6]}", secrets.token_urlsafe(12)
    subprocess.run([sys.executable, "-m", "app.cli", "user", "add", name, "--role", "student"],
                   cwd=ROOT, env=env, check=True, input=password + "\n", text=True,
                   stdout=subprocess.DEVNULL)
    with psycopg.connect(f"{PG}/{db}") as conn:
        conn.execute("UPDATE submissions SET author_id = (SELECT id FROM users WHERE name = %s) "
                     "WHERE floor IN (1, 25)", (name,))
    with httpx.Client(base_url=site) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token, "no CSRF token on /login"
        answer = client.post("/login", data={"name": name, "password": password,
                                             "csrf_token": token[1]})
        assert answer.status_code in (200, 303) and name in client.get("/").text, answer.text
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


@contextmanager
def serve(app: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--log-level", "warning",
         "--no-access-log"], cwd=ROOT, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: float, concurrency: int, cookie: str | None = None) -> dict[str, float]:
    """Drive `url` with wrk (a C load generator: the client is not the bottleneck)."""
    header = ["-H", f"Cookie: {cookie}"] if cookie else []
    out = subprocess.run(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds:g}s", "--latency", *header, url],
        capture_output=True, text=True, check=True,
    ).stdout
    def latency(pct: str) -> float:
        value = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert value, out
        return float(value[1]) * UNITS[value[2]]
    requests = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        "p50": latency("50"),
        "p99": latency("99"),
        "requests": requests,
        "errors": (int(bad[1]) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0),
    }


async def drive(url: str, seconds: float, concurrency: int, cookie: str | None = None) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Cookie": cookie} if cookie else {}
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:
        await client.get(url)  # warm caches and the connection pool

        async def one_client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - start)
                errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "requests": len(latencies),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--logged-in", action="store_true",
                        help="also the homework page as a logged-in student sees it")
    parser.add_argument("--client", choices=["wrk", "httpx"],
                        default="wrk" if shutil.which("wrk") else "httpx",
                        help="load generator (wrk, from Debian's package, unless missing)")
    args = parser.parse_args()
    data_dir = ROOT / "var" / f"bench-{uuid.uuid4().hex[:6]}"
    with database() as db:
        env = camp_env(db, data_dir)
        camp(env, "db", "upgrade")
        camp(env, "course", "load", str(ROOT / "courses" / "dl-bootcamp.yaml"))
        seed(db, args.submissions)
        page = "/courses/dl-bootcamp/assignments/6-2?page=1"
        board = "/api/v1/courses/dl-bootcamp/assignments/6-2/leaderboard"
        results = {}
        with serve("bench.hello_app:app", env) as hello, serve("app.asgi:app", env) as site:
            targets: list[tuple[str, str, str | None]] = [
                ("hello-world (baseline)", hello + "/", None),
                (f"homework page (50 of {args.submissions:,} replies)", site + page, None),
                (f"leaderboard JSON ({args.submissions:,} submissions)", site + board, None)]
            if args.logged_in:
                targets.append(("homework page, logged-in student (2 of the 50 replies theirs)",
                                site + page, student_cookie(env, db, site)))
            for label, url, cookie in targets:
                if args.client == "wrk":
                    results[label] = wrk(url, args.seconds, args.concurrency, cookie)
                else:
                    results[label] = asyncio.run(drive(url, args.seconds, args.concurrency, cookie))
    base = results["hello-world (baseline)"]["rps"]
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {args.client}, "
          f"{args.concurrency} clients, {args.seconds:g} s per target, one uvicorn worker each, PostgreSQL\n")
    print("| target | req/s | p50 ms | p99 ms | requests | errors | × hello-world |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, r in results.items():
        print(f"| {label} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['requests']} | "
              f"{r['errors']} | {r['rps'] / base:.2f} |")


if __name__ == "__main__":
    main()
