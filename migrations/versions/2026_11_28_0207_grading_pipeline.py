"""grading pipeline: grading rounds, resend times, worker heartbeats

Submissions get `attempt_base` (the attempt count when the current grading round began, so a
rejudge gets a fresh set of tries) and `resend_at` (when the sweep may send the id again,
backing off while it waits, so `queued_at` keeps meaning "waiting since"). Workers write a
heartbeat row every few seconds.

Revision ID: 0003_pipeline
Revises: 0002
Create Date: 2026-11-28 02:07:19.178938
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0003_pipeline"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("queues", sa.String(length=255), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("started_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_heartbeats")),
        sa.UniqueConstraint("hostname", "pid", name=op.f("uq_worker_heartbeats_hostname_pid")),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt_base", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("resend_at", app.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("resend_at")
        batch_op.drop_column("attempt_base")
    op.drop_table("worker_heartbeats")
