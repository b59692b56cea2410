"""Who this worker is: its Celery node name and main-process pid (the key of its heartbeat row).

Set in the main process before the pool forks, so every pool process knows its worker; grading
attempts record it, and the sweep matches a claim to its worker's heartbeat by it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    hostname: str
    pid: int
    queues: str
    concurrency: int


_current: Identity | None = None


def remember(identity: Identity) -> None:
    global _current
    _current = identity


def current() -> Identity | None:
    """None outside a worker (a test calling the grading functions directly)."""
    return _current
