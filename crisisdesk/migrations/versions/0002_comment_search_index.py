"""comment search index

The inbox's search is a case-insensitive substring match. Without an index it reads every comment,
which at a million comments takes over a second for a rare word. Each database gets the index that
serves exactly that query:

* SQLite: an FTS5 table with the trigram tokenizer over ``comments.text``, kept in step by
  triggers; ``LIKE`` on it uses the index (SQLite 3.34+). Skipped if this SQLite lacks FTS5, and
  the desk then falls back to scanning.
* PostgreSQL: a trigram GIN index (``pg_trgm``), which ``ILIKE`` uses as is. Skipped if the
  extension cannot be created (it needs the right privileges); the query works either way.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE comments_search USING fts5("
    "text, content='comments', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER comments_search_insert AFTER INSERT ON comments BEGIN "
    "INSERT INTO comments_search(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER comments_search_delete AFTER DELETE ON comments BEGIN "
    "INSERT INTO comments_search(comments_search, rowid, text) VALUES ('delete', old.id, old.text);"
    " END",
    "CREATE TRIGGER comments_search_update AFTER UPDATE OF text ON comments BEGIN "
    "INSERT INTO comments_search(comments_search, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO comments_search(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO comments_search(comments_search) VALUES ('rebuild')",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        try:
            bind.exec_driver_sql("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
            bind.exec_driver_sql("DROP TABLE temp.fts5_probe")
        except sa.exc.OperationalError:
            return  # no FTS5 in this SQLite: search scans
        for statement in SQLITE_UP:
            bind.exec_driver_sql(statement)
    elif bind.dialect.name == "postgresql":
        nested = bind.begin_nested()
        try:
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except sa.exc.DBAPIError:
            nested.rollback()
            return
        nested.commit()
        bind.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_comments_text_trgm ON comments "
            "USING gin (text gin_trgm_ops)"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS comments_search_{name}")
        bind.exec_driver_sql("DROP TABLE IF EXISTS comments_search")
    elif bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_comments_text_trgm")
