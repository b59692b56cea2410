"""Handing submission ids to the broker, always after the row is committed.

The web app only *sends* tasks by name; it never imports the worker or the grader.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from celery import Celery

from app import embedded_broker
from app.config import Settings, get_settings
from grader import catalog

log = logging.getLogger(__name__)

GRADE_TASK = "camp.grade_submission"
REQUEUE_TASK = "camp.requeue_stale"
MAIL_TASK = "camp.send_notification_mail"
DIGEST_TASK = "camp.send_digests"
#: mail and digests go to the cheap pool's queue: never behind a long code grading
MAIL_QUEUE = "cpu"
QUEUES = catalog.QUEUES


def celery_config(settings: Settings) -> dict[str, Any]:
    """Shared by the sending side (web) and the worker, so both speak to the same broker."""
    transport_options: dict[str, Any] = {}
    if settings.effective_broker_url.startswith(("redis://", "rediss://")):
        visibility = settings.broker_visibility_timeout_seconds
        # Longer than the longest grading, or Redis hands the unacked message to another worker
        # (harmless: that delivery cannot claim the submission, but it is wasted work).
        transport_options["visibility_timeout"] = visibility
        # Look for abandoned messages a few times per visibility timeout (kombu: every 100 s).
        transport_options["unacked_restore_interval"] = max(1, min(60, visibility // 4))
        transport_options["unacked_restore_throttle"] = 1
        # A broker that vanishes without closing the socket must not hang a request.
        transport_options["socket_timeout"] = 10
        transport_options["socket_connect_timeout"] = 5
        if settings.broker_key_prefix:
            transport_options["global_keyprefix"] = settings.broker_key_prefix
    broker_url, transport = settings.effective_broker_url, None
    if not settings.broker_url:  # the embedded broker: a SQLite file in the data directory
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # kombu's SQLAlchemy transport polls once a second by default; Camp's copy of it takes
        # the interval as a transport option (app/embedded_broker.py)
        broker_url, transport = broker_url.removeprefix("sqla+"), embedded_broker.TRANSPORT
        transport_options["polling_interval"] = settings.embedded_poll_seconds
    return {
        "broker_url": broker_url,
        "broker_transport": transport,
        "task_ignore_result": True,
        "task_default_queue": "cpu",
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # Workers wait out a broker outage however long it lasts; the database keeps the work.
        "broker_connection_max_retries": None,
        # On a lost broker connection let running gradings finish: their late acks may fail and
        # the message come back, but a redelivery cannot claim work that is running or done.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        # A request that commits a reply must not wait long for a broker that is down: the row
        # stays `queued` and the sweep sends it later.
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                                      "interval_max": 0.5},
        "broker_transport_options": transport_options,
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
    }


@lru_cache
def client() -> Celery:
    celery = Celery("camp-web")
    celery.conf.update(celery_config(get_settings()))
    return celery


def enqueue_grading(submission_id: int, queue: str) -> None:
    """Send the id; if the broker is down the row stays `queued` and the sweep sends it later."""
    try:
        client().send_task(GRADE_TASK, args=[submission_id], queue=queue)
    except Exception:  # the database row is the truth; losing this message loses nothing
        log.exception("could not enqueue submission %s; the sweep will retry", submission_id)


def enqueue_mail(notification_id: int) -> None:
    """Send a notification's mail off the request path; if the broker is down the item stays
    `pending` and the sweeper sends it later (worker/sweeper.py)."""
    try:
        client().send_task(MAIL_TASK, args=[notification_id], queue=MAIL_QUEUE)
    except Exception:
        log.exception("could not enqueue the mail of notification %s; the sweep will retry", notification_id)
