"""course instructors

The instructors who may edit a course in the browser editor (admins edit every course).

Revision ID: 0013_course_instructors
Revises: 0012_draw_v3
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0013_course_instructors"
down_revision: str | None = "0012_draw_v3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "course_instructors",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_instructors_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_course_instructors_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("course_id", "user_id", name=op.f("pk_course_instructors")),
    )
    op.create_index(op.f("ix_course_instructors_user_id"), "course_instructors", ["user_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":  # the course pages name instructors (see 0006)
        op.execute('CREATE CONSTRAINT TRIGGER camp_page_version AFTER INSERT OR UPDATE OR DELETE ON '
                   '"course_instructors" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
                   "EXECUTE FUNCTION camp_bump_page_version()")


def downgrade() -> None:
    op.drop_index(op.f("ix_course_instructors_user_id"), table_name="course_instructors")
    op.drop_table("course_instructors")
