"""Changes pushed to the web processes, so an event stream wakes when what it shows changes
instead of polling the database (docs/pipeline.md, "Live verdicts"; docs/thread.md, "New
replies, live").

Whoever changes what a stream shows announces it *after its commit*: the worker's claim and
verdict, a rejudge, an edit, the sweep (a submission's grading state), and a new reply or course
post (a thread). A message is only a wake-up call, never data: `s:<id>` (that submission
changed), `q:<queue>` (the queue moved: a grading started, so positions and ETAs of the
submissions waiting in it changed), `h:<id>` (that homework's thread got a reply) or `c:<id>`
(that course's thread got a post). The stream that wakes reads from the database again with its
reader's visibility, exactly as before, so a message can neither leak nor forge anything; a lost
message costs only latency, because every stream also reads again every `live_fallback_seconds`.

Two carriers, chosen by the configuration:

* **Redis broker** (PostgreSQL + Redis): `PUBLISH` on one channel (`<key prefix>camp:changes`);
  each web process holds one `SUBSCRIBE` connection while it has streams open, whatever their
  number, and wakes only the streams of the ids named.
* **Otherwise** (the embedded stack): nothing is published; each web process with open streams
  reads the database's version every `live_version_poll_seconds` (0.1 s) on the connection the
  page cache already keeps (`PRAGMA data_version` on SQLite, which moves when another process
  commits; the `page_versions` counter on PostgreSQL) and wakes every stream when it moved. One
  cheap read per process, not one snapshot per stream.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import redis
import redis.asyncio
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import after_commit

log = logging.getLogger(__name__)

CHANNEL = "camp:changes"
#: seconds between reconnects of a lost subscription (streams fall back to reading on their own)
RECONNECT_SECONDS = 1.0
#: a listener stays this long after its last stream ended (streams come and go all the time)
LINGER_SECONDS = 30.0


def uses_redis(settings: Settings) -> bool:
    return settings.effective_broker_url.startswith(("redis://", "rediss://"))


def channel(settings: Settings) -> str:
    return f"{settings.broker_key_prefix}{CHANNEL}"


def submission_key(submission_id: int) -> str:
    return f"s:{submission_id}"


def queue_key(queue: str) -> str:
    return f"q:{queue}"


def homework_key(assignment_id: int) -> str:
    return f"h:{assignment_id}"


def course_key(course_id: int) -> str:
    return f"c:{course_id}"


#: keys that name a row by its id, and the kind their wake-ups are counted under
NUMBERED_KINDS = {"s": "submission", "h": "homework", "c": "course"}


@lru_cache
def _publisher() -> redis.Redis | None:
    settings = get_settings()
    if not uses_redis(settings):
        return None
    # short timeouts: an announcement is never worth holding up a verdict or a request
    return redis.Redis.from_url(settings.effective_broker_url, socket_timeout=1, socket_connect_timeout=1)


def announce(submission_ids: Iterable[int] = (), queues: Iterable[str] = (), *,
             homework: Iterable[int] = (), courses: Iterable[int] = ()) -> None:
    """Tell the web processes these submissions (queues, homework threads, course threads)
    changed. Call after the commit. Never raises: the streams' fallback reads cover a message
    that could not be sent."""
    keys = ([submission_key(i) for i in submission_ids] + [queue_key(q) for q in queues]
            + [homework_key(i) for i in homework] + [course_key(i) for i in courses])
    client = _publisher()
    if client is None or not keys:
        return
    try:
        with client.pipeline(transaction=False) as pipe:
            name = channel(get_settings())
            for key in keys:
                pipe.publish(name, key)
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("could not announce %s: %s (streams read again within %g s)", keys[:3], exc,
                    get_settings().live_fallback_seconds)


def announce_after_commit(session: Session, submission_ids: Iterable[int] = (), *,
                          homework: Iterable[int] = (), courses: Iterable[int] = ()) -> None:
    """`announce` once the session's transaction has committed (nothing on a rollback)."""
    ids, threads, posts = list(submission_ids), list(homework), list(courses)
    after_commit(session, lambda: announce(ids, homework=threads, courses=posts))


def reset() -> None:
    """Forget the publisher and this process's listener (the settings changed: tests)."""
    _publisher.cache_clear()
    FEED.stop()


