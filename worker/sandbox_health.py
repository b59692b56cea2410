"""The worker's sandbox as its heartbeat reports it: cgroups or not, and whether it refuses work.

At start-up the main process checks which cgroups its sandboxes get and says so in the log
(loudly when there are none) and in its heartbeat row (`worker_heartbeats.sandbox`), which
/healthz and /metrics read. A pool process whose sandbox set-up failed `REFUSE_AFTER` times in
a row (grader.sandbox.health) stops taking work: it writes why into the row, asks the broker to
stop sending this worker messages, and leaves what it still receives queued for other workers
(the sweep sends it again). Restart the worker once the host is fixed.
"""

from __future__ import annotations

import logging

from sqlalchemy import update

from app.db import session_scope
from app.models import WorkerHeartbeat
from grader.sandbox import configure, health
from grader.sandbox.isolation import SandboxSetupError, cgroup_support
from worker import identity
from worker.grading import sandbox_config

log = logging.getLogger(__name__)
_announced = False


def check_at_startup() -> str:
    """Configure the sandbox from settings and find out which cgroups runs get."""
    configure(sandbox_config())
    try:
        cgroup_support(sandbox_config())
    except SandboxSetupError as exc:
        health.record_failure(str(exc))
        log.error("%s", exc)
    line = health.current().summary()
    log.warning("sandbox: %s", line) if not line.startswith("ok") else log.info("sandbox: %s", line)
    return line


def line() -> str:
    return health.current().summary()


def refusing() -> bool:
    return health.current().refusing


def announce_refusal() -> None:
    """Say in the heartbeat row why this worker refuses work, and stop consuming (once)."""
    global _announced
    me = identity.current()
    log.error("sandbox: %s", line())
    if _announced or me is None:
        return
    _announced = True
    try:
        with session_scope() as session:
            session.execute(update(WorkerHeartbeat)
                            .where(WorkerHeartbeat.hostname == me.hostname, WorkerHeartbeat.pid == me.pid)
                            .values(sandbox=line()))
    except Exception:  # the database may be away: the log says it, the next try writes it
        _announced = False
        log.exception("could not record the sandbox refusal")
    try:
        from worker.celery_app import celery_app

        for queue in filter(None, me.queues.split(",")):
            celery_app.control.cancel_consumer(queue, destination=[me.hostname])
    except Exception:  # some brokers (the embedded one) have no broadcast: messages are left queued
        log.warning("could not cancel this worker's consumers; it keeps refusing what it receives")
