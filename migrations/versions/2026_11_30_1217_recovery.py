"""recovery: who holds a claim, what a worker grades, idempotency keys

`grading_attempts` records the Celery node name and pids of the worker that took the claim;
`worker_heartbeats.grading` lists the submissions a worker grades at each beat, so the sweep
frees the claims of a dead worker (or of a killed pool process) within a few beats instead of
waiting out the lease. `idempotency_keys` lets a retried submission POST answer with the
submission the first one created.

Revision ID: 0007_recovery
Revises: 0006_page_versions
Create Date: 2026-11-30 12:17:13
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0007_recovery"
down_revision: str | None = "0006_page_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_idempotency_keys_user_id_key")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_keys_created_at"), ["created_at"], unique=False)
    with op.batch_alter_table("grading_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker_node", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("worker_pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("grading_pid", sa.Integer(), nullable=True))
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grading", sa.Text(), nullable=False, server_default=""))
    if op.get_bind().dialect.name == "postgresql":
        # a content table like the others (0006_page_versions): written with the submissions
        op.execute('CREATE CONSTRAINT TRIGGER camp_page_version AFTER INSERT OR UPDATE OR DELETE ON '
                   '"idempotency_keys" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
                   "EXECUTE FUNCTION camp_bump_page_version()")


def downgrade() -> None:
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.drop_column("grading")
    with op.batch_alter_table("grading_attempts", schema=None) as batch_op:
        batch_op.drop_column("grading_pid")
        batch_op.drop_column("worker_pid")
        batch_op.drop_column("worker_node")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_created_at"))
    op.drop_table("idempotency_keys")
