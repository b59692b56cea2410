"""Tools for the fault tests: a stack of their own, students with tokens, a slow real grading,
process killing, a throwaway Redis server, and a look at the database without the app's caches."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import time
import zipfile
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from tests.support.homework import make_users
from tests.support.live import free_port
from tests.support.stacks import (
    DEMO_COURSE,
    PG_ADMIN_URL,
    PROJECT_ROOT,
    Stack,
    delete_prefixed,
    drop_postgres_database,
    make_postgres_stack,
    wait_for,
)

FINAL = ("scored", "failed", "rejected")
T = TypeVar("T")


def run_in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: the browser tests' sync Playwright keeps an event
    loop running in the main thread for the whole session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def slow_predict(seconds: float) -> bytes:
    """A real MNIST package whose `predict` takes `seconds`: a slow grading in the real sandbox."""
    code = (f"import time\nimport numpy as np\n\ndef predict(images):\n    time.sleep({seconds})\n"
            "    return np.zeros(len(images), dtype=np.int64)\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("predict.py", code)
    return buffer.getvalue()


@dataclass
class FaultStack:
    stack: Stack
    db_name: str

    @property
    def dsn(self) -> str:
        return self.stack.env["CAMP_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")

    def rows(self, sql: str, *params: object) -> list[tuple]:
        """Read the database directly (own connection: works while the app's engine is broken)."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def statuses(self, ids: list[int]) -> dict[int, str]:
        return dict(self.rows("SELECT id, status FROM submissions WHERE id = ANY(%s)", ids))  # type: ignore[arg-type]

    def wait_final(self, ids: list[int], timeout: float) -> dict[int, str]:
        def done() -> dict[int, str] | None:
            found = self.statuses(ids)
            return found if len(found) == len(ids) and all(s in FINAL for s in found.values()) else None

        try:
            return wait_for(done, timeout=timeout, interval=0.5)  # type: ignore[return-value]
        except AssertionError:
            pending = {i: s for i, s in self.statuses(ids).items() if s not in FINAL}
            log = self.stack.worker_log()[-6000:]
            raise AssertionError(f"not final after {timeout}s: {pending}\n{log}") from None

    def scored_attempts(self, ids: list[int]) -> dict[int, int]:
        """Per submission, how many attempts stored a verdict."""
        rows = self.rows("SELECT submission_id, count(*) FILTER (WHERE outcome = 'scored') FROM grading_attempts"
                         " WHERE submission_id = ANY(%s) GROUP BY submission_id", ids)  # type: ignore[arg-type]
        return {i: 0 for i in ids} | dict(rows)


@contextmanager
def fault_stack(base: Path, **settings: str) -> Iterator[FaultStack]:
    """A PostgreSQL + Redis stack of its own (fresh database, own key prefix) with `settings`
    (CAMP_* values) on top; every worker it started is killed with its process group at the end."""
    stack, db_name = make_postgres_stack(base)
    stack.env.update(settings)
    assert stack.camp("course", "load", str(DEMO_COURSE)).returncode == 0
    try:
        yield FaultStack(stack, db_name)
    finally:
        kill_groups(stack)
        drop_postgres_database(db_name)
        delete_prefixed(stack.env["CAMP_BROKER_KEY_PREFIX"])


def kill_groups(stack: Stack) -> None:
    """SIGKILL every worker's process group: orphaned pool children and sandboxes included."""
    for proc in stack.workers:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    stack.workers.clear()


def children(pid: int) -> list[int]:
    found = []
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(p) for p in path.read_text().split()]
        except OSError:
            pass
    return found


def start_sweeper(stack: Stack) -> subprocess.Popen[bytes]:
    """`camp sweeper` in a process group of its own, logging to `worker-N.log`; cleaned up with the
    workers."""
    import sys

    log = open(stack.data_dir / f"worker-{len(stack.workers)}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "sweeper"], cwd=PROJECT_ROOT,
                            env=stack.subprocess_env(), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    stack.workers.append(proc)
    wait_for(lambda: proc.poll() is not None or b"sweeper started" in log_of(stack, proc), timeout=60)
    assert proc.poll() is None, log_of(stack, proc)[-3000:]
    return proc


def log_of(stack: Stack, proc: subprocess.Popen[bytes]) -> bytes:
    return (stack.data_dir / f"worker-{stack.workers.index(proc)}.log").read_bytes()


def worker_ready(stack: Stack, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Until the worker process logs that it is ready (its log file grows per start)."""
    log = stack.data_dir / f"worker-{stack.workers.index(proc)}.log"
    wait_for(lambda: proc.poll() is not None or b" ready." in log.read_bytes(), timeout=timeout)
    assert proc.poll() is None, log.read_text(errors="replace")[-3000:]


class RedisServer:
    """A throwaway `redis-server` on a free loopback port, no persistence: a restart is a flush."""

    def __init__(self, base: Path) -> None:
        self.port = free_port()
        self.base = base
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.base / f"redis-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.base)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        import redis

        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), timeout=20)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def client(self) -> object:
        import redis

        return redis.Redis.from_url(self.url)


def _pings(client: object) -> bool:
    try:
        return bool(client.ping())  # type: ignore[attr-defined]
    except Exception:
        return False


def elapsed(started: float) -> float:
    return round(time.monotonic() - started, 1)


class WebServer:
    """`camp serve` (uvicorn, no worker) on a fixed loopback port, to kill and start again."""

    def __init__(self, stack: Stack) -> None:
        self.stack, self.port = stack, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import sys
        import urllib.request

        log = open(self.stack.data_dir / f"web-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(self.port)],
            cwd=PROJECT_ROOT, env=self.stack.subprocess_env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def up() -> bool:
            assert self.proc is not None and self.proc.poll() is None, "the web server exited"
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_for(up, timeout=60, interval=0.1)

    def stop(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)


def student_tokens(n: int) -> list[dict[str, str]]:
    """`n` students with API tokens, in the active stack (direct inserts, no password hashing)."""
    from app.db import session_scope
    from app.models import User
    from app.services.accounts import create_token

    ids = make_users(n)
    with session_scope() as session:
        return [{"Authorization": f"Bearer {create_token(session, session.get(User, uid), 'faults')}"}
                for uid in ids]


def set_reachable(db_name: str, reachable: bool) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{db_name}" ALLOW_CONNECTIONS {str(reachable).lower()}')
        if not reachable:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                         " AND pid <> pg_backend_pid()", (db_name,))
