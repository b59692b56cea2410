"""The Celery application that workers run (`camp worker`). Same broker settings as the web app."""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from app.config import get_settings
from app.queue import QUEUES, REQUEUE_TASK, celery_config

REQUEUE_EVERY_SECONDS = 30.0

celery_app = Celery("camp")
celery_app.conf.update(celery_config(get_settings()))
celery_app.conf.update(
    task_queues=[Queue(name) for name in QUEUES],
    worker_hijack_root_logger=False,
    beat_schedule={
        "requeue-stale": {
            "task": REQUEUE_TASK,
            "schedule": REQUEUE_EVERY_SECONDS,
            "options": {"queue": "cpu"},
        },
    },
)
celery_app.autodiscover_tasks(["worker"], related_name="tasks", force=True)
