"""when an alert was announced

A replay of a page's history in event-time order (after a file delivered it out of order)
replaces the alerts the import wrote, except those the team was already told of or acknowledged:
those must never be repeated nor silently vanish. Nullable: alerts stored before this revision
count as not announced. Plain ``ADD COLUMN`` on both databases.

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


def downgrade() -> None:
    op.drop_column("alerts", "announced_at")
