"""running fetches

A fetch of a connection was recorded only when it ended, so a `crisisdesk sync` running from cron
(or a "Fetch now" in another web process) was invisible until then, and one whose process died
left no trace at all. It is now recorded when it starts, with ``finished_at`` NULL while it runs
and ``alive_at`` moved by the running process every minute, then completed when it ends: a row
left unfinished whose ``alive_at`` stopped moving is a fetch that was interrupted.

``finished_at`` becomes nullable (SQLite rebuilds the table for that, in batch mode; PostgreSQL
alters the column) and the index follows the start, the one moment every row has, which is what
the pages sort by. Existing rows are all finished and keep their values. The downgrade completes
any row still unfinished as a failure of the desk (``internal``, the reason the earlier version
knows), as of its last sign of life, before ``finished_at`` is required again.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_fetches = sa.table(
    "connection_fetches",
    sa.column("started_at", sa.DateTime()),
    sa.column("finished_at", sa.DateTime()),
    sa.column("alive_at", sa.DateTime()),
    sa.column("reason", sa.String()),
    sa.column("error", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("connection_fetches") as batch_op:
        batch_op.drop_index("ix_connection_fetches_connection_finished")
        batch_op.alter_column("finished_at", existing_type=sa.DateTime(), nullable=True)
        batch_op.add_column(sa.Column("alive_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            "ix_connection_fetches_connection_started", ["connection_id", "started_at"]
        )


def downgrade() -> None:
    op.get_bind().execute(
        sa.update(_fetches)
        .where(_fetches.c.finished_at.is_(None))
        .values(
            finished_at=sa.func.coalesce(_fetches.c.alive_at, _fetches.c.started_at),
            reason="internal",
            error="the fetch was interrupted before it ended",
        )
    )
    with op.batch_alter_table("connection_fetches") as batch_op:
        batch_op.drop_index("ix_connection_fetches_connection_started")
        batch_op.drop_column("alive_at")
        batch_op.alter_column("finished_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index(
            "ix_connection_fetches_connection_finished", ["connection_id", "finished_at"]
        )
