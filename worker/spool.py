"""Finished results the database could not take in time, kept on the worker's disk until stored.

A grading that is done has cost real work: when the database is away the task first retries
storing while its time limit allows, then leaves the result here (`data_dir/spool/`) and ends.
The worker's heartbeat thread (its main process, no time limit) stores spooled results as soon
as the database answers again, and lists them among the submissions it is grading, so the
sweep does not free their claims meanwhile. Storing is the same conditional UPDATE as in the
task, so a result whose claim was lost writes nothing. After `store_patience_seconds` a result
that still could not be stored is dropped (its lease brings the submission back).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import grader
from app.config import get_settings
from app.live import announce
from worker import grading, identity
from worker.identity import Identity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Held:
    """A spooled result's claim (grading.ClaimRef): which submission, which attempt."""

    submission_id: int
    attempt: int


def spool_dir() -> Path:
    return get_settings().data_dir / "spool"


def _prefix(who: Identity) -> str:
    return f"{who.hostname.replace('/', '_')}-{who.pid}-"


def keep(claimed: grading.ClaimRef, report: grader.Report) -> Path:
    """Write the result atomically under this worker's name."""
    who = identity.current() or Identity("local", os.getpid(), "", 1)
    spool_dir().mkdir(parents=True, exist_ok=True)
    name = f"{_prefix(who)}{claimed.submission_id}-{claimed.attempt}.json"
    data = {"submission_id": claimed.submission_id, "attempt": claimed.attempt, "report": asdict(report)}
    fd, tmp = tempfile.mkstemp(dir=spool_dir(), prefix=".tmp-")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, spool_dir() / name)
    return spool_dir() / name


def held_by(who: Identity) -> list[int]:
    """Submission ids of the results this worker keeps."""
    if not spool_dir().is_dir():
        return []
    prefix = _prefix(who)
    return [int(p.name.removeprefix(prefix).split("-")[0]) for p in spool_dir().glob(f"{prefix}*.json")]


def flush(engine: Engine) -> int:
    """Store every spooled result (any worker's: storing is conditional); returns how many stored.

    Raises OperationalError while the database is still away."""
    if not spool_dir().is_dir():
        return 0
    stored = 0
    patience = get_settings().store_patience_seconds
    for path in sorted(spool_dir().glob("*.json")):
        try:
            data = json.loads(path.read_text())
            age = time.time() - path.stat().st_mtime
        except (FileNotFoundError, ValueError):
            continue
        held = Held(data["submission_id"], data["attempt"])
        try:
            with Session(engine) as session, session.begin():
                done = grading.store_verdict(session, held, grader.Report(**data["report"]))
        except OperationalError:
            if age > patience:
                log.error("dropping the kept result of submission %s: not stored in %.0f s",
                          held.submission_id, age)
                path.unlink(missing_ok=True)
                continue
            raise
        if done:
            announce([held.submission_id])
        log.info("kept result of submission %s %s", held.submission_id,
                 "stored" if done else "lost its claim")
        stored += done
        path.unlink(missing_ok=True)
    return stored
