"""Engine and session factory. The request (or the task) owns the transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.config import get_settings

#: whether pooled connections are pinged before each use (see `use_pre_ping`)
_pre_ping = True


def use_pre_ping(enabled: bool) -> None:
    """The web pings a pooled connection before using it, so the first request after a database
    restart is not answered 503. Grading workers turn it off: every transaction of theirs is
    retried on OperationalError anyway (worker/tasks.py), and a ping is one more round trip per
    transaction, three per grading."""
    global _pre_ping
    if enabled != _pre_ping:
        _pre_ping = enabled
        get_engine.cache_clear()
        get_sessionmaker.cache_clear()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # at most 30 per process (24 requests at once, plus streams and the page cache's version
    # reader); only 10 are kept open while idle: several processes share max_connections
    return create_engine(url, pool_pre_ping=_pre_ping, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the web server read while the worker writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    if not settings.database_url:  # embedded: the database file lives in the data directory
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.effective_database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    maker = sessionmaker(get_engine(), expire_on_commit=False)
    # on Camp's own sessions only, registered when the factory is made (not on SQLAlchemy's
    # global Session class at import time)
    event.listen(maker, "after_commit", _run_after_commit)
    event.listen(maker, "after_rollback", _drop_after_rollback)
    return maker


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed (dropped on rollback): the
    queue never hears of a row the database does not have."""
    session.info.setdefault("after_commit", []).append(callback)


def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop("after_commit", [])
    for callback in callbacks:
        callback()


def _drop_after_rollback(session: Session) -> None:
    session.info.pop("after_commit", None)


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work outside a request (CLI, worker): commit on success, roll back on error."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
