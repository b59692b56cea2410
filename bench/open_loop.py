"""Open-loop load for bench/load.py (`--open-loop`): requests leave on a fixed schedule, whether
or not earlier ones were answered, from several generator processes, so a slow server cannot
slow the generator down (no coordinated omission: each latency counts from the moment its
request was *due*, not from when it could finally be sent).

For each system (Camp's reply API, and the bare pipeline of bench/bare_pipeline.py: FastAPI →
INSERT → Celery over Redis → UPDATE), same machine, same run, same PostgreSQL and Redis, same
number of web processes and Celery workers:

* rates in turn (e.g. 20, 50, 100 replies/s), `--stage-seconds` each: submit latency (request
  due → 201) and reply → verdict (request due → the row's `graded_at`, written by the worker);
* throughput: the highest rate whose verdict p99 stays under 1 s, with no errors and the
  generator on schedule;
* Camp only, at `--stream-rate` (20/s), first (after the warm-up, before any backlog): the
  verdict as the browser sees it, through the event stream (`/submissions/{id}/events`),
  request due → the final event.

A stage whose verdicts are not all in within 30 s counts the rest as unfinished; the next stage
starts only once they are in (or 2 more minutes passed), so no stage runs beside another's backlog.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import dataclass, field

import httpx
import psycopg

LATE = 0.05  # a generator more than this behind schedule on average is "not on schedule"


@dataclass
class Target:
    name: str
    url: str
    text: str
    #: SQL: (id, graded_at as epoch seconds) of finished rows among ids = ANY(%s)
    verdicts_sql: str
    #: API tokens used in turn (Camp: one per student); none for the bare pipeline
    tokens: list[str] = field(default_factory=list)
    events: str | None = None  # Camp: the event stream URL, with {id}

    def request(self, i: int) -> tuple[dict[str, str], dict[str, str]]:
        headers = {"Authorization": f"Bearer {self.tokens[i % len(self.tokens)]}"} if self.tokens else {}
        return {"text": self.text}, headers


@dataclass
class Sent:
    due: float
    latency: float | None = None  # None: error
    sid: int | None = None
    error: str | None = None
    stream_latency: float | None = None
    behind: float = 0.0


@dataclass
class Stage:
    rate: float
    seconds: float
    sent: list[Sent] = field(default_factory=list)
    verdicts: list[float] = field(default_factory=list)
    unfinished: int = 0

    @property
    def errors(self) -> int:
        return sum(s.latency is None for s in self.sent)

    @property
    def submits(self) -> list[float]:
        return [s.latency for s in self.sent if s.latency is not None]

    @property
    def streams(self) -> list[float]:
        return [s.stream_latency for s in self.sent if s.stream_latency is not None]

    @property
    def on_schedule(self) -> bool:
        return bool(self.sent) and sum(s.behind for s in self.sent) / len(self.sent) < LATE


async def _one(client: httpx.AsyncClient, target: Target, i: int, due: float, stream: bool) -> Sent:
    sent = Sent(due, behind=max(0.0, time.time() - due))
    data, headers = target.request(i)
    try:
        r = await client.post(target.url, data=data, headers=headers)
    except httpx.HTTPError as exc:
        sent.error = type(exc).__name__
        return sent
    if r.status_code != 201:
        sent.error = f"HTTP {r.status_code}"
        return sent
    sent.latency, sent.sid = time.time() - due, int(r.json()["id"])
    if stream and target.events:
        try:
            async with client.stream("GET", target.events.format(id=sent.sid), headers=headers) as events:
                if events.status_code != 200:
                    sent.error = f"stream HTTP {events.status_code}"
                    return sent
                async for line in events.aiter_lines():
                    if line.startswith("data:") and '"final": true' in line:
                        sent.stream_latency = time.time() - due
                        break
        except httpx.HTTPError as exc:
            sent.error = f"stream {type(exc).__name__}"
    return sent


async def _generate(target: Target, rate: float, seconds: float, start: float, index: int, procs: int,
                    stream: bool) -> list[Sent]:
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=200, keepalive_expiry=4.0)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        tasks = []
        total = int(rate * seconds)
        for i in range(index, total, procs):
            due = start + i / rate
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_one(client, target, i, due, stream)))
        return list(await asyncio.gather(*tasks))


def _process(args: tuple[Target, float, float, float, int, int, bool]) -> list[Sent]:
    return asyncio.run(_generate(*args))


def drain(sql: str, ids: list[int], db_url: str, limit: float = 120.0) -> None:
    """Wait (uncounted) until every id has its verdict, so the next stage does not run beside
    this one's backlog; gives up after `limit` seconds."""
    deadline = time.monotonic() + limit
    with psycopg.connect(db_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if len(conn.execute(sql, (ids,)).fetchall()) >= len(ids):
                return
            time.sleep(0.5)


def run_stage(target: Target, rate: float, seconds: float, procs: int, db_url: str,
              stream: bool = False, wait: float = 30.0) -> Stage:
    stage = Stage(rate, seconds)
    start = time.time() + 0.5
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        jobs = [(target, rate, seconds, start, k, procs, stream) for k in range(procs)]
        for part in pool.map(_process, jobs):
            stage.sent += part
    ids = {s.sid: s.due for s in stage.sent if s.sid is not None}
    deadline = time.monotonic() + wait
    found: dict[int, float] = {}
    with psycopg.connect(db_url, autocommit=True) as conn:
        while True:
            found = {sid: float(at) for sid, at in conn.execute(target.verdicts_sql, (list(ids),)).fetchall()}
            if len(found) == len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    stage.verdicts = [found[sid] - due for sid, due in ids.items() if sid in found]
    stage.unfinished = len(ids) - len(found)
    if stage.unfinished:
        drain(target.verdicts_sql, list(ids), db_url)
    return stage


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def holds(stage: Stage) -> bool:
    """The rate is sustained: on schedule, no errors, everything graded, verdict p99 < 1 s."""
    p99 = pct(stage.verdicts, 0.99)
    return stage.on_schedule and not stage.errors and not stage.unfinished and p99 is not None and p99 < 1.0


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f}"
