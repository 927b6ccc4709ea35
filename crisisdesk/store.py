"""Opening the store and keeping its schema current.

SQLite is the default (one file in the data directory, WAL so the web app can read while an import
writes, foreign keys enforced, a busy timeout so two processes wait rather than fail). Any other
SQLAlchemy URL, PostgreSQL in particular, works the same way. The schema is only ever changed by
Alembic migrations shipped in ``crisisdesk/migrations``; :func:`upgrade` applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    delete,
    event,
    or_,
    select,
    update,
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


# -- saved states of the streaming components (table ``signal_state``, seq from migration 0009) --


def signal_state_seqs(s: Session, name: str) -> dict[str, int]:
    """The ``seq`` of the saved state ``name`` and of each of its parts (the rows named
    ``name/...``), without their blobs: what a component reads, before it learns or is read, to
    find the parts other processes wrote since it last looked."""
    from crisisdesk.models import SignalState

    rows = s.execute(
        select(SignalState.name, SignalState.seq).where(
            or_(
                SignalState.name == name,
                SignalState.name.startswith(name + "/", autoescape=True),
            )
        )
    )
    return {row.name: row.seq for row in rows}


def signal_state_times(s: Session, name: str) -> dict[str, tuple[int, datetime]]:
    """As :func:`signal_state_seqs`, with the time each row was last written or touched
    (:func:`touch_signal_state`): the same one query, for a component whose rows include marks
    that a live process keeps fresh (the flame monitor's open imports)."""
    from crisisdesk.models import SignalState

    rows = s.execute(
        select(SignalState.name, SignalState.seq, SignalState.updated_at).where(
            or_(
                SignalState.name == name,
                SignalState.name.startswith(name + "/", autoescape=True),
            )
        )
    )
    return {row.name: (row.seq, row.updated_at) for row in rows}


def signal_states(s: Session, names: Iterable[str]) -> list[Any]:
    """The saved states called ``names`` that exist, as ``(name, version, seq, state)`` rows."""
    from crisisdesk.models import SignalState

    wanted = list(names)
    rows: list[Any] = []
    for start in range(0, len(wanted), 500):  # SQLite caps the parameters of one statement
        rows += s.execute(
            select(SignalState.name, SignalState.version, SignalState.seq, SignalState.state).where(
                SignalState.name.in_(wanted[start : start + 500])
            )
        ).all()
    return rows


def write_signal_state(s: Session, name: str, version: str, blob: bytes, seq: int) -> bool:
    """Save a streaming component's state ``name`` in ``s``'s transaction, so it goes in with the
    rows it explains (the flame detector writes its alerts alongside), over the version the caller
    last read or wrote, numbered ``seq`` (0 when it knows of none); the row's ``seq`` becomes
    ``seq + 1``.

    Compare-and-set: when another process wrote the row since (or created it first), nothing is
    written and the answer is False. The caller then reads the stored version back instead of
    overwriting what it never saw.
    """
    from crisisdesk.models import SignalState, utcnow

    # RETURNING says whether the row was written: the driver's row count is not reliable for
    # an insert that did nothing on a conflict (psycopg reports -1).
    if seq == 0:
        insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement: Any = (
            insert(SignalState)
            .values(name=name, version=version, state=blob, seq=1, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["name"])
        )
    else:
        statement = (
            update(SignalState)
            .where(SignalState.name == name, SignalState.seq == seq)
            .values(version=version, state=blob, seq=seq + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return s.execute(statement.returning(SignalState.name)).first() is not None


def touch_signal_state(s: Session, name: str) -> bool:
    """Say that the process keeping the row ``name`` is still alive: its time is set to now,
    its ``seq`` and blob stay, so the other processes see it fresh without reading it again.
    False when there is no such row."""
    from crisisdesk.models import SignalState, utcnow

    statement = (
        update(SignalState)
        .where(SignalState.name == name)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return s.execute(statement.returning(SignalState.name)).first() is not None


def drop_signal_state(s: Session, name: str, *, untouched_since: datetime | None = None) -> bool:
    """Delete the row ``name`` in ``s``'s transaction; with ``untouched_since``, only if it was
    not written or touched since then (a process taking a dead one's mark away must not take
    it from a live process that touched it meanwhile). True when a row was deleted."""
    from crisisdesk.models import SignalState

    statement = delete(SignalState).where(SignalState.name == name)
    if untouched_since is not None:
        statement = statement.where(SignalState.updated_at < untouched_since)
    statement = statement.execution_options(synchronize_session=False)
    return s.execute(statement.returning(SignalState.name)).first() is not None


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
