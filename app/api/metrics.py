"""`/metrics` in the Prometheus text format (0.0.4): the grading queue and the workers.

Every number comes from the database (`app.services.queue_stats`), so any web process answers
for the whole installation. With `CAMP_METRICS_TOKEN` set, scrapers must send it as a Bearer
token.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from app.db import get_sessionmaker
from app.deps import bearer_token
from app.errors import NotAuthenticated
from app.security import same_token
from app.services.queue_stats import QueueStats, WorkerLine, collect

router = APIRouter(tags=["health"], include_in_schema=False)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Sample = tuple[dict[str, str], float]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def family(name: str, help_text: str, samples: Iterable[Sample], kind: str = "gauge") -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{rendered}}} {_number(value)}" if rendered else f"{name} {_number(value)}")
    return lines


def render(stats: QueueStats) -> str:
    q, w = stats.queues, stats.workers
    lines = [
        *family("camp_queue_submissions", "Submissions waiting for a verdict, by queue and status.",
                [({"queue": x.queue, "status": s}, n) for x in q
                 for s, n in (("queued", x.queued), ("running", x.running))]),
        *family("camp_queue_length", "Submissions queued or running, by queue.",
                [({"queue": x.queue}, x.queued + x.running) for x in q]),
        *family("camp_queue_oldest_waiting_seconds",
                "Age of the oldest submission still queued or running (0 when none waits).",
                [({"queue": x.queue}, x.oldest_waiting_seconds) for x in q]),
        *family("camp_queue_expired_leases", "Running claims whose lease ran out (the sweep resends them).",
                [({"queue": x.queue}, x.expired_leases) for x in q]),
        *family("camp_submissions_failed", "Submissions that could not be graded (staff must look).",
                [({}, stats.failed)]),
        *family("camp_workers_alive", "Workers whose heartbeat is recent.", [({}, stats.workers_alive)]),
        *family("camp_worker_heartbeat_age_seconds", "Seconds since each worker's last heartbeat.",
                [(_worker(x), x.seen_seconds_ago) for x in w]),
        *family("camp_worker_active_gradings", "Gradings running in each worker at its last heartbeat.",
                [(_worker(x), x.active) for x in w]),
        *family("camp_worker_sandbox_refusing",
                "1 when a worker stopped taking work after repeated sandbox set-up failures.",
                [(_worker(x), int(x.refusing)) for x in w]),
        *family("camp_worker_sandbox_without_cgroups",
                "1 when a worker's sandboxes run without cgroups (per-process limits only).",
                [(_worker(x), int(x.without_cgroups)) for x in w]),
    ]
    return "\n".join(lines) + "\n"


def _worker(line: WorkerLine) -> dict[str, str]:
    return {"worker": f"{line.hostname}/{line.pid}", "queues": line.queues}


@router.get("/metrics")
def metrics(request: Request) -> PlainTextResponse:
    token = request.app.state.settings.metrics_token
    if token and not same_token(token, bearer_token(request)):
        raise NotAuthenticated("The API token is missing, invalid or revoked")
    with get_sessionmaker()() as session:
        stats = collect(session)
    return PlainTextResponse(render(stats), media_type=CONTENT_TYPE)
