"""Benchmark: the whole grading pipeline under load, against a bare FastAPI hello-world.

    python bench/load.py [--students 200] [--seconds 60] [--workers 2] [--poll 1.0]

Builds a throwaway PostgreSQL database (on 127.0.0.1:5432, user postgres) and a throwaway
redis-server (append-only, noeviction, as in docker-compose.yml) on a free loopback port,
starts Camp as in production (`camp serve` with `--web-processes` uvicorn processes, default 1;
`--workers` Celery workers on the cpu queue with the prefork pool, one of them running the sweep
on beat), and lets `--students` concurrent students, each with an API token, reply to homework
1-1 and 7-1 (cheap graders: the pipeline is measured, not the grading) and poll their reply
until its verdict is visible, for `--seconds` (or `--max-submissions`). Then serves
`bench/hello_app.py` (a bare FastAPI hello-world) with as many uvicorn processes and drives it
with as many concurrent clients for `--baseline-seconds`, in the same run on the same machine,
with the same httpx client.

Prints Markdown: submissions and requests per second, p50/p99 latency of the submit request and
of "verdict visible" (from sending the reply to the first poll that shows it graded), errors,
and, after the run, whether every reply the server accepted was graded exactly once.
Everything is loopback; everything started is stopped and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG = "postgresql://postgres@127.0.0.1:5432"
FINAL = ("scored", "failed", "rejected")
#: below uvicorn's 5 s keep-alive timeout: a connection the server is closing is never reused
KEEPALIVE = 4.0
ANSWERS = {"1-1": "作业1-1：已跑通", "7-1": "作业7-1：乘法867041280,加法867041280"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


@contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@contextmanager
def database() -> Iterator[str]:
    name = f"camp_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_server(stack: ExitStack, work: Path) -> str:
    port = free_port()
    stack.enter_context(process(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(work), "--save", "",
         "--appendonly", "yes", "--maxmemory-policy", "noeviction"], dict(os.environ), work / "redis.log"))
    deadline = time.monotonic() + 20
    ping = ["redis-cli", "-p", str(port), "ping"]
    while subprocess.run(ping, capture_output=True).stdout.strip() != b"PONG":
        if time.monotonic() > deadline:
            raise SystemExit("redis-server did not start")
        time.sleep(0.1)
    return f"redis://127.0.0.1:{port}/0"


def camp_env(db: str, broker: str, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMP_")}
    env.update(CAMP_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}", CAMP_BROKER_URL=broker,
               CAMP_SECRET_KEY=secrets.token_urlsafe(48), CAMP_DATA_DIR=str(work), PYTHONUNBUFFERED="1",
               # a simulated student replies again as soon as the verdict shows, far above the
               # per-account reply rate: lifted, though every reply still pays for its check
               CAMP_REPLIES_PER_MINUTE="1000000", CAMP_REPLIES_PER_HOUR="1000000")
    return env


def camp(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def student_tokens(env: dict[str, str], n: int) -> list[str]:
    """`n` students (who cannot log in) with API tokens, created through Camp's own models."""
    code = ("import sys\nfrom app.db import session_scope\nfrom app.models import User\n"
            "from app.services.accounts import create_token\n"
            "with session_scope() as s:\n    for i in range(int(sys.argv[1])):\n"
            "        u = User(name=f'load{i:04d}', password_hash='!', role='student')\n"
            "        s.add(u)\n        s.flush()\n        print(create_token(s, u, 'load'))\n")
    out = subprocess.run([sys.executable, "-c", code, str(n)], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return out.split()


@dataclass
class Tally:
    submit: list[float] = field(default_factory=list)
    verdict: list[float] = field(default_factory=list)
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    accepted: list[int] = field(default_factory=list)
    unfinished: int = 0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def student(client: httpx.AsyncClient, base: str, token: str, stop: float, poll: float,
                  budget: list[int], tally: Tally, rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    await asyncio.sleep(rng.uniform(0, poll))  # students do not all arrive in the same millisecond
    while time.perf_counter() < stop and budget[0] > 0:
        budget[0] -= 1
        code = rng.choice(list(ANSWERS))
        url = f"{base}/api/v1/courses/dl-bootcamp/assignments/{code}/submissions"
        sent = time.perf_counter()
        try:
            r = await client.post(url, data={"text": ANSWERS[code]}, headers=headers)
        except httpx.HTTPError as exc:
            tally.error(type(exc).__name__)
            continue
        finally:
            tally.requests += 1
        if r.status_code != 201:
            tally.error(f"submit {r.status_code}")
            continue
        tally.submit.append(time.perf_counter() - sent)
        sid = r.json()["id"]
        tally.accepted.append(sid)
        while True:
            await asyncio.sleep(poll)
            if time.perf_counter() >= stop:
                tally.unfinished += 1
                return
            try:
                r = await client.get(f"{base}/api/v1/submissions/{sid}", headers=headers)
            except httpx.HTTPError as exc:
                tally.error(type(exc).__name__)
                continue
            finally:
                tally.requests += 1
            if r.status_code != 200:
                tally.error(f"poll {r.status_code}")
            elif r.json()["status"] in FINAL:
                tally.verdict.append(time.perf_counter() - sent)
                break
        await asyncio.sleep(rng.uniform(0, poll))  # reads the verdict, then replies again


async def load(base: str, tokens: list[str], seconds: float, poll: float,
               max_submissions: int) -> tuple[Tally, float]:
    tally, rng, budget = Tally(), random.Random(7), [max_submissions]
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens),
                          keepalive_expiry=KEEPALIVE)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        started = time.perf_counter()
        stop = started + seconds
        await asyncio.gather(*(student(client, base, t, stop, poll, budget, tally, rng) for t in tokens))
        return tally, time.perf_counter() - started


