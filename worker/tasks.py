"""Celery tasks. Thin: they carry ids, open a unit of work, and call `worker.grading` / `worker.sweep`."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError

import grader
from app.config import get_settings
from app.db import session_scope
from app.models import utcnow
from app.queue import GRADE_TASK, REQUEUE_TASK, enqueue_grading
from worker import grading
from worker.celery_app import celery_app
from worker.sweep import sweep

log = logging.getLogger(__name__)

RETRY_DELAY_SECONDS = 5
#: how long a finished grading keeps trying to store its result while the database is away
STORE_PATIENCE_SECONDS = 30.0

T = TypeVar("T")
_settings = get_settings()  # read once: the time limits are fixed when the worker starts


@celery_app.task(name=GRADE_TASK, acks_late=True, soft_time_limit=_settings.soft_time_limit,
                 time_limit=_settings.time_limit)
def grade_submission(submission_id: int) -> str:
    """Grade the next submission in the fair order of `submission_id`'s queue (often itself)."""
    with session_scope() as session:
        claimed = grading.claim_next(session, submission_id)
    if claimed is None:
        return "skipped"  # nothing claimable now: graded already, or its student has one in flight
    if claimed.submission_id != submission_id:
        _keep_token(submission_id, claimed.queue)
    try:
        try:
            report = grading.run(claimed)
        except (grader.InfrastructureError, KeyError, SoftTimeLimitExceeded) as exc:
            _infrastructure_failure(claimed, exc)
            return "infrastructure_error"
        stored = _store(lambda session: grading.store_verdict(session, claimed, report))
        return "scored" if stored else "lost_claim"
    finally:
        _wake_next(claimed)


def _keep_token(hint_id: int, queue: str) -> None:
    """Another submission went first: the hint, if still waiting, keeps a message in the queue
    (every waiting submission that had one keeps one until it is graded)."""
    try:
        with session_scope() as session:
            still = grading.is_waiting(session, hint_id)
        if still:
            enqueue_grading(hint_id, queue)
    except Exception:  # the sweep sends it later
        log.exception("could not send submission %s again", hint_id)


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
    if again:
        try:
            celery_app.send_task(GRADE_TASK, args=[claimed.submission_id], queue=claimed.queue,
                                 countdown=RETRY_DELAY_SECONDS)
        except Exception:  # the row is `queued`: the sweep sends it later
            log.exception("could not send submission %s again", claimed.submission_id)


def _store(step: Callable[..., T]) -> T:
    """Run one storing transaction, waiting out a short database outage (the grading is done)."""
    deadline = time.monotonic() + STORE_PATIENCE_SECONDS
    delay = 0.5
    while True:
        try:
            with session_scope() as session:
                return step(session)
        except OperationalError:
            if time.monotonic() + delay > deadline:
                raise  # the lease runs out and the sweep has the submission graded again
            log.warning("database unavailable while storing a result; retrying in %.1f s", delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


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
    """The sweep (docs/pipeline.md): resend what is stuck, give up on what used every try."""
    with session_scope() as session:
        swept = sweep(session, utcnow())
    for submission_id, queue in swept.resend:
        enqueue_grading(submission_id, queue)
    if swept.resend or swept.failed:
        log.info("sweep: %d sent again, %d abandoned claims, %d failed for good",
                 len(swept.resend), swept.abandoned, swept.failed)
    return len(swept.resend)
