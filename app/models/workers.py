"""Worker heartbeats: each grading worker says every few seconds that it is alive."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class WorkerHeartbeat(Base):
    """One row per worker process (Celery node name + pid), refreshed by the worker itself."""

    __tablename__ = "worker_heartbeats"
    __table_args__ = (UniqueConstraint("hostname", "pid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    queues: Mapped[str] = mapped_column(String(255), default="")
    concurrency: Mapped[int] = mapped_column(default=1)
    #: gradings running in this worker at the last beat
    active: Mapped[int] = mapped_column(default=0)
    #: the submission ids being graded at the last beat, comma-separated: a claim of this worker
    #: missing here (its pool process was killed) is freed by the sweep
    grading: Mapped[str] = mapped_column(Text, default="", server_default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: set when the worker shut down cleanly
    stopped_at: Mapped[datetime | None]
    #: the worker's sandbox: "ok (cgroup v1)", "warning: no cgroups (...)" or "refusing work: ..."
    sandbox: Mapped[str | None] = mapped_column(String(500))
