"""Celery tasks. Thin: they carry ids, open a unit of work, and call `worker.grading` / `worker.sweep`.

A database that is away never makes a task drop its message (docs/pipeline.md): the claim is
retried with back-off for `claim_patience_seconds`, then the message is rejected back to the
queue; a finished result is retried while the task's time limit allows, then kept on disk
(worker/spool.py) until the worker's heartbeat thread can store it.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from celery.exceptions import Reject, SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import grader
from app.config import get_settings
from app.db import session_scope
from app.live import announce
from app.models import utcnow
from app.queue import GRADE_TASK, REQUEUE_TASK, enqueue_grading
from worker import grading, inflight, notify_tasks, sandbox_health, spool  # noqa: F401 (registers its tasks)
from worker.celery_app import celery_app
from worker.sweep import sweep

log = logging.getLogger(__name__)

#: what a finished grading leaves of its soft time limit for the rest (spooling the result)
TIME_LIMIT_MARGIN_SECONDS = 10.0
INFRASTRUCTURE_STORE_PATIENCE_SECONDS = 20.0

T = TypeVar("T")


class Unavailable(Exception):
    """The database stayed away for the whole patience."""


# The soft and hard time limits are the app's (task_soft_time_limit, task_time_limit), set from
# the settings when the worker starts (worker/celery_app.py).
@celery_app.task(name=GRADE_TASK, acks_late=True)
def grade_submission(submission_id: int) -> str:
    """Grade the next submission in the fair order of `submission_id`'s queue (often itself)."""
    started = time.monotonic()
    settings = get_settings()
    if sandbox_health.refusing():  # the host's sandbox is broken: leave the work to other workers
        sandbox_health.announce_refusal()
        return "refused"

    def take(session: Session) -> tuple[grading.Claim | None, bool]:
        claimed = grading.claim_next(session, submission_id)
        # another submission went first: the hint, if still waiting, keeps a message in the queue
        # (asked in the claim's transaction: the queue's lock keeps other claims out until it ends)
        again = (claimed is not None and claimed.submission_id != submission_id
                 and grading.is_waiting(session, submission_id))
        return claimed, again

    try:
        claimed, send_hint_again = _retrying(take, settings.claim_patience_seconds)
    except Unavailable:
        # not acknowledged and forgotten: back to the queue, for a worker that can reach the database
        raise Reject("database unavailable while claiming", requeue=True) from None
    if claimed is None:
        return "skipped"  # nothing claimable now: graded already, or its student has one in flight
    # committed: its live panel shows "running", and the places of those waiting behind it move
    announce([claimed.submission_id], [claimed.queue])
    if send_hint_again:
        enqueue_grading(submission_id, claimed.queue)
    woken: list[int | None] = []  # the student's next waiting submission, found with the verdict
    try:
        with inflight.holding(claimed.submission_id):  # the heartbeat reports it while we grade
            return _grade(claimed, started, woken)
    finally:
        if woken:
            if woken[0] is not None:
                enqueue_grading(woken[0], claimed.queue)
        else:
            _wake_next(claimed)


def _grade(claimed: grading.Claim, started: float, woken: list[int | None]) -> str:
    """Run the grader, then store the verdict; a verdict the database cannot take yet is kept.
    The student's next waiting submission (to send once this one is done) is looked up in the
    verdict's transaction and put in `woken`."""
    try:
        report = grading.run(claimed)
    except (grader.InfrastructureError, KeyError, SoftTimeLimitExceeded) as exc:
        _infrastructure_failure(claimed, exc)
        if sandbox_health.refusing():
            sandbox_health.announce_refusal()
        return "infrastructure_error"
    settings = get_settings()
    budget = settings.soft_time_limit - (time.monotonic() - started) - TIME_LIMIT_MARGIN_SECONDS
    def store(session: Session) -> bool:
        done = grading.store_verdict(session, claimed, report)
        woken[:] = [grading.next_of_student(session, claimed)]
        return done

    try:
        stored = _retrying(store, min(settings.store_patience_seconds, max(0.0, budget)))
    except Unavailable:
        woken.clear()  # not stored: the wake-up is looked up on its own
        spool.keep(claimed, report)
        log.warning("database unavailable: the result of submission %s is kept until it can be stored",
                    claimed.submission_id)
        return "kept"
    if stored:
        announce([claimed.submission_id])
    return "scored" if stored else "lost_claim"


