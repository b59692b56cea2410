"""Admission control: a web process handles at most `max_concurrent_requests` requests at once.

Each request holds a database connection from its first query to its commit, and runs its sync
parts in a bounded thread pool. With more requests in flight than connections, threads fill up
waiting for a connection while the requests that hold one wait for a thread: nothing moves
until the pool times out (500s under a burst of 200 students). Requests over the limit wait
here instead, on the event loop, holding neither. A request leaves the limit when its response
starts (its transaction is committed by then), so a long event stream does not keep a place.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:  # one per event loop (test clients)
            self._slots = (loop, asyncio.Semaphore(self.limit))
        slots = self._slots[1]
        await slots.acquire()
        held = True

        def leave() -> None:
            nonlocal held
            if held:
                held = False
                slots.release()

        async def send_and_leave(message: Message) -> None:
            if message["type"] == "http.response.start":
                leave()
            await send(message)

        try:
            await self.app(scope, receive, send_and_leave)
        finally:
            leave()
