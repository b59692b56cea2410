"""The Celery application that workers run (`camp worker`). Same broker settings as the web app.

Grading runs with late acks (a message is acknowledged only after its result is stored), one
message prefetched per process, and soft and hard time limits from settings. The sweep runs in
a process of its own (`camp sweeper`, worker/sweeper.py), never behind gradings in a queue.
See docs/pipeline.md.
"""

from __future__ import annotations

from celery import Celery
from celery.signals import worker_process_init
from kombu import Exchange, Queue

from app.config import get_settings
from app.db import use_pre_ping
from app.queue import QUEUES, celery_config


def configuration() -> dict[str, object]:
    """The worker's Celery settings, read from Camp's settings when Celery first needs them (at
    start-up), not when this module is imported."""
    settings = get_settings()
    return {
        **celery_config(settings),
        # each queue its own exchange and key (a bare Queue(name) is bound to the default exchange
        # and key, `cpu`, so a message the worker sends to `gpu` would reach both queues)
        "task_queues": [Queue(name, Exchange(name), routing_key=name) for name in QUEUES],
        "worker_hijack_root_logger": False,
        "task_soft_time_limit": settings.soft_time_limit,
        "task_time_limit": settings.time_limit,
    }


celery_app = Celery("camp")
celery_app.add_defaults(configuration)
celery_app.autodiscover_tasks(["worker"], related_name="tasks", force=True)

# connect to the worker's signals: heartbeats, and each grading process's warm sandboxes
import worker.heartbeat  # noqa: E402
import worker.warm_pool  # noqa: E402, F401


@worker_process_init.connect
def _grading_process(**_kwargs: object) -> None:
    """Each pool process: no ping before each transaction (app/db.py: they are retried instead)."""
    use_pre_ping(False)
