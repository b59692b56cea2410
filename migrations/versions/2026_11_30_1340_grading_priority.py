"""grading priority

`submissions.low_priority`: a rejudge's grading round waits behind first gradings and edits
(the fair order in app/services/grading_order.py).

Revision ID: 0010_grading_priority
Revises: 0009_accounts_under_abuse
Create Date: 2026-11-30 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_grading_priority"
down_revision: str | None = "0009_accounts_under_abuse"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("low_priority", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("low_priority")
