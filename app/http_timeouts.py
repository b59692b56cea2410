"""Deadlines uvicorn does not keep: for a request's head, and for a client to take its answer.

uvicorn arms no timer while it waits for a request (not on a new connection, and any byte
cancels the keep-alive timer after a response), and none while an answer waits for a client to
read it. A client that sent request heads a byte a minute (slowloris), or asked for answers and
read nothing, held each connection for ever: a file descriptor, up to 16 KB of head, the answer's
unsent part in the kernel and a task in the process. Here a request's line and headers must be
whole within `CAMP_REQUEST_HEAD_SECONDS` of the connection's opening or the previous response,
and an answer that waits on the client for `CAMP_SEND_IDLE_SECONDS` (the connection's buffer
full, nothing taken) ends its connection. Bodies have their own budget (app/body_reader.py).
"""

from __future__ import annotations

import asyncio
import socket
import struct

from uvicorn.protocols.http.h11_impl import H11Protocol

from app.config import get_settings


class TimedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol (h11) with a deadline for each request's head and for a
    client that stopped reading."""

    _head_timer: asyncio.TimerHandle | None = None
    _send_timer: asyncio.TimerHandle | None = None

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

    def pause_writing(self) -> None:
        """The connection's buffer is full: the client has that long to take some of it."""
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(get_settings().send_idle_seconds, self._not_reading)

    def resume_writing(self) -> None:
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None
        super().resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None
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

    def _not_reading(self) -> None:
        """Reset, unsent data and all: closed, the socket would keep up to 4 MB of the answer in
        the kernel, waiting for the client to read it."""
        self._send_timer = None
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()