async def hello(base: str, clients: int, seconds: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients,
                          keepalive_expiry=KEEPALIVE)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        started = time.perf_counter()
        stop = started + seconds

        async def one() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                sent = time.perf_counter()
                try:
                    r = await client.get(base + "/")
                    errors += r.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - sent)

        await asyncio.gather(*(one() for _ in range(clients)))
        return latencies, errors, time.perf_counter() - started


def group_cpu_seconds(pgid: int) -> float:
    """CPU time used so far by the live processes of a process group (a server or a worker)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


CPU_PARTS = ("web", "worker", "postgres")


def postgres_cpu_seconds() -> float:
    """CPU time used so far by the machine's PostgreSQL server processes."""
    total = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "comm").read_text().strip() != "postgres":
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def cpu_split(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of one system's web and worker process groups, and of PostgreSQL."""
    return {"web": sum(group_cpu_seconds(g) for g in groups["web"]),
            "worker": sum(group_cpu_seconds(g) for g in groups["worker"]),
            "postgres": postgres_cpu_seconds()}


def pct(values: list[float], p: float) -> str:
    if not values:
        return "–"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000:.0f}"


def graded_once(db: str, ids: list[int], timeout: float = 120) -> tuple[int, int, int, float]:
    """After the load: (accepted replies, scored, scored by exactly one attempt, seconds waited)."""
    started = time.monotonic()
    with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
        while True:
            waiting = conn.execute("SELECT count(*) FROM submissions WHERE id = ANY(%s) AND status IN"
                                   " ('queued', 'running')", (ids,)).fetchone()[0]
            if not waiting or time.monotonic() - started > timeout:
                break
            time.sleep(0.5)
        scored = conn.execute("SELECT count(*) FROM submissions WHERE id = ANY(%s) AND status = 'scored'",
                              (ids,)).fetchone()[0]
        once = conn.execute("SELECT count(*) FROM (SELECT submission_id FROM grading_attempts WHERE"
                            " submission_id = ANY(%s) GROUP BY submission_id HAVING count(*) = 1 AND"
                            " count(*) FILTER (WHERE outcome = 'scored') = 1) x", (ids,)).fetchone()[0]
    return len(ids), scored, once, time.monotonic() - started


