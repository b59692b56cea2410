"""Bounded capture of a program's output: keep the head and the tail, count the rest."""

from __future__ import annotations

import re

# C0 controls but tab, newline and carriage return; DEL. NUL in particular: PostgreSQL refuses it.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(data: bytes | str) -> str:
    """Text safe to store and show: invalid UTF-8 and control characters (NUL first) dropped."""
    text = data.decode("utf-8", errors="ignore") if isinstance(data, bytes) else data
    text = text.encode("utf-8", errors="ignore").decode("utf-8")  # lone surrogates
    return _CONTROL.sub("", text)


class HeadTail:
    """Keeps the first quarter and the last three quarters of `limit` bytes of a stream.

    A program flooding stdout costs the grader one read per 64 KiB and no memory beyond
    `limit`; the start (import errors) and the end (the final traceback) both survive.
    """

    def __init__(self, limit: int) -> None:
        self.head_limit = limit // 4
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def write(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        if len(self.tail) > 2 * self.tail_limit:  # trim in batches, not on every chunk
            del self.tail[: -self.tail_limit]

    def text(self) -> str:
        tail = bytes(self.tail[-self.tail_limit :]) if self.tail_limit else b""
        dropped = self.total - len(self.head) - len(tail)
        marker = f"\n[… {dropped} bytes of output omitted …]\n".encode() if dropped else b""
        return printable(bytes(self.head) + marker + tail)
