"""notifications

The in-app inbox (`notifications`, one row per user and event key), what each user wants by
e-mail (`notification_prefs`) and winners' delivery details (`prize_claims`, erased after the
retention period). Not page content: no page-version trigger.

Revision ID: 0015_notifications
Revises: 0014_search_index
Create Date: 2026-11-30 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.models.base import UTCDateTime

revision: str = "0015_notifications"
down_revision: str | None = "0014_search_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("link", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("mail_state", sa.String(8), nullable=False),
        sa.Column("mail_tries", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_notifications_user_id_users",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("user_id", "key", name="uq_notifications_user_id_key"),
    )
    op.create_index("ix_notifications_user_id_read_at_id", "notifications", ["user_id", "read_at", "id"])
    op.create_index("ix_notifications_mail_state", "notifications", ["mail_state"])
    op.create_table(
        "notification_prefs",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email_kinds", sa.String(200), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("last_digest_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_notification_prefs_user_id_users",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name="pk_notification_prefs"),
    )
    op.create_table(
        "prize_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(100), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("erased_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["draw_id"], ["draws.id"], name="fk_prize_claims_draw_id_draws",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_prize_claims_user_id_users",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_prize_claims"),
        sa.UniqueConstraint("draw_id", "user_id", name="uq_prize_claims_draw_id_user_id"),
    )
    op.create_index("ix_prize_claims_draw_id", "prize_claims", ["draw_id"])


def downgrade() -> None:
    op.drop_table("prize_claims")
    op.drop_table("notification_prefs")
    op.drop_index("ix_notifications_mail_state", table_name="notifications")
    op.drop_index("ix_notifications_user_id_read_at_id", table_name="notifications")
    op.drop_table("notifications")
