"""search index for replies and course posts

SQLite (embedded mode): FTS5 tables with the trigram tokenizer over `submissions.text` and
`course_posts.text` (external content: the text is stored once, in its own table), kept up to
date by triggers on insert, on an edit of the text and on delete, so every write path (pages, API,
course loads, imports) updates them. Trigram indexes any script, Chinese included, with no word
splitting; terms shorter than three characters are matched with LIKE (docs/thread.md, Search).

PostgreSQL: `pg_trgm` GIN indexes on the same columns, used by `ILIKE '%term%'`. When the
extension cannot be created (a managed database without it), the indexes are skipped and search
still works, without an index.

Everything named `search_*` is kept out of autogenerate's comparison (migrations/env.py): the
models do not describe virtual tables or operator-class indexes.

Revision ID: 0014_search_index
Revises: 0013_course_instructors
Create Date: 2026-11-30 16:10:00
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_search_index"
down_revision: str | None = "0013_course_instructors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: FTS table (SQLite) / index name stem (PostgreSQL) -> the table whose `text` it indexes
INDEXED = {"search_replies": "submissions", "search_posts": "course_posts"}
log = logging.getLogger("alembic.search")


def _sqlite_up(fts: str, source: str) -> None:
    op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5(text, content='{source}', content_rowid='id', "
               "tokenize='trigram')")
    op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {source} BEGIN "
               f"INSERT INTO {fts}(rowid, text) VALUES (new.id, new.text); END")
    op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {source} BEGIN "
               f"INSERT INTO {fts}({fts}, rowid, text) VALUES ('delete', old.id, old.text); END")
    op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF text ON {source} BEGIN "
               f"INSERT INTO {fts}({fts}, rowid, text) VALUES ('delete', old.id, old.text); "
               f"INSERT INTO {fts}(rowid, text) VALUES (new.id, new.text); END")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # rows written before this revision


def _postgres_up() -> None:
    bind = op.get_bind()
    try:
        with bind.begin_nested():  # a refused CREATE EXTENSION must not abort the migration
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm is not available (%s): search works without an index", exc.orig)
        return
    for stem, source in INDEXED.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {stem}_trgm ON {source} USING gin (text gin_trgm_ops)")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for fts, source in INDEXED.items():
            _sqlite_up(fts, source)
    elif dialect == "postgresql":
        _postgres_up()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stem in INDEXED:
        if dialect == "sqlite":
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {stem}_{event}")
            op.execute(f"DROP TABLE IF EXISTS {stem}")
        elif dialect == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS {stem}_trgm")
