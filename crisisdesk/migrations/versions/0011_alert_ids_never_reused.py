"""alert ids are never handed out again (SQLite)

An alert's id is how the web app's live banner tells what it has already shown: it relays the
alerts other processes stored (the webhook worker, a sync from cron) by looking for ids above the
highest it has seen. SQLite, without ``AUTOINCREMENT``, gives a new row the highest id in the
table plus one, so when a replay deletes the newest alerts their ids come back for the next
ones, and an alert can take an id the banner already counted as seen. ``AUTOINCREMENT`` keeps
every id ever used out of reach. SQLite cannot add it to a table in place: the table is rebuilt
(batch mode; no other table refers to alerts). PostgreSQL's sequences never hand an id out twice:
nothing to do there.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "alerts", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