def open_loop_main(args: argparse.Namespace) -> None:
    """`--open-loop`: Camp and the bare pipeline at fixed rates (bench/open_loop.py)."""
    from collections import Counter

    sys.path.insert(0, str(ROOT))
    from bench.open_loop import Stage, Target, holds, ms, pct, run_stage

    rates = [float(r) for r in args.rates.split(",")]
    webs = [int(w) for w in args.compare_web.split(",")]
    load_avg = os.getloadavg()
    lines: list[str] = []
    summary: list[str] = []
    cpu_rows: list[str] = []
    for web in webs:
        work = Path(tempfile.mkdtemp(prefix="camp-open-"))
        with ExitStack() as stack:
            stack.callback(shutil.rmtree, work, True)  # logs and Redis files go, whatever happens
            db = stack.enter_context(database())
            broker = redis_server(stack, work)
            env = camp_env(db, broker, work)
            # every simulated student comes from 127.0.0.1: lift the per-address upload limit
            env["CAMP_UPLOADS_PER_CLIENT"] = "100000"
            env["CAMP_STREAMS_PER_CLIENT"] = "100000"  # likewise the event streams open at once
            camp(env, "db", "upgrade")
            camp(env, "course", "load", str(ROOT / "courses" / "dl-bootcamp.yaml"))
            tokens = student_tokens(env, args.students)
            port, bare_port = free_port(), free_port()
            bare_env = {**env, "BARE_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}",
                        "BARE_BROKER_URL": broker}
            make_table = "from bench.bare_pipeline import create_table; create_table()"
            subprocess.run([sys.executable, "-c", make_table], cwd=ROOT, env=bare_env, check=True)
            # no access log, like the bare pipeline's uvicorn (a proxy in front keeps one)
            camp_web = [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(port),
                        "--workers", str(web), "--no-access-log"]
            bare_web = [sys.executable, "-m", "uvicorn", "bench.bare_pipeline:app", "--port", str(bare_port),
                        "--workers", str(web), "--log-level", "warning", "--no-access-log"]
            bare_worker = [sys.executable, "-m", "celery", "-A", "bench.bare_pipeline:celery_app", "worker",
                           "-Q", "bare", "-c", str(args.workers), "--loglevel", "WARNING", "--without-gossip",
                           "--without-mingle"]
            # each system's process groups, by part: their CPU is counted per stage
            groups: dict[str, dict[str, list[int]]] = {
                "Camp": {
                    "web": [stack.enter_context(process(camp_web, env, work / "web.log")).pid],
                    "worker": [stack.enter_context(process(
                        [sys.executable, "-m", "app.cli", "worker", "-Q", "cpu", "-c", "1", "--hostname",
                         f"load{i}@%h"], env, work / f"worker-{i}.log")).pid for i in range(args.workers)],
                },
                "bare pipeline": {
                    "web": [stack.enter_context(process(bare_web, bare_env, work / "bare-web.log")).pid],
                    "worker": [stack.enter_context(process(bare_worker, bare_env,
                                                           work / "bare-worker.log")).pid],
                },
            }
            base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
            wait_up(base + "/healthz")
            wait_up(bare + "/docs")
            db_url = f"{PG}/{db}"
            targets = [
                Target("Camp", f"{base}/api/v1/courses/dl-bootcamp/assignments/1-1/submissions",
                       ANSWERS["1-1"],
                       "SELECT id, extract(epoch FROM graded_at) FROM submissions"
                       " WHERE id = ANY(%s) AND graded_at IS NOT NULL", tokens,
                       events=base + "/submissions/{id}/events"),
                Target("bare pipeline", f"{bare}/submit", ANSWERS["1-1"],
                       "SELECT id, extract(epoch FROM graded_at) FROM bare_submissions"
                       " WHERE id = ANY(%s) AND graded_at IS NOT NULL"),
            ]
            for target in targets:  # warm-up: connections, first imports
                run_stage(target, 5, 2, 1, db_url)
            # the event stream first, on an idle system (later stages may leave backlogs)
            stream = run_stage(targets[0], args.stream_rate, args.stage_seconds, args.generators, db_url,
                               stream=True)
            best: dict[str, Stage | None] = {t.name: None for t in targets}
            stages: list[Stage] = []
            for rate in rates:
                for target in targets:
                    before = cpu_split(groups[target.name])
                    stage = run_stage(target, rate, args.stage_seconds, args.generators, db_url)
                    used = {k: v - before[k] for k, v in cpu_split(groups[target.name]).items()}
                    graded = max(1, len(stage.verdicts))
                    cpu_rows.append(f"| {web} | {target.name} | {rate:g} | "
                                    + " | ".join(f"{used[k] / graded * 1000:.1f}" for k in CPU_PARTS)
                                    + f" | {sum(used.values()) / graded * 1000:.1f} |")
                    stages.append(stage)
                    ok = holds(stage)
                    if ok:
                        best[target.name] = stage
                    sent = len(stage.sent)
                    lines.append(
                        f"| {web} | {target.name} | {rate:g} | {sent / stage.seconds:.1f} | "
                        f"{ms(pct(stage.submits, 0.5))} | {ms(pct(stage.submits, 0.99))} | "
                        f"{ms(pct(stage.verdicts, 0.5))} | {ms(pct(stage.verdicts, 0.99))} | "
                        f"{stage.errors} | {stage.unfinished} | "
                        f"{'yes' if stage.on_schedule else 'no'} | {'yes' if ok else 'no'} |")
            errors = Counter(s.error for st in [stream, *stages] for s in st.sent if s.error)
            if errors:
                summary.append(f"- {web} web process(es): errors by kind: {dict(errors)}")
            summary.append(f"- {web} web process(es): Camp verdict through the event stream at "
                           f"{args.stream_rate:g} replies/s: p50 {ms(pct(stream.streams, 0.5))} ms, p99 "
                           f"{ms(pct(stream.streams, 0.99))} ms ({len(stream.streams)} of {len(stream.sent)} "
                           "seen final)")
            camp_best, bare_best = best["Camp"], best["bare pipeline"]
            if camp_best and bare_best:
                summary.append(f"- {web} web process(es): throughput at verdict p99 < 1 s: Camp "
                               f"{camp_best.rate:g}/s, bare {bare_best.rate:g}/s: **Camp ÷ bare = "
                               f"{camp_best.rate / bare_best.rate:.2f}** "
                               f"(the highest rate tried that held; rates tried: {args.rates})")
            else:
                missing = ", ".join(n for n, b in best.items() if b is None)
                summary.append(f"- {web} web process(es): no rate held for {missing} "
                               f"(rates tried: {args.rates})")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    end_avg = os.getloadavg()
    print(f"{when}, Python {platform.python_version()}, {os.cpu_count()} CPUs; load average "
          f"{load_avg[0]:.1f} / {load_avg[1]:.1f} / {load_avg[2]:.1f} at the start, "
          f"{end_avg[0]:.1f} / {end_avg[1]:.1f} / {end_avg[2]:.1f} at the end; open loop, "
          f"{args.generators} generator processes, {args.stage_seconds:g} s per rate, {args.workers} Celery "
          f"workers per system, {args.students} students (Camp)\n")
    print("| web processes | system | target /s | sent /s | submit p50 ms | submit p99 ms | verdict p50 ms | "
          "verdict p99 ms | errors | unfinished | on schedule | held |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    print("\n".join(lines))
    print()
    print("\n".join(summary))
    print("\nCPU milliseconds per graded reply, by part (the whole stage, including its drain; PostgreSQL is"
          " every postgres process of the machine, shared by the systems but used by one stage at a time):\n")
    parts = " | ".join(f"{k} ms" for k in CPU_PARTS)
    print(f"| web processes | system | target /s | {parts} | total ms |")
    print("|---:|---|---:|" + "---:|" * (len(CPU_PARTS) + 1))
    print("\n".join(cpu_rows))


def main() -> None:
    parser = argparse.ArgumentParser(description="pipeline load benchmark (loopback only)")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-submissions", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (prefork, -c 1 each)")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between a student's polls")
    parser.add_argument("--web-processes", type=int, default=1,
                        help="uvicorn processes, for Camp and for the baseline")
    parser.add_argument("--baseline-seconds", type=float, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the logs (printed path)")
    parser.add_argument("--open-loop", action="store_true",
                        help="fixed rates against Camp and the bare pipeline (bench/open_loop.py)")
    parser.add_argument("--rates", default="20,50,100", help="open loop: replies per second, in turn")
    parser.add_argument("--stage-seconds", type=float, default=10, help="open loop: seconds per rate")
    parser.add_argument("--generators", type=int, default=2, help="open loop: generator processes")
    parser.add_argument("--stream-rate", type=float, default=20, help="open loop: event stream stage rate")
    parser.add_argument("--compare-web", default="1,2", help="open loop: web process counts to compare")
    args = parser.parse_args()
    if args.open_loop:
        open_loop_main(args)
        return

    work = Path(tempfile.mkdtemp(prefix="camp-load-"))
    load_avg = os.getloadavg()[0]
    with ExitStack() as stack:
        db = stack.enter_context(database())
        env = camp_env(db, redis_server(stack, work), work)
        camp(env, "db", "upgrade")
        camp(env, "course", "load", str(ROOT / "courses" / "dl-bootcamp.yaml"))
        tokens = student_tokens(env, args.students)
        workers = []
        for i in range(args.workers):
            argv = [sys.executable, "-m", "app.cli", "worker", "-Q", "cpu", "-c", "1",
                    "--hostname", f"load{i}@%h", *(["--beat"] if i == 0 else [])]
            workers.append(stack.enter_context(process(argv, env, work / f"worker-{i}.log")))
        port = free_port()
        serve = [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(port),
                 "--workers", str(args.web_processes)]
        web = stack.enter_context(process(serve, env, work / "web.log"))
        base = f"http://127.0.0.1:{port}"
        wait_up(base + "/healthz")

        def cpu_now() -> dict[str, float]:
            return {"web": group_cpu_seconds(web.pid),
                    "workers": sum(group_cpu_seconds(w.pid) for w in workers),
                    "load generator": time.process_time()}

        before = cpu_now()
        tally, elapsed = asyncio.run(load(base, tokens, args.seconds, args.poll, args.max_submissions))
        cpu = {name: seconds - before[name] for name, seconds in cpu_now().items()}
        accepted, scored, once, waited = graded_once(db, tally.accepted)

        hello_port = free_port()
        stack.enter_context(process([sys.executable, "-m", "uvicorn", "bench.hello_app:app", "--port",
                                     str(hello_port), "--log-level", "warning", "--no-access-log",
                                     "--workers", str(args.web_processes)], env, work / "hello.log"))
        wait_up(f"http://127.0.0.1:{hello_port}/")
        latencies, hello_errors, hello_elapsed = asyncio.run(
            hello(f"http://127.0.0.1:{hello_port}", args.students, args.baseline_seconds))
    if args.keep:
        print(f"logs in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)

    when = datetime.now(UTC).strftime("%Y-%m-%d")
    print(f"{when}, Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
          f"load average {load_avg:.1f} at the start; {args.students} students, {elapsed:.0f} s, poll every "
          f"{args.poll:g} s, {args.workers} Celery workers, {args.web_processes} uvicorn process(es)\n")
    print("| run | per second | p50 ms | p99 ms | count | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    errors = sum(tally.errors.values())
    print(f"| Camp: submit (POST, 201) | {len(tally.submit) / elapsed:.1f} | {pct(tally.submit, 0.5)} | "
          f"{pct(tally.submit, 0.99)} | {len(tally.submit)} | {errors} |")
    print(f"| Camp: verdict visible (POST to graded poll) | {len(tally.verdict) / elapsed:.1f} | "
          f"{pct(tally.verdict, 0.5)} | {pct(tally.verdict, 0.99)} | {len(tally.verdict)} | |")
    print(f"| Camp: all requests (submit + poll) | {tally.requests / elapsed:.1f} | | | {tally.requests} | |")
    print(f"| bare FastAPI hello-world (GET) | {len(latencies) / hello_elapsed:.1f} | "
          f"{pct(latencies, 0.5)} | {pct(latencies, 0.99)} | {len(latencies)} | {hello_errors} |")
    print(f"\nerrors: {tally.errors or 'none'}; replies still waiting for their verdict when the clock "
          f"stopped: {tally.unfinished}")
    shares = ", ".join(f"{name} {seconds / elapsed:.2f}" for name, seconds in cpu.items())
    print(f"CPU used during the load, in cores: {shares} (the rest: PostgreSQL, Redis, other work)")
    print(f"after the run: {accepted} replies answered 201, {scored} scored, {once} graded by exactly one "
          f"attempt (all final {waited:.1f} s after the load stopped)")


if __name__ == "__main__":
    main()
