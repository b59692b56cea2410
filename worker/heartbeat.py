"""Worker heartbeats: a thread in each worker's main process writes a `worker_heartbeats` row
every `worker_heartbeat_seconds` (node name, pid, queues, the submissions it grades).

The sweep, the staff JSON and /metrics read these rows: a worker whose row is not refreshed is
gone, even when it could not say so (kill -9, a lost machine), and the sweep frees its claims;
a claim missing from a fresh row's `grading` (worker/inflight.py: what its live processes hold,
plus results kept on disk) lost its pool process. The thread uses its own
engine and gives its connection back after every beat, so pool processes forked later inherit
no open socket.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from typing import Any

from celery import signals
from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import make_engine
from app.models import WorkerHeartbeat, utcnow
from worker import identity, inflight, sandbox_health, spool
from worker.identity import Identity

log = logging.getLogger(__name__)

#: rows of workers not seen for this long are deleted
FORGET_AFTER = timedelta(days=1)


class Heartbeat(threading.Thread):
    def __init__(self, identity: Identity, interval: float, engine: Engine) -> None:
        super().__init__(name="camp-heartbeat", daemon=True)
        self.identity, self.interval, self.engine = identity, interval, engine
        self.stopping = threading.Event()

    def run(self) -> None:
        self.beat()
        while not self.stopping.wait(self.interval):
            self.beat()

    def stop(self) -> None:
        self.stopping.set()
        self.beat(stopped=True)

    def beat(self, stopped: bool = False) -> None:
        try:
            with Session(self.engine) as session, session.begin():
                grading = inflight.held(self.identity) + spool.held_by(self.identity)
                write(session, self.identity, grading, stopped)
            spool.flush(self.engine)  # results kept while the database was away
        except SQLAlchemyError as exc:  # the database may be away for a while; try next time
            log.warning("heartbeat not written: %s", type(exc).__name__)
        finally:
            self.engine.dispose()


def write(session: Session, who: Identity, grading: list[int], stopped: bool = False) -> None:
    """Refresh this worker's row (created on the first beat) and forget long-gone workers."""
    now = utcnow()
    values: dict[str, Any] = {"seen_at": now, "active": len(grading), "stopped_at": now if stopped else None,
                              "grading": ",".join(str(i) for i in sorted(set(grading)))}
    found = session.execute(
        update(WorkerHeartbeat)
        .where(WorkerHeartbeat.hostname == who.hostname, WorkerHeartbeat.pid == who.pid)
        .values(**values)
        .returning(WorkerHeartbeat.id)
    ).scalar_one_or_none()
    if found is None:
        try:
            with session.begin_nested():
                session.add(WorkerHeartbeat(hostname=who.hostname, pid=who.pid, queues=who.queues,
                                            concurrency=who.concurrency, started_at=now,
                                            sandbox=sandbox_health.line(), **values))
        except IntegrityError:
            pass  # written by a beat racing this one
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < now - FORGET_AFTER))


_thread: Heartbeat | None = None


@signals.celeryd_after_setup.connect
def _remember(sender: str, instance: Any, **_: Any) -> None:
    queues = ",".join(sorted(instance.app.amqp.queues.consume_from or ()))
    identity.remember(Identity(str(sender), os.getpid(), queues, int(instance.concurrency or 1)))


@signals.worker_ready.connect
def _start(**_: Any) -> None:
    global _thread
    me = identity.current()
    if me is None:
        return
    sandbox_health.check_at_startup()  # before the first beat: the row says how runs are isolated
    settings = get_settings()
    _thread = Heartbeat(me, settings.worker_heartbeat_seconds,
                        make_engine(settings.effective_database_url))
    _thread.start()


@signals.worker_shutdown.connect
def _stop(**_: Any) -> None:
    if _thread is not None:
        _thread.stop()