class Feed:
    """One per process: the streams waiting for a change, and the listener that wakes them.

    The listener runs only while streams wait; queue wake-ups are coalesced to one per
    `live_queue_refresh_seconds` per queue (a position is an expensive read, and it only
    needs to be roughly current)."""

    def __init__(self) -> None:
        self._waiting: defaultdict[Hashable, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._queue_woken: dict[str, float] = {}
        self._queue_pending: set[str] = set()
        self._last_watch = 0.0
        #: wake-ups delivered, by kind: what tests count instead of timing
        self.delivered: defaultdict[str, int] = defaultdict(int)
        #: set while the listener hears every change (tests wait for it instead of sleeping)
        self.listening = threading.Event()

    @contextmanager
    def watching(self, key: str) -> Iterator[Watch]:
        """A watch woken whenever `key` is announced (`submission_key(id)`, `homework_key(id)`,
        `course_key(id)`) and, while `watch.queue` is set, when that queue moves; it stops being
        woken when the block ends."""
        watch = Watch(self, key)
        self._add(watch.mine, key)
        self._ensure_listener()
        try:
            yield watch
        finally:
            watch.queue = None
            self._remove(watch.mine, key)
            self._last_watch = time.monotonic()

    def _add(self, event: asyncio.Event, key: Hashable) -> None:
        self._waiting[key].add(event)

    def _remove(self, event: asyncio.Event, key: Hashable) -> None:
        events = self._waiting.get(key)
        if events is not None:
            events.discard(event)
            if not events:
                del self._waiting[key]

    def _busy(self) -> bool:
        return bool(self._waiting) or time.monotonic() - self._last_watch < LINGER_SECONDS

    def _ensure_listener(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._task.get_loop() is loop:
            return
        settings = get_settings()
        listen = self._listen_redis(settings) if uses_redis(settings) else self._watch_version(settings)
        self.listening.clear()
        self._task = loop.create_task(listen, name="camp-live-feed")
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        """A listener that decided to stop while a new stream arrived: start another."""
        if task is self._task and not task.cancelled() and self._waiting:
            self._ensure_listener()

    def stop(self) -> None:
        """End the listener (from any thread: tests switch stacks between clients)."""
        task, self._task = self._task, None
        self.listening.clear()
        if task is None or task.done() or task.get_loop().is_closed():
            return
        try:
            task.get_loop().call_soon_threadsafe(task.cancel)
        except RuntimeError:  # its loop closed meanwhile
            pass

    def wake(self, key: str) -> None:
        """Deliver one message (`s:<id>`, `h:<id>`, `c:<id>` or `q:<queue>`); anything else is
        ignored."""
        kind, _, name = key.partition(":")
        if kind in NUMBERED_KINDS and name.isdigit():
            self._set(key, NUMBERED_KINDS[kind])
        elif kind == "q" and name:
            self._wake_queue(name)

    def _set(self, key: Hashable, kind: str) -> None:
        for event in self._waiting.get(key, ()):
            event.set()
            self.delivered[kind] += 1

    def _wake_queue(self, queue: str) -> None:
        if queue in self._queue_pending:
            return
        refresh = get_settings().live_queue_refresh_seconds
        wait = self._queue_woken.get(queue, 0.0) + refresh - time.monotonic()
        if wait <= 0:
            self._queue_woken[queue] = time.monotonic()
            self._set(queue_key(queue), "queue")
            return
        self._queue_pending.add(queue)

        def later() -> None:
            self._queue_pending.discard(queue)
            self._queue_woken[queue] = time.monotonic()
            self._set(queue_key(queue), "queue")

        asyncio.get_running_loop().call_later(wait, later)

    def wake_all(self) -> None:
        for key in list(self._waiting):
            self._set(key, "version")

    async def _listen_redis(self, settings: Settings) -> None:
        name = channel(settings)
        while self._busy():
            client: Any = redis.asyncio.Redis.from_url(settings.effective_broker_url,
                                                       socket_connect_timeout=2)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(name)
                    # changes made while we were not listening: every stream reads once more
                    self.wake_all()
                    self.listening.set()
                    while self._busy():
                        message = await pubsub.get_message(timeout=1.0)
                        if message is not None and message.get("type") == "message":
                            data = message.get("data")
                            if isinstance(data, bytes) and len(data) <= 64:
                                self.wake(data.decode("ascii", "replace"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: streams read on their own meanwhile
                log.warning("live updates: subscription lost (%s); retrying in %g s", exc, RECONNECT_SECONDS)
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                self.listening.clear()
                await client.aclose()

    async def _watch_version(self, settings: Settings) -> None:
        from starlette.concurrency import run_in_threadpool

        from app.services.page_cache import database_version

        last = await run_in_threadpool(database_version)
        # a commit between the first stream's own read and this one moved nothing we saw:
        # every stream reads once more (as after a subscription on the Redis path)
        self.wake_all()
        self.listening.set()
        try:
            while self._busy():
                await asyncio.sleep(settings.live_version_poll_seconds)
                version = database_version(connect=False) or await run_in_threadpool(database_version)
                if version != last:
                    last = version
                    self.wake_all()
        finally:
            self.listening.clear()


class Watch:
    """A stream's subscription: `mine` is set by announcements of its key (and of its queue
    while `queue` names one)."""

    def __init__(self, feed: Feed, key: str) -> None:
        self._feed = feed
        self.key = key
        self.mine = asyncio.Event()
        self._queue: str | None = None

    @property
    def queue(self) -> str | None:
        return self._queue

    @queue.setter
    def queue(self, name: str | None) -> None:
        if name == self._queue:
            return
        if self._queue is not None:
            self._feed._remove(self.mine, queue_key(self._queue))
        if name is not None:
            self._feed._add(self.mine, queue_key(name))
        self._queue = name

    async def changed(self, timeout: float) -> bool:
        """Wait for a change (True) or the timeout (False); the event is cleared either way."""
        try:
            await asyncio.wait_for(self.mine.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.mine.clear()


FEED = Feed()
