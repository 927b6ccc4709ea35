"""published replies by page and date

The ``canned`` check catches up, before each check, with replies that other processes (a second
web worker, the command line) published since it last looked. That is a query for a page's replies
published after a moment, run on every draft check: this index makes it a short range read
instead of a walk over all of the page's replies.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reply_drafts_page_published", "reply_drafts", ["page_id", "published_at"])


def downgrade() -> None:
    op.drop_index("ix_reply_drafts_page_published", table_name="reply_drafts")
