"""sandbox health of each worker; the staff-only log of a hidden-data run

`worker_heartbeats.sandbox` is the worker's own line about its sandbox ("ok (cgroup v1)", a
warning without cgroups, or why it refuses work); /healthz and /metrics read it.
`submissions.staff_log` holds the log of the run on hidden data, shown to staff only; `log`
keeps what the student may see (the run on public sample digits and a scrubbed summary).

Revision ID: 0011_sandbox_health
Revises: 0010_grading_priority
Create Date: 2026-11-30 13:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_sandbox_health"
down_revision: str | None = "0010_grading_priority"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("worker_heartbeats") as batch:
        batch.add_column(sa.Column("sandbox", sa.String(500), nullable=True))
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("staff_log", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("staff_log")
    with op.batch_alter_table("worker_heartbeats") as batch:
        batch.drop_column("sandbox")
