"""/healthz on both stacks: database and broker, free space of the data directory, live workers.

A low disk or no live worker is `degraded` with a 200 (pages still work); the full-disk and
database-outage fault tests check the 507 and 503 answers with real servers."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from tests.support.stacks import Stack
from tests.support.web import make_client


def beat_now(pid: int) -> None:
    from app.db import session_scope
    from worker.heartbeat import write
    from worker.identity import Identity

    with session_scope() as session:
        write(session, Identity("celery@health-test", pid, "cpu", 1), [])


def test_no_live_worker_is_degraded_but_served(stack: Stack, client: TestClient) -> None:
    from sqlalchemy import delete

    from app.db import session_scope
    from app.models import WorkerHeartbeat

    with session_scope() as session:
        session.execute(delete(WorkerHeartbeat))
    health = client.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["database"] == body["broker"] == "ok"
    assert body["workers"] == {"status": "no live worker", "alive": 0} and body["status"] == "degraded"
    beat_now(os.getpid())
    body = client.get("/healthz").json()
    assert body["workers"] == {"status": "ok", "alive": 1}
    assert body["disk"]["status"] == "ok" and body["disk"]["free_bytes"] > 0 and body["status"] == "ok"


def test_little_free_space_is_degraded(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.stacks import reset_caches

    beat_now(os.getpid())
    monkeypatch.setenv("CAMP_MIN_FREE_DISK_MB", str(10**9))  # a petabyte: more than this disk has
    reset_caches()
    try:
        with make_client() as client:
            health = client.get("/healthz")
    finally:
        monkeypatch.undo()
        reset_caches()
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    disk = health.json()["disk"]
    assert disk["status"] == "low" and disk["free_bytes"] < disk["min_free_bytes"] == 10**9 * 1024 * 1024
