"""accounts under abuse

Users get `name_key` (the name as compared: NFKC, case-folded, look-alike letters mapped; unique),
an optional `email` for reset links and a `session_version` that ends every session when it
moves; API tokens get `expires_at`; `auth_throttle` counts failed log-ins and registrations
(not page content: no page-version trigger).

Names that already collide under the new key keep working: the later ones get `#id` appended
to their key, and an admin can rename them.

Revision ID: 0009_accounts_under_abuse
Revises: 0008_fair_prizes
Create Date: 2026-11-30 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime
from app.names import name_key

revision: str = "0009_accounts_under_abuse"
down_revision: str | None = "0008_fair_prizes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("name_key", sa.String(160), nullable=True))
        batch.add_column(sa.Column("email", sa.String(254), nullable=True))
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("name", sa.String),
                     sa.column("name_key", sa.String))
    bind = op.get_bind()
    seen: set[str] = set()
    for user_id, name in bind.execute(sa.select(users.c.id, users.c.name).order_by(users.c.id)).all():
        key = name_key(name)
        key = key if key not in seen else f"{key}#{user_id}"
        seen.add(key)
        bind.execute(users.update().where(users.c.id == user_id).values(name_key=key))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("name_key", existing_type=sa.String(160), nullable=False)
        batch.create_unique_constraint("uq_users_name_key", ["name_key"])
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
    op.create_table(
        "auth_throttle",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_auth_throttle"),
    )


def downgrade() -> None:
    op.drop_table("auth_throttle")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_name_key", type_="unique")
        batch.drop_column("session_version")
        batch.drop_column("email")
        batch.drop_column("name_key")
