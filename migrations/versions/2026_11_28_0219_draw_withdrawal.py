"""draw withdrawal

A draw that replaces winners who withdrew from a revealed draw keeps the withdrawal (the
revealed draw and its key, the withdrawn and the excluded entry ids, the reason) in the
nullable JSON column `draws.withdrawal`, as its public record (version 2) publishes it.

Revision ID: 0005_withdrawal
Revises: 0004_thread
Create Date: 2026-11-28 02:19:03.421153
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_withdrawal"
down_revision: str | None = "0004_thread"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("draws", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawal", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("draws", schema=None) as batch_op:
        batch_op.drop_column("withdrawal")
