"""permalinks of posts and comments

The web address of a comment and of its post on the platform, so the desk can link to them
("Open on Facebook"). Nullable: older rows, files without links and platforms without them
(Instagram comments) have none. Plain ``ADD COLUMN`` on both databases; SQLite drops a column
natively since 3.35, so the downgrade does not rebuild ``comments`` (which would lose the search
index's triggers).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("posts", "comments")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("permalink", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "permalink")
