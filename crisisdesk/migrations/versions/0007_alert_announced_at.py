"""when an alert was announced

A replay of a page's history in event-time order (after a file delivered it out of order)
replaces the alerts the import wrote, except those the team was already told of or acknowledged:
those must never be repeated nor silently vanish. Nullable: a new alert is announced, or not,
after it is written. Alerts stored before this revision may have been announced, and nothing
says which: they count as announced at their creation, so that no replay removes one the team
may have been told of (at worst a wrong early alert stays, as it did before). Plain
``ADD COLUMN`` on both databases.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("announced_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE alerts SET announced_at = created_at WHERE announced_at IS NULL")


def downgrade() -> None:
    op.drop_column("alerts", "announced_at")
