"""Alembic environment: the engine comes from the caller (``crisisdesk.store.upgrade``)."""

from __future__ import annotations

from alembic import context

from crisisdesk.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
