"""page versions

`page_versions` holds one counter that moves whenever a transaction that changed page content
commits (PostgreSQL: a deferred constraint trigger on every content table, once per
transaction). The page cache reads it to know that nothing changed (app/services/page_cache.py).
On SQLite the table exists but stays unused (the cache reads `PRAGMA data_version` there).

Revision ID: 0006_page_versions
Revises: 0005_withdrawal
Create Date: 2026-11-28 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_page_versions"
down_revision: str | None = "0005_withdrawal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: kept in step with app.models.page_versions.UNTRACKED_TABLES (a test compares them)
UNTRACKED = ("api_tokens", "worker_heartbeats", "page_versions", "alembic_version",
             "auth_throttle",  # created later (0009), named here for the test
             # created later (0015_notifications): not page content either
             "notifications", "notification_prefs", "prize_claims",
             "reply_rates")  # created later (0017_reply_rates): counts, not content

BUMP = """
CREATE OR REPLACE FUNCTION camp_bump_page_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- once per transaction: the flag is local to it
    IF current_setting('camp.page_version_bumped', true) = pg_current_xact_id()::text THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('camp.page_version_bumped', pg_current_xact_id()::text, true);
    UPDATE page_versions SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END $$
"""


def tracked_tables(bind: sa.engine.Connection) -> list[str]:
    return [t for t in sa.inspect(bind).get_table_names() if t not in UNTRACKED]


def install_trigger(table: str) -> None:
    """The page-version trigger on `table` (new content tables need it too: a test checks)."""
    op.execute(f'DROP TRIGGER IF EXISTS camp_page_version ON "{table}"')
    op.execute(f'CREATE CONSTRAINT TRIGGER camp_page_version AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
               "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION camp_bump_page_version()")


def upgrade() -> None:
    op.create_table(
        "page_versions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_versions")),
    )
    op.execute("INSERT INTO page_versions (id, version) VALUES (1, 0)")
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(BUMP)
    for table in tracked_tables(bind):
        install_trigger(table)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in tracked_tables(bind):
            op.execute(f'DROP TRIGGER IF EXISTS camp_page_version ON "{table}"')
        op.execute("DROP FUNCTION IF EXISTS camp_bump_page_version()")
    op.drop_table("page_versions")
