"""Opening the store and keeping its schema current.

SQLite is the default (one file in the data directory, WAL so the web app can read while an import
writes, foreign keys enforced, a busy timeout so two processes wait rather than fail). Any other
SQLAlchemy URL, PostgreSQL in particular, works the same way. The schema is only ever changed by
Alembic migrations shipped in ``crisisdesk/migrations``; :func:`upgrade` applies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Engine,
    create_engine,
    event,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their directory created and their pragmas set."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def put_signal_state(s: Session, name: str, version: str, blob: bytes) -> None:
    """Save a streaming component's state in ``s``'s transaction (insert or replace), so it can
    go in with the rows it explains (the flame detector writes its alerts alongside)."""
    from crisisdesk.models import SignalState, utcnow

    row = s.get(SignalState, name)
    if row is None:
        s.add(SignalState(name=name, version=version, state=blob, updated_at=utcnow()))
    else:
        row.version = version
        row.state = blob
        row.updated_at = utcnow()


# -- reply signatures for the ``canned`` check (table ``reply_signatures``, migration 0003) ------


def published_replies(
    s: Session, page_id: int, scheme: str, since: datetime | None = None
) -> list[Any]:
    """The page's published replies as ``(id, text, published_at, signature)``, oldest first,
    ``signature`` None where none is stored for ``scheme``; only those published at or after
    ``since`` if given."""
    from crisisdesk.models import ReplyDraft, ReplySignature

    sig = ReplySignature
    published = (
        ReplyDraft.published_at.is_not(None) if since is None else ReplyDraft.published_at >= since
    )
    query = (
        select(ReplyDraft.id, ReplyDraft.text, ReplyDraft.published_at, sig.signature)
        .outerjoin(sig, (sig.reply_id == ReplyDraft.id) & (sig.scheme == scheme))
        .where(ReplyDraft.page_id == page_id, published)
        .order_by(ReplyDraft.published_at, ReplyDraft.id)
    )
    return list(s.execute(query).all())


def put_reply_signatures(s: Session, scheme: str, signatures: Sequence[tuple[int, bytes]]) -> None:
    """Store ``(reply id, signature)`` pairs in ``s``'s transaction, replacing older ones."""
    from crisisdesk.models import ReplySignature

    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(signatures), 2000):
        rows = [
            {"reply_id": reply_id, "scheme": scheme, "signature": blob}
            for reply_id, blob in signatures[start : start + 2000]
        ]
        statement = insert(ReplySignature)
        s.execute(
            statement.on_conflict_do_update(
                index_elements=["reply_id"],
                set_={
                    "scheme": statement.excluded.scheme,
                    "signature": statement.excluded.signature,
                },
            ),
            rows,
        )
