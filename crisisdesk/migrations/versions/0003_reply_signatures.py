"""reply signatures

The ``canned`` check compares a draft with every reply the page has published, through MinHash
signatures of the replies. Computing them is the slow part (about 10 s per 100,000 replies), so
each published reply's signature is kept here and a restart only reads them back. ``scheme`` names
how a signature was computed: rows of another scheme are recomputed, never compared.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_signatures",
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["reply_id"], ["reply_drafts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("reply_id"),
    )


def downgrade() -> None:
    op.drop_table("reply_signatures")
