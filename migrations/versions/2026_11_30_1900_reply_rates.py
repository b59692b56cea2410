"""reply rates

`reply_rates`: each account's replies in its current minute and hour, one row per account,
moved by one upsert per reply (app/services/reply_rate.py). Not page content: no page-version
trigger.

Revision ID: 0017_reply_rates
Revises: 0016_grading_turns
Create Date: 2026-11-30 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0017_reply_rates"
down_revision: str | None = "0016_grading_turns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reply_rates",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("minute_start", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("minute_count", sa.Integer(), nullable=False),
        sa.Column("hour_start", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("hour_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_reply_rates_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_reply_rates")),
    )


def downgrade() -> None:
    op.drop_table("reply_rates")
