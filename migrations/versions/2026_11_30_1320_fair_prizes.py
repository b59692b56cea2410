"""fair prizes: course settings, final picks, sign-up traces, draw exclusions, similar pairs

Revision ID: 0008_fair_prizes
Revises: 0007_recovery
Create Date: 2026-11-30 13:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_fair_prizes"
down_revision: str | None = "0007_recovery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NEW_TABLES = ("sign_ups", "draw_exclusions", "similar_pairs")


def upgrade() -> None:
    op.add_column("courses", sa.Column("settings", JSON, nullable=False, server_default="{}"))
    op.add_column("submissions", sa.Column("final_pick", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.create_table(
        "sign_ups",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("device", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sign_ups_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_sign_ups")),
    )
    op.create_index(op.f("ix_sign_ups_address"), "sign_ups", ["address"])
    op.create_index(op.f("ix_sign_ups_device"), "sign_ups", ["device"])
    op.create_table(
        "draw_exclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('submission', 'liker')", name=op.f("ck_draw_exclusions_kind")),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignments.id"],
                                name=op.f("fk_draw_exclusions_assignment_id_assignments"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw_exclusions")),
        sa.UniqueConstraint("assignment_id", "kind", "target_id",
                            name=op.f("uq_draw_exclusions_assignment_id_kind_target_id")),
    )
    op.create_table(
        "similar_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("second_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("similarity", sa.Double(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('text', 'code')", name=op.f("ck_similar_pairs_kind")),
        sa.CheckConstraint("state IN ('open', 'confirmed', 'dismissed')",
                           name=op.f("ck_similar_pairs_state")),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignments.id"],
                                name=op.f("fk_similar_pairs_assignment_id_assignments"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["first_id"], ["submissions.id"],
                                name=op.f("fk_similar_pairs_first_id_submissions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["second_id"], ["submissions.id"],
                                name=op.f("fk_similar_pairs_second_id_submissions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_similar_pairs")),
        sa.UniqueConstraint("first_id", "second_id", "kind",
                            name=op.f("uq_similar_pairs_first_id_second_id_kind")),
    )
    op.create_index("ix_similar_pairs_assignment_state", "similar_pairs", ["assignment_id", "state"])
    if op.get_bind().dialect.name == "postgresql":
        for table in NEW_TABLES:  # page versions move with these tables too (see 0006)
            op.execute(f'CREATE CONSTRAINT TRIGGER camp_page_version AFTER INSERT OR UPDATE OR DELETE ON '
                       f'"{table}" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
                       "EXECUTE FUNCTION camp_bump_page_version()")


def downgrade() -> None:
    op.drop_index("ix_similar_pairs_assignment_state", table_name="similar_pairs")
    op.drop_table("similar_pairs")
    op.drop_table("draw_exclusions")
    op.drop_index(op.f("ix_sign_ups_device"), table_name="sign_ups")
    op.drop_index(op.f("ix_sign_ups_address"), table_name="sign_ups")
    op.drop_table("sign_ups")
    op.drop_column("submissions", "final_pick")
    op.drop_column("courses", "settings")
