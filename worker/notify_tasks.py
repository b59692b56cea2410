"""Celery tasks for notifications: one item's mail, the daily digests. Thin: ids in, the jobs in
`app.notify_jobs` do the work (each claims before it sends, so a retry never mails twice)."""

from __future__ import annotations

from app import notify_jobs
from app.queue import DIGEST_TASK, MAIL_QUEUE, MAIL_TASK
from worker.celery_app import celery_app

#: seconds before a failed send is tried again (the SMTP server may be restarting)
MAIL_RETRY_SECONDS = 60


@celery_app.task(name=MAIL_TASK, soft_time_limit=60, time_limit=90)
def send_notification_mail(notification_id: int) -> str:
    again = notify_jobs.send_item_mail(notification_id)
    if again:  # back to `pending`: this same task again, later
        celery_app.send_task(MAIL_TASK, args=[notification_id], queue=MAIL_QUEUE,
                             countdown=MAIL_RETRY_SECONDS)
        return "retry"
    return "done"


@celery_app.task(name=DIGEST_TASK, soft_time_limit=600, time_limit=660)
def send_digests() -> int:
    return notify_jobs.send_digests()
