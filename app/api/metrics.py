"""`/metrics` in the Prometheus text format (0.0.4): the grading queue and the workers.

Every number comes from the database (`app.services.queue_stats`), so any web process answers
for the whole installation. prometheus-client writes the text; this module only says which
families there are. With `CAMP_METRICS_TOKEN` set, scrapers must send it as a Bearer token.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from app.db import get_sessionmaker
from app.deps import bearer_token
from app.errors import NotAuthenticated
from app.security import same_token
from app.services.queue_stats import QueueStats, WorkerLine, collect

router = APIRouter(tags=["health"], include_in_schema=False)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Sample = tuple[dict[str, str], float]


def family(name: str, help_text: str, samples: Iterable[Sample]) -> GaugeMetricFamily:
    rows = list(samples)
    labels = list(rows[0][0]) if rows else []
    gauge = GaugeMetricFamily(name, help_text, labels=labels)
    for values, value in rows:
        gauge.add_metric([values[k] for k in labels], value)
    return gauge


class QueueCollector(Collector):
    """One scrape's families, from one database snapshot."""

    def __init__(self, stats: QueueStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        q, w = self.stats.queues, self.stats.workers
        yield family("camp_queue_submissions", "Submissions waiting for a verdict, by queue and status.",
                     [({"queue": x.queue, "status": s}, n) for x in q
                      for s, n in (("queued", x.queued), ("running", x.running))])
        yield family("camp_queue_length", "Submissions queued or running, by queue.",
                     [({"queue": x.queue}, x.queued + x.running) for x in q])
        yield family("camp_queue_oldest_waiting_seconds",
                     "Age of the oldest submission still queued or running (0 when none waits).",
                     [({"queue": x.queue}, x.oldest_waiting_seconds) for x in q])
        yield family("camp_queue_expired_leases",
                     "Running claims whose lease ran out (the sweep resends them).",
                     [({"queue": x.queue}, x.expired_leases) for x in q])
        yield family("camp_submissions_failed", "Submissions that could not be graded (staff must look).",
                     [({}, self.stats.failed)])
        yield family("camp_workers_alive", "Workers whose heartbeat is recent.",
                     [({}, self.stats.workers_alive)])
        yield family("camp_worker_heartbeat_age_seconds", "Seconds since each worker's last heartbeat.",
                     [(_worker(x), x.seen_seconds_ago) for x in w])
        yield family("camp_worker_active_gradings", "Gradings running in each worker at its last heartbeat.",
                     [(_worker(x), x.active) for x in w])
        yield family("camp_worker_sandbox_refusing",
                     "1 when a worker stopped taking work after repeated sandbox set-up failures.",
                     [(_worker(x), int(x.refusing)) for x in w])
        yield family("camp_worker_sandbox_without_cgroups",
                     "1 when a worker's sandboxes run without cgroups (per-process limits only).",
                     [(_worker(x), int(x.without_cgroups)) for x in w])


def render(stats: QueueStats) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(stats))
    return generate_latest(registry).decode()


def _worker(line: WorkerLine) -> dict[str, str]:
    return {"worker": f"{line.hostname}/{line.pid}", "queues": line.queues}


@router.get("/metrics")
def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token and not same_token(token, bearer_token(request)):
        raise NotAuthenticated("The API token is missing, invalid or revoked")
    with get_sessionmaker()() as session:
        stats = collect(session)
    return Response(render(stats), media_type=CONTENT_TYPE)
