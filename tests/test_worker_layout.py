"""`camp worker` with no -Q, as the README runs it: the cheap `cpu` queue and the code `gpu` queue
each get a pool (a process) of their own, so a reply that only needs a format check is graded
while every code grader is busy; one signal stops both pools.

"Busy" is the code pool stopped with SIGSTOP: it takes no message, as when it runs a long MNIST
grading. bench/head_of_line.py measures the same with a real MNIST backlog. (A stop must not
land inside one of the pool's writes to an embedded SQLite file, its broker polls or its
heartbeat, which no busy grader holds: the file would stay locked for everyone.)
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from app.queue import enqueue_grading
from tests.support.homework import Reply, add_replies, make_course, make_users, now
from tests.support.stacks import PROJECT_ROOT, Stack, wait_for


def pools(started_after: object) -> dict[str, int] | None:
    """{queues: pid} of the workers that beat since the test began, once both pools are up."""
    from app.db import session_scope
    from app.models import WorkerHeartbeat

    with session_scope() as session:
        rows = session.execute(select(WorkerHeartbeat.queues, WorkerHeartbeat.pid)
                               .where(WorkerHeartbeat.started_at >= started_after,
                                      WorkerHeartbeat.stopped_at.is_(None))).all()
    found = dict(rows)
    return found if {"cpu", "gpu"} <= found.keys() or "cpu,gpu" in found else None


@contextmanager
def worker(stack: Stack, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    log = open(stack.data_dir / f"layout-{len(args)}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "worker", *args], cwd=PROJECT_ROOT,
                            env=stack.subprocess_env(), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the pools stop with it (checked below)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def status(submission_id: int) -> str:
    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        return session.scalar(select(Submission.status).where(Submission.id == submission_id)) or ""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def _free_to_write(path: str) -> bool:
    """Whether a write transaction can begin on this SQLite file now (no process holds its lock)."""
    conn = sqlite3.connect(path, timeout=1)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.rollback()
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def stop_between_writes(pid: int, stack: Stack) -> None:
    """SIGSTOP `pid`, at a moment it holds no write lock on the embedded stack's SQLite files."""
    from app.config import get_settings

    settings = get_settings()
    files = [url.split(":///", 1)[1] for url in (settings.effective_database_url, settings.effective_broker_url)
             if url.startswith(("sqlite:///", "sqla+sqlite:///"))]
    for _ in range(50):
        os.kill(pid, signal.SIGSTOP)
        if all(_free_to_write(path) for path in files):
            return
        os.kill(pid, signal.SIGCONT)  # stopped inside a write: let it finish, then stop it again
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never let go of the SQLite write lock")


@pytest.mark.slow  # starts worker processes of its own
def test_default_worker_runs_a_pool_per_queue_and_cheap_replies_pass_a_stuck_code_pool(
    stack: Stack,
) -> None:
    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}})
    (student,) = make_users(1)
    began = now()
    with worker(stack) as proc:
        found = wait_for(lambda: pools(began), timeout=90)
        assert isinstance(found, dict) and found.keys() == {"cpu", "gpu"}  # two pools, not one
        stop_between_writes(found["gpu"], stack)  # every code grader busy
        try:
            (reply,) = add_replies(slug, "1", [Reply(student, status="queued", verdict=None, score=None)])
            enqueue_grading(reply, "cpu")
            wait_for(lambda: status(reply) == "scored", timeout=90)
        finally:
            os.kill(found["gpu"], signal.SIGCONT)
    assert proc.returncode == 0
    for pid in found.values():
        wait_for(lambda pid=pid: not alive(pid), timeout=30)
