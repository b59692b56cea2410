"""The worker's warm sandboxes: a pool in each process that grades code, from settings.

Each grading process of a worker that serves a queue of code-grading kinds (`grader.catalog`)
starts its pool when Celery starts the process (`worker_process_init`: prefork children, and the
solo pool's own process) and destroys it when the process ends. Runs with the worker's limits
take a warm sandbox; anything else, and an empty pool, starts cold. See docs/grading.md.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import signals

from app.config import get_settings
from grader.catalog import KINDS
from grader.sandbox import warm
from worker import grading, identity

log = logging.getLogger(__name__)


def settings() -> warm.WarmSettings:
    s = get_settings()
    imports = tuple(name.strip() for name in s.warm_pool_imports.split(",") if name.strip())
    return warm.WarmSettings(size=s.warm_pool_size, imports=imports,
                             memory_bytes=s.warm_pool_memory_mb * 1024 * 1024,
                             warmup_seconds=max(60.0, s.grading_wall_seconds),
                             wait_seconds=s.warm_pool_wait_seconds)


def grades_code(queues: str | None) -> bool:
    """Whether a worker consuming `queues` (comma-separated; None: unknown) runs student code."""
    code_queues = {kind.queue for kind in KINDS.values() if kind.grades_code}
    return queues is None or bool(code_queues & set(queues.split(",")))


def start() -> warm.WarmPool | None:
    """Start this process's pool (once; a no-op where the worker grades no code)."""
    me = identity.current()
    if not grades_code(me.queues if me is not None else None):
        return None
    try:
        return warm.start(settings(), grading.limits(), grading.sandbox_config())
    except Exception:  # a pool is an optimisation: without it every run starts cold
        log.exception("warm pool: not started")
        return None


def stop() -> None:
    warm.stop()


@signals.worker_process_init.connect
def _start(**_: Any) -> None:
    start()


@signals.worker_process_shutdown.connect
@signals.worker_shutdown.connect
def _stop(**_: Any) -> None:
    stop()
