"""Health: is the database reachable, the broker, is there room on the data disk, and a worker?

`status` is `ok` when every check passes and `degraded` otherwise. The answer is `503` only
when the database or the broker is unreachable (nothing can be posted); a low disk or no live
worker is `degraded` with `200`, so a load balancer keeps serving pages while operators are
alerted (the site still reads; replies wait in the queue or are refused with a clear 507).
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.config import get_settings
from app.db import get_engine, session_scope
from app.models import utcnow
from app.queue import client
from app.services import queue_stats

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> JSONResponse:
    reachable = {"database": _check_database(), "broker": _check_broker()}
    down = any(v != "ok" for v in reachable.values())
    workers = _check_workers() if reachable["database"] == "ok" else {"status": "unknown"}
    sandbox = _check_sandbox() if reachable["database"] == "ok" else {"status": "unknown"}
    checks: dict[str, Any] = {**reachable, "disk": _check_disk(), "workers": workers, "sandbox": sandbox}
    # a worker without cgroups still grades (with per-process limits): a warning, not degraded
    healthy = (not down and checks["disk"]["status"] == "ok" and workers["status"] == "ok"
               and sandbox["status"] in ("ok", "warning"))
    body = {"status": "ok" if healthy else "degraded", **checks}
    return JSONResponse(body, status_code=503 if down else 200)


def _check_database() -> str:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def _check_broker() -> str:
    try:
        with client().connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def _check_disk() -> dict[str, Any]:
    """Free space where uploads and the embedded database live."""
    settings = get_settings()
    minimum = settings.min_free_disk_mb * 1024 * 1024
    try:
        free = shutil.disk_usage(settings.data_dir).free
    except OSError as exc:
        return {"status": f"error: {type(exc).__name__}"}
    return {"status": "ok" if free >= minimum else "low", "free_bytes": free, "min_free_bytes": minimum}


def _check_workers() -> dict[str, Any]:
    """Workers whose heartbeat is fresh (docs/pipeline.md); none means nothing gets graded."""
    settings = get_settings()
    since = utcnow() - timedelta(seconds=settings.worker_heartbeat_seconds * settings.worker_heartbeat_misses)
    with session_scope() as session:
        alive = queue_stats.live_workers(session, since)
    return {"status": "ok" if alive else "no live worker", "alive": alive}


def _check_sandbox() -> dict[str, Any]:
    """What live workers say of their sandboxes (docs/grading.md): refusing work is degraded;
    running without cgroups is a warning (limits per process only), named worker by worker."""
    with session_scope() as session:
        lines = [w for w in queue_stats.collect(session).workers if w.alive]
    refusing = {f"{w.hostname}/{w.pid}": w.sandbox for w in lines if w.refusing}
    weak = {f"{w.hostname}/{w.pid}": w.sandbox for w in lines if w.without_cgroups}
    if refusing:
        return {"status": "refusing work", "workers": refusing}
    if weak:
        return {"status": "warning", "workers": weak}
    return {"status": "ok"}
