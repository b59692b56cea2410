"""The two ways Camp runs, as test fixtures: embedded (SQLite + SQLite broker) and production
(PostgreSQL + Redis). Each stack has its own fresh database, a real `celery worker` process
started on demand, and helpers to point the in-process app at it.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

from tests.support import sandbox

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("CAMP_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("CAMP_TEST_REDIS", "redis://127.0.0.1:6379/14")
DEMO_COURSE = PROJECT_ROOT / "courses" / "dl-bootcamp.yaml"


def new_key_prefix() -> str:
    """A key prefix of its own for each test broker, so concurrent test runs never meet."""
    return f"camp-test-{uuid.uuid4().hex[:8]}:"


def delete_prefixed(prefix: str, url: str = REDIS_TEST_URL) -> None:
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


def reset_caches() -> None:
    """Forget every cached settings object, engine and broker client (the env changed)."""
    from app import db, live, queue
    from app.config import get_settings

    live.reset()
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db.get_sessionmaker.cache_clear()
    queue.client.cache_clear()


@dataclass
class Stack:
    name: str
    env: dict[str, str]
    data_dir: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def is_active(self) -> bool:
        """Whether this process is pointed at the stack already (its CAMP_* environment)."""
        current = {k: v for k, v in os.environ.items() if k.startswith("CAMP_")}
        return current == self.env

    @contextmanager
    def active(self) -> Iterator[None]:
        """Point this process (settings, engine, broker client) at the stack."""
        saved = {k: v for k, v in os.environ.items() if k.startswith("CAMP_")}
        for key in saved:
            del os.environ[key]
        os.environ.update(self.env)
        reset_caches()
        try:
            yield
        finally:
            from app.db import get_engine

            get_engine().dispose()
            for key in list(os.environ):
                if key.startswith("CAMP_"):
                    del os.environ[key]
            os.environ.update(saved)
            reset_caches()

    def subprocess_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMP_")}
        env.update(self.env)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def camp(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`camp ARGS`, run in this process pointed at the stack: the same click command the
        console script runs, without an interpreter start (seconds each) per call. An exception
        the command does not handle is exit status 1 with its traceback on stderr, as in a process."""
        from click.testing import CliRunner

        from app.cli import main

        with nullcontext() if self.is_active() else self.active():
            result = CliRunner().invoke(main, list(args), input=stdin, prog_name="camp")
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(result.exception))
        return subprocess.CompletedProcess(["camp", *args], result.exit_code, result.stdout, stderr)

    def camp_process(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`camp ARGS` in an interpreter of its own (`python -m app.cli`), as a shell runs it."""
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=PROJECT_ROOT,
            env=self.subprocess_env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start_worker(self, *extra: str) -> subprocess.Popen[bytes]:
        log = open(self.data_dir / f"worker-{len(self.workers)}.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "-Q", "cpu,gpu", *extra],
            cwd=PROJECT_ROOT,
            env=self.subprocess_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers.append(proc)
        return proc

    def stop_workers(self, graceful: bool = True) -> None:
        """SIGTERM (Celery's warm shutdown: seconds), or SIGKILL when the stack is thrown away."""
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM if graceful else signal.SIGKILL)
        for proc in self.workers:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.workers.clear()

    def worker_log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.data_dir.glob("worker-*.log")))


def migrate(stack: Stack) -> None:
    result = stack.camp("db", "upgrade")
    assert result.returncode == 0, result.stderr


#: every test client registers and logs in from one address; the limits' own tests lower them again.
#: Password hashes are real argon2id at a few milliseconds' cost instead of a tenth of a
#: second's: the suite hashes and verifies thousands of passwords (production keeps the defaults).
TEST_LIMITS = {"CAMP_REGISTRATIONS_PER_ADDRESS_PER_HOUR": "100000", "CAMP_LOGIN_ADDRESS_LOCK_FAILURES": "100000",
               "CAMP_PASSWORD_HASH_ITERATIONS": "1", "CAMP_PASSWORD_HASH_MEMORY_KIB": "256"}


def make_sqlite_stack(base: Path) -> Stack:
    data_dir = base / "embedded"
    data_dir.mkdir(parents=True)
    stack = Stack("sqlite", {"CAMP_DATA_DIR": str(data_dir), **sandbox.env(), **TEST_LIMITS}, data_dir)
    migrate(stack)
    return stack


def make_postgres_stack(base: Path) -> tuple[Stack, str]:
    db_name = f"camp_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    data_dir = base / "production"
    data_dir.mkdir(parents=True)
    host = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    env = {
        "CAMP_DATA_DIR": str(data_dir),
        "CAMP_DATABASE_URL": f"{host}/{db_name}",
        "CAMP_BROKER_URL": REDIS_TEST_URL,
        "CAMP_BROKER_KEY_PREFIX": new_key_prefix(),
        "CAMP_SECRET_KEY": secrets.token_urlsafe(48),
        **sandbox.env(), **TEST_LIMITS,
    }
    stack = Stack("postgres", env, data_dir)
    migrate(stack)
    return stack, db_name


def drop_postgres_database(db_name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def wait_for(predicate: object, timeout: float = 60.0, interval: float = 0.2) -> object:
    """Poll `predicate()` until it returns something truthy; fail with the last value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()  # type: ignore[operator]
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s; last value: {value!r}")
