"""CPU-heavy work (image re-encoding, Markdown, big JSON) runs in threads, a few at a time.

On the event loop one 299-frame GIF stalled every request for 11.5 s. In a thread the loop keeps
its turns (Pillow releases the GIL while it decodes and encodes); at most `HEAVY_AT_ONCE` such
jobs run at once per process, so a burst of them queues here instead of taking every core.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

T = TypeVar("T")
HEAVY_AT_ONCE = 2
_limiters: dict[asyncio.AbstractEventLoop, CapacityLimiter] = {}


def _limiter() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    if loop not in _limiters:  # one per event loop (test clients run several)
        for old in [k for k in _limiters if k.is_closed()]:
            del _limiters[old]
        _limiters[loop] = CapacityLimiter(HEAVY_AT_ONCE)
    return _limiters[loop]


async def run_heavy(func: Callable[..., T], *args: object) -> T:
    return await anyio.to_thread.run_sync(func, *args, limiter=_limiter())
