"""Which submission each grading process of this worker holds, for the heartbeat to report.

The broker's message names a submission only as a hint (the fair order may claim another), so
the worker's main process cannot tell from Celery what its processes grade. Each grading process
writes one small file, named by its pid, while it holds a claim (`holding`); the heartbeat
thread reports the files of its own live processes (`held`) and deletes those of dead ones. A
killed pool process's claim thus disappears from the next beat, and the sweep frees it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.config import get_settings
from worker import identity
from worker.identity import Identity


def _dir(who: Identity) -> Path:
    return get_settings().data_dir / "inflight" / f"{who.hostname.replace('/', '_')}-{who.pid}"


@contextmanager
def holding(submission_id: int) -> Iterator[None]:
    """While the block runs, this process is known to grade `submission_id`."""
    who = identity.current()
    if who is None:  # not in a worker (a test calling the task's parts directly)
        yield
        return
    path = _dir(who) / str(os.getpid())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(submission_id))
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def held(who: Identity) -> list[int]:
    """Submissions held by live grading processes of this worker (its main process or its children)."""
    found = []
    folder = _dir(who)
    if not folder.is_dir():
        return []
    for path in folder.iterdir():
        try:
            pid, submission_id = int(path.name), int(path.read_text())
        except (OSError, ValueError):
            continue
        if pid == who.pid or _parent(pid) == who.pid:
            found.append(submission_id)
        else:  # its process died mid-grading (killed): its claim is no longer held
            path.unlink(missing_ok=True)
    return found


def _parent(pid: int) -> int | None:
    """The parent pid of a live process (Linux /proc), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])
