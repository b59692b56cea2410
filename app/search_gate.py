"""How many searches run at once in this process: `PER_CLIENT` per client (an account, else an
address) and `TOTAL` in all; past either the search is refused (429) at once.

A search is bounded on its own (`app.services.search`: a step budget on SQLite, a statement
timeout on PostgreSQL), but it runs in the thread pool every sync page shares: forty searches
fired at once by one script (anonymous visitors may search) held forty threads for up to the
bound each, and every other page waited behind them. Ordinary searches take milliseconds, so
a reader never meets the limit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.requests import Request

from app.addresses import address_key
from app.errors import CampError
from app.i18n import lazy

PER_CLIENT = 2
TOTAL = 8
BUSY = lazy("Too many searches at once; try again in a moment")

_lock = threading.Lock()
_running: dict[str, int] = {}


class SearchBusy(CampError):
    status_code = 429
    code = "busy"


def client_key(user_id: int | None, address: str | None) -> str:
    return f"user:{user_id}" if user_id is not None else f"address:{address or '?'}"


def request_key(request: Request, user_id: int | None) -> str:
    """The client of a request: its account, else its address."""
    return client_key(user_id, address_key(request.client.host if request.client else None))


@contextmanager
def search_slot(key: str) -> Iterator[None]:
    with _lock:
        if _running.get(key, 0) >= PER_CLIENT or sum(_running.values()) >= TOTAL:
            raise SearchBusy(BUSY)
        _running[key] = _running.get(key, 0) + 1
    try:
        yield
    finally:
        with _lock:
            left = _running[key] - 1
            if left:
                _running[key] = left
            else:
                del _running[key]
