"""A request's line and headers must arrive within `CAMP_REQUEST_HEAD_SECONDS`.

uvicorn arms no timer while it waits for a request: not on a new connection, and the keep-alive
timer after a response is cancelled by any byte. A client that opened connections and sent their
request heads a byte a minute (slowloris) held each one for ever, with a file descriptor and up
to 16 KB of buffered head, until the process ran out of either. Here each connection gets the
time limit from its opening and again after each response; a head still incomplete then ends the
connection. Bodies have their own budget (app/body_reader.py).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

from app.config import get_settings


class TimedHeadsProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol (h11) with a deadline for each request's head."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_request():
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self._in_request():  # not a pipelined one
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _in_request(self) -> bool:
        """A request's head has arrived and its response is not complete."""
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(get_settings().request_head_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _too_slow(self) -> None:
        self._head_timer = None
        if not self._in_request() and not self.transport.is_closing():
            self.transport.close()
