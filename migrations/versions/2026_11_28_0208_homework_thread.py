"""homework thread: course posts, edit history, staff reviews, routing and hiding

`course_posts` keeps replies to the course thread (their text that named no homework; the
parts that did are submissions pointing back with `post_id`, with `route_flag`/`route_written`
saying how the prefix was read). `submission_edits` keeps the text a reply had before each
edit. Submissions get the rest of the staff review (`review_comment`, `featured`,
`reviewed_at`, `reviewer_id`), `edited_at`, and who hid them (`hidden_by`, `hidden_at`).

Revision ID: 0004_thread
Revises: 0003_pipeline
Create Date: 2026-11-28 02:08:52.360941
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0004_thread"
down_revision: str | None = "0003_pipeline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "course_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("hidden_by", sa.String(length=16), nullable=True),
        sa.Column("hidden_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_course_posts_author_id_users")),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], name=op.f("fk_course_posts_course_id_courses"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_posts")),
    )
    with op.batch_alter_table("course_posts", schema=None) as batch_op:
        batch_op.create_index("ix_course_posts_course_id_id", ["course_id", "id"], unique=False)

    op.create_table(
        "submission_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("edited_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["editor_id"], ["users.id"],
                                name=op.f("fk_submission_edits_editor_id_users")),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"],
                                name=op.f("fk_submission_edits_submission_id_submissions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_edits")),
    )
    with op.batch_alter_table("submission_edits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submission_edits_submission_id"), ["submission_id"],
                              unique=False)

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("featured", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("reviewed_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("reviewer_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("post_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("route_flag", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("route_written", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("edited_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("hidden_by", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("hidden_at", UTC, nullable=True))
        batch_op.create_index(batch_op.f("ix_submissions_post_id"), ["post_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_submissions_post_id_course_posts"), "course_posts",
                                    ["post_id"], ["id"], ondelete="SET NULL")

    # The default only filled existing rows; the model supplies the value from now on.
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column("featured", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_submissions_post_id_course_posts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_submissions_post_id"))
        for column in ("hidden_at", "hidden_by", "edited_at", "route_written", "route_flag", "post_id",
                       "reviewer_id", "reviewed_at", "featured", "review_comment"):
            batch_op.drop_column(column)

    with op.batch_alter_table("submission_edits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_edits_submission_id"))
    op.drop_table("submission_edits")
    with op.batch_alter_table("course_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_course_posts_course_id_id")
    op.drop_table("course_posts")
