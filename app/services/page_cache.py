"""Rendered pages and computed boards, reused until the database changes.

A cached value is stored with the database's *version* at the moment it was computed, read
before any of its data; it is served only while the version is still the same. The version is
exact and cheap (one round trip on a connection of its own, no table scan):

* PostgreSQL: the counter in `page_versions`, moved by a deferred trigger inside every
  transaction that writes a content table (migration `0006_page_versions`), so it becomes
  visible together with the data. Writes that never show on a page (API token use, worker
  heartbeats) do not move it, nor does anything in other databases of the same server.
* SQLite: `PRAGMA data_version` on a connection that only reads it; it changes whenever
  another connection commits (all of Camp's writes use other connections).

Reading the version first and the data afterwards can only store data that is newer than its
version, never older, so a stale value is never served. The price of the simple rule: any
content commit invalidates every cached value, also when it touched another homework; values
are computed again at most once per commit and key. Entries may also carry `valid_until` for
content that changes with the clock (a deadline passing).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.db import get_engine
from app.models import Assignment, Course, utcnow

log = logging.getLogger(__name__)


class _VersionReader:
    """One DBAPI connection per process used only to read the database's version (thread-safe).

    It is checked out of the engine's pool for good and used directly, below SQLAlchemy's
    statement events: reading the version is not one of the page's queries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._conn: Any = None
        self._generation = 0

    def read(self, connect: bool = True) -> str | None:
        engine = get_engine()
        with self._lock:
            try:
                if self._conn is None or self._engine is not engine:
                    if not connect:
                        return None
                    self._reconnect(engine)
                cursor = self._conn.cursor()
                try:
                    cursor.execute(self._query(engine))
                    row = cursor.fetchone()
                    if row is None:
                        return None
                    value = row[0]
                finally:
                    cursor.close()
            except Exception as exc:  # the cache is an optimisation: never fail a page for it
                log.warning("page cache: cannot read the database version: %s", exc)
                self._close()
                return None
        return f"{engine.url.render_as_string(hide_password=True)}|{self._generation}|{value}"

    @staticmethod
    def _query(engine: Engine) -> str:
        if engine.dialect.name == "postgresql":
            return "SELECT version FROM page_versions WHERE id = 1"
        return "PRAGMA data_version"

    def _reconnect(self, engine: Engine) -> None:
        self._close()
        conn = engine.raw_connection()
        if engine.dialect.name == "postgresql":
            conn.driver_connection.autocommit = True  # type: ignore[union-attr]
            cursor = conn.cursor()
            # never wait long on this connection: a slow answer only means "no cache"
            cursor.execute("SET statement_timeout = 500")
            cursor.close()
        self._engine, self._conn = engine, conn
        self._generation += 1

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
            except Exception:  # pragma: no cover - the connection is gone anyway
                pass
        self._conn = None


_reader = _VersionReader()


def database_version(connect: bool = True) -> str | None:
    """The current version token, or None when it cannot be read (then nothing is cached).

    `connect=False` never opens a connection (for callers on the event loop, which must not
    wait for a database that may be slow to answer a new connection)."""
    return _reader.read(connect)


@dataclass(frozen=True)
class _Entry:
    version: str
    value: Any
    valid_until: datetime | None


class VersionedCache:
    """A small LRU map whose entries count only while the database version is unchanged."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks = [threading.Lock() for _ in range(32)]
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, version: str | None) -> Any | None:
        if version is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            fresh = entry is not None and entry.version == version and (
                entry.valid_until is None or utcnow() < entry.valid_until)
            if not fresh:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.value  # type: ignore[union-attr]

    def put(self, key: Hashable, version: str | None, value: Any,
            valid_until: datetime | None = None) -> None:
        if version is None:
            return
        with self._lock:
            self._entries[key] = _Entry(version, value, valid_until)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get_or_compute(self, key: Hashable,
                       compute: Callable[[], tuple[Any | None, datetime | None]]) -> Any | None:
        """The cached value, or `compute()`'s (value, valid_until), stored unless value is None.

        Only one thread computes a key at a time; the others wait and then take its result
        when the version they read after waiting is the one it was computed for (no stampede
        of identical renders after each commit)."""
        value = self.get(key, database_version())
        if value is not None:
            return value
        with self._key_locks[hash(key) % len(self._key_locks)]:
            version = database_version()
            value = self.get(key, version)
            if value is None:
                value, valid_until = compute()
                if value is not None:
                    self.put(key, version, value, valid_until)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def next_boundary(now: datetime, *moments: datetime | None) -> datetime | None:
    """The earliest of `moments` not yet past: when time-dependent content changes. `now` must
    be taken before the content is computed. A moment equal to `now` counts (a homework is late
    only after its deadline), so content computed right at it is never kept past it."""
    future = [m for m in moments if m is not None and m >= now]
    return min(future) if future else None


def homework_times(session: Session, slug: str, code: str) -> tuple[datetime, datetime] | None:
    """(opens, due) of a homework, or None when there is no such homework."""
    row = session.execute(select(Assignment.opens_at, Assignment.due_at).join(Course)
                          .where(Course.slug == slug, Assignment.code == code)).first()
    return (row[0], row[1]) if row else None
