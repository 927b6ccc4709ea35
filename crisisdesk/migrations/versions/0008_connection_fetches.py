"""connection fetches

Every fetch of a connection's comments, from `crisisdesk sync` (often run by cron) or the web
page's "Fetch now", leaves a row here when it ends: when, from where, the import counts or the
refusal, so the Connections page can say when each account was last read and warn when that was
long ago, also after a restart. The application keeps the last 20 per connection. Deleting a
connection deletes its fetches (``ON DELETE CASCADE``, as ``reply_signatures`` does). A new
table on both databases; no existing row changes.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connection_fetches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_connection_fetches_connection_finished",
        "connection_fetches",
        ["connection_id", "finished_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_connection_fetches_connection_finished", table_name="connection_fetches")
    op.drop_table("connection_fetches")