def _wake_next(claimed: grading.Claim) -> None:
    """The student's grading ended: their next waiting one (skipped while this ran) may go now."""
    try:
        with session_scope() as session:
            waiting = grading.next_of_student(session, claimed)
        if waiting is not None:
            enqueue_grading(waiting, claimed.queue)
    except Exception:  # the sweep sends it later
        log.exception("could not wake the next grading of submission %s's author", claimed.submission_id)


def _infrastructure_failure(claimed: grading.Claim, exc: BaseException) -> None:
    if isinstance(exc, SoftTimeLimitExceeded):
        _kill_children()
        exc = grader.InfrastructureError(f"soft time limit ({get_settings().soft_time_limit:g} s) exceeded")
    # A homework configured wrongly (or naming an unknown task) fails the same way every time.
    retry = not isinstance(exc, grader.ConfigError | KeyError)
    error = f"{type(exc).__name__}: {exc}"
    log.warning("infrastructure failure grading %s: %s", claimed.submission_id, error)
    again = _store(lambda session: grading.store_infrastructure_failure(session, claimed, error, retry=retry))
    announce([claimed.submission_id])
    if again:
        try:
            celery_app.send_task(GRADE_TASK, args=[claimed.submission_id], queue=claimed.queue,
                                 countdown=grading.retry_delay(claimed.try_number))
        except Exception:  # the row is `queued`: the sweep sends it later
            log.exception("could not send submission %s again", claimed.submission_id)


def _store(step: Callable[..., bool]) -> bool:
    """Store an infrastructure failure: it has no result worth keeping, so when the database stays
    away (past the hard time limit's reach) the lease brings the submission back instead."""
    try:
        return _retrying(step, INFRASTRUCTURE_STORE_PATIENCE_SECONDS)
    except Unavailable:
        log.error("database unavailable: the infrastructure failure was not stored; the lease will expire")
        return False


def _retrying(step: Callable[..., T], patience: float) -> T:
    """Run one transaction, retrying with back-off while the database is away (OperationalError:
    refused, reset, or a connection lost mid-statement). A retried claim that had in fact
    committed finds its own claim and returns None; the sweep frees it within a few beats."""
    deadline = time.monotonic() + patience
    delay = 0.2
    while True:
        try:
            with session_scope() as session:
                return step(session)
        except OperationalError as exc:
            if time.monotonic() + delay > deadline:
                raise Unavailable(str(exc)) from exc
            log.warning("database unavailable (%s); retrying in %.1f s", type(exc.orig).__name__, delay)
            time.sleep(delay)
            # at most one beat apart: after an outage results are stored before the sweep frees claims
            delay = min(delay * 2, get_settings().worker_heartbeat_seconds)


def _kill_children() -> None:
    """After a soft time limit the sandbox may still run (it has its own session): end it."""
    pid = os.getpid()
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            try:
                os.killpg(int(child), signal.SIGKILL)  # the sandbox leads its own process group
            except (ProcessLookupError, PermissionError):
                pass


@celery_app.task(name=REQUEUE_TASK, soft_time_limit=60, time_limit=90)
def requeue_stale() -> int:
    """One sweep on demand (the sweeper process, `camp sweeper`, runs it on its own schedule)."""
    with session_scope() as session:
        swept = sweep(session, utcnow())
    for submission_id, queue in swept.resend:
        enqueue_grading(submission_id, queue)
    return len(swept.resend)
