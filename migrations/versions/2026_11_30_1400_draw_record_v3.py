"""draw record version 3

Columns of a version 3 draw (docs/draws.md §11): `version` (null for the version 1/2 draws
before it), the homework's `deadline` at commit, `late`, the eligibility `criteria` as data,
the drand `beacon_round` and at reveal its `beacon_signature`, the `metadata_hash`, the public
excluded list with its hash and count, and the audit chain head at reveal or abort.

Revision ID: 0012_draw_v3
Revises: 0011_sandbox_health
Create Date: 2026-11-30 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.base

revision: str = "0012_draw_v3"
down_revision: str | None = "0011_sandbox_health"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
COLUMNS = (
    ("version", sa.Integer()), ("deadline", app.models.base.UTCDateTime(timezone=True)),
    ("late", sa.Boolean()),
    ("criteria", JSON), ("beacon_round", sa.BigInteger()), ("beacon_signature", sa.String(96)),
    ("metadata_hash", sa.String(64)), ("excluded_list", sa.Text()),
    ("excluded_hash", sa.String(64)),
    ("excluded_count", sa.Integer()), ("audit_head", JSON),
)


def upgrade() -> None:
    with op.batch_alter_table("draws", schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("draws", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
