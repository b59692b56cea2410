"""`camp sweeper`: the sweep (worker/sweep.py) in a process of its own, every
`sweep_interval_seconds`, so that no grading backlog, busy worker or killed worker delays it.

Safe to run more than once: on PostgreSQL each sweep takes its rows with `FOR UPDATE SKIP
LOCKED` and moves their `resend_at`, so a second sweeper finds nothing to do with them; on
SQLite (one machine by nature) sweeps take an exclusive file lock in the data directory.

After the database was unreachable (or when the sweeper starts), claims are not freed for
`worker_heartbeat_misses` beats: live workers first get the chance to beat again and to store
the results they kept while the database was away.
"""

from __future__ import annotations

import fcntl
import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from app import notify_jobs, storage
from app.config import get_settings
from app.db import session_scope
from app.live import announce
from app.mail import mail_configured
from app.models import Attachment, IdempotencyKey, utcnow
from app.queue import DIGEST_TASK, MAIL_QUEUE, client, enqueue_grading, enqueue_mail
from app.services.notify_mail import local_hour
from worker.sweep import Swept, sweep

log = logging.getLogger("camp.sweeper")

#: idempotency keys are kept this long (a client retries within minutes, not days)
KEEP_IDEMPOTENCY_KEYS = timedelta(days=2)
#: how often lost notification mails are looked for, and the hourly chores (digests, old claims)
MAIL_CHECK_SECONDS = 60.0
HOURLY_SECONDS = 3600.0


class Sweeper:
    def __init__(self) -> None:
        self.settings = get_settings()
        self.settle = self.settings.worker_heartbeat_seconds * self.settings.worker_heartbeat_misses
        #: since when the database has answered without a break (monotonic clock)
        self.reachable_since = time.monotonic()
        self.next_mail_check = 0.0
        self.next_hourly = 0.0

    def once(self) -> Swept | None:
        """One sweep; None when the database could not be reached."""
        free_claims = time.monotonic() - self.reachable_since >= self.settle
        uploads = storage.stale_pending(self.settings.orphan_upload_grace_seconds)
        try:
            with self._exclusive(), session_scope() as session:
                now = utcnow()
                swept = sweep(session, now, free_claims=free_claims)
                old_keys = IdempotencyKey.created_at < now - KEEP_IDEMPOTENCY_KEYS
                session.execute(delete(IdempotencyKey).where(old_keys))
                committed = set(session.scalars(
                    select(Attachment.sha256).where(Attachment.sha256.in_(set(uploads.values())))
                )) if uploads else set()
        except SQLAlchemyError as exc:
            log.warning("sweep skipped, database unavailable: %s", type(exc).__name__)
            self.reachable_since = time.monotonic()
            return None
        if uploads:
            log.info("sweep: %d orphan uploads deleted", storage.settle(uploads, committed))
        for submission_id, queue in swept.resend:
            enqueue_grading(submission_id, queue)
        announce(i for i, _queue in swept.resend)
        if swept.resend or swept.failed:
            log.info("sweep: %d sent again %s, %d abandoned claims, %d failed for good", len(swept.resend),
                     sorted(i for i, _q in swept.resend), swept.abandoned, swept.failed)
        return swept

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """SQLite has no SKIP LOCKED: sweepers on its (local) database take turns by a file lock."""
        if not self.settings.effective_database_url.startswith("sqlite"):
            yield
            return
        with open(self.settings.data_dir / "sweeper.lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def notification_chores(self) -> None:
        """Mails whose task was lost are sent again (every minute); once an hour old prize claims
        are erased and, from `digest_hour` on, the day's digests are handed to a worker (the
        digest is one per user and day however often this runs; SMTP never blocks the sweep)."""
        now = time.monotonic()
        if now < self.next_mail_check:
            return
        self.next_mail_check = now + MAIL_CHECK_SECONDS
        if mail_configured(self.settings):
            for notification_id in notify_jobs.resend_stale_mail():
                enqueue_mail(notification_id)
        if now < self.next_hourly:
            return
        self.next_hourly = now + HOURLY_SECONDS
        erased = notify_jobs.erase_expired_claims()
        if erased:
            log.info("sweep: delivery details of %d prize claims erased (retention period over)", erased)
        if mail_configured(self.settings) and local_hour(self.settings) >= self.settings.digest_hour:
            client().send_task(DIGEST_TASK, queue=MAIL_QUEUE)

    def run(self, stop: threading.Event) -> None:
        log.info("sweeper started: every %g s", self.settings.sweep_interval_seconds)
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.once()
            except Exception:  # a sweep must never end the sweeper
                log.exception("sweep failed")
            try:
                self.notification_chores()
            except Exception:
                log.exception("notification chores failed")
            stop.wait(max(0.0, self.settings.sweep_interval_seconds - (time.monotonic() - started)))
        log.info("sweeper stopped")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s: %(levelname)s/%(name)s] %(message)s")
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    Sweeper().run(stop)


if __name__ == "__main__":
    main()
