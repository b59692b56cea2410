"""draw lifecycle columns and review score

Draws get what their public record needs (prize, public value source, entry count, key,
aborted_at), the eligibility options and reward-rule index they run, the staff-only list of
excluded replies, and a unique `replaces_id` (an aborted draw is replaced at most once).
Submissions get a nullable `review_score`, set by the staff review (used by `top_score` rules
with `by: review`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 01:51:52.739910
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("draws", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule_index", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("options", JSON, nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("title", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("prize", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("public_value_source", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("entry_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("excluded", JSON, nullable=True))
        batch_op.add_column(sa.Column("key", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("aborted_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint(batch_op.f("uq_draws_replaces_id"), ["replaces_id"])

    # The defaults only filled existing rows; the models supply values from now on.
    with op.batch_alter_table("draws", schema=None) as batch_op:
        batch_op.alter_column("options", server_default=None)
        batch_op.alter_column("title", server_default=None)
        batch_op.alter_column("prize", server_default=None)

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_score", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("review_score")

    with op.batch_alter_table("draws", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_draws_replaces_id"), type_="unique")
        batch_op.drop_column("aborted_at")
        batch_op.drop_column("key")
        batch_op.drop_column("excluded")
        batch_op.drop_column("entry_count")
        batch_op.drop_column("public_value_source")
        batch_op.drop_column("prize")
        batch_op.drop_column("title")
        batch_op.drop_column("options")
        batch_op.drop_column("rule_index")
