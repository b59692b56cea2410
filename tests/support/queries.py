"""Counting the SQL a piece of code sends: the test of "fast enough" that a busy machine
cannot fail (a list that loads per row shows up as N statements, whatever the clock says)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def statements() -> Iterator[list[str]]:
    """Collect every statement the active stack's engine executes inside the block."""
    from app.db import get_engine

    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
