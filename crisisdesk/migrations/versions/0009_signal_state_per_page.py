"""signal state per page

The flame detector and the coordination networks kept their whole state in one row each, and
every process that ingests (the web app, the webhook worker, a sync from cron) saved its whole
in-memory view after each batch: the last writer won, over pages it had not even touched, and no
process saw what the others had learnt until it restarted. The state is now one row per page
(``flame/page/<id>``, ``coordination/page/<id>``) beside a row for what is common to all pages
(``flame``: the detector's settings), and ``seq`` counts the writes of each row, so that a process
reloads only the pages that moved and writes a page only over the version it last read.

The rows saved in the old layout are split here: the flame state is JSON, so its pages are copied
as they are (the clock, the latest minute of any page, is worked out again from them); the
coordination state is a pickle of the page states, each pickled again on its own. A state that
cannot be read is dropped, as the monitors did with one: the flame pages then have comments beyond
their (missing) state and are replayed from the store at the next settling. Rows of another
version are left for the monitors to ignore, as before. The downgrade puts the rows back together.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import json
import logging
import pickle
import zlib
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# The names and versions as this revision knows them, not imported: a later change to the
# monitors must not change what this migration does.
FLAME, FLAME_OLD, FLAME_NEW = "flame", "flame-1", "flame-2"
COORDINATION, COORDINATION_OLD, COORDINATION_NEW = "coordination", "1", "2"

_states = sa.table(
    "signal_state",
    sa.column("name", sa.String()),
    sa.column("version", sa.String()),
    sa.column("state", sa.LargeBinary()),
    sa.column("updated_at", sa.DateTime()),
    sa.column("seq", sa.Integer()),
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC, as the model does


def _flame_blob(data: Any) -> bytes:
    return zlib.compress(json.dumps(data).encode("utf-8"))


def _flame_data(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob))


def _row(name: str) -> Any:
    conn = op.get_bind()
    return conn.execute(
        sa.select(_states.c.version, _states.c.state).where(_states.c.name == name)
    ).first()


def _parts(prefix: str) -> list[Any]:
    conn = op.get_bind()
    return list(
        conn.execute(
            sa.select(_states.c.name, _states.c.version, _states.c.state).where(
                _states.c.name.startswith(prefix, autoescape=True)
            )
        )
    )


def _put(rows: list[dict[str, Any]]) -> None:
    if rows:
        op.get_bind().execute(sa.insert(_states), rows)


def _delete(name: str) -> None:
    op.get_bind().execute(sa.delete(_states).where(_states.c.name == name))


def _delete_parts(prefix: str) -> None:
    op.get_bind().execute(
        sa.delete(_states).where(_states.c.name.startswith(prefix, autoescape=True))
    )


def _split_flame() -> None:
    row = _row(FLAME)
    if row is None or row.version != FLAME_OLD:
        return
    _delete(FLAME)
    try:
        data = _flame_data(row.state)
        parts = {FLAME: {"config": data["config"]}}
        parts |= {f"{FLAME}/page/{int(key)}": page for key, page in data["pages"].items()}
    except (ValueError, KeyError, TypeError, AttributeError, zlib.error):
        log.warning("the saved flame state was unreadable: dropped, its pages will be replayed")
        return
    now = _now()
    _put(
        [
            {
                "name": name,
                "version": FLAME_NEW,
                "state": _flame_blob(part),
                "updated_at": now,
                "seq": 1,
            }
            for name, part in parts.items()
        ]
    )


def _split_coordination() -> None:
    row = _row(COORDINATION)
    if row is None or row.version != COORDINATION_OLD:
        return
    _delete(COORDINATION)
    try:
        # Written only by the coordination monitor, into this database.
        pages = pickle.loads(row.state)  # noqa: S301
        blobs = {
            int(key): pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
            for key, state in pages.items()
        }
    except Exception:  # any pickle problem: the networks start afresh, as the monitor did
        log.warning("the saved coordination state was unreadable: dropped")
        return
    now = _now()
    _put(
        [
            {
                "name": f"{COORDINATION}/page/{key}",
                "version": COORDINATION_NEW,
                "state": blob,
                "updated_at": now,
                "seq": 1,
            }
            for key, blob in blobs.items()
        ]
    )


def _join_flame() -> None:
    row = _row(FLAME)
    pages: dict[str, Any] = {}
    for name, version, blob in _parts(f"{FLAME}/page/"):
        try:
            if version == FLAME_NEW:
                pages[name.rsplit("/", 1)[1]] = _flame_data(blob)
        except (ValueError, zlib.error):
            log.warning("the saved flame state of %s was unreadable: left out", name)
    _delete_parts(f"{FLAME}/page/")
    if row is None or row.version != FLAME_NEW:
        return
    _delete(FLAME)
    try:
        config = _flame_data(row.state)["config"]
    except (ValueError, KeyError, TypeError, zlib.error):
        log.warning("the saved flame settings were unreadable: the flame state is dropped")
        return
    state = {
        "version": FLAME_OLD,
        "config": config,
        # the latest minute of any page, as the detector kept it
        "clock": max((int(page["last_minute"]) for page in pages.values()), default=0),
        "pages": pages,
    }
    _put([{"name": FLAME, "version": FLAME_OLD, "state": _flame_blob(state), "updated_at": _now()}])


def _join_coordination() -> None:
    pages: dict[int, Any] = {}
    for name, version, blob in _parts(f"{COORDINATION}/page/"):
        try:
            if version == COORDINATION_NEW:
                pages[int(name.rsplit("/", 1)[1])] = pickle.loads(blob)  # noqa: S301
        except Exception:
            log.warning("the saved coordination state of %s was unreadable: left out", name)
    _delete_parts(f"{COORDINATION}/page/")
    if not pages:
        return
    _delete(COORDINATION)
    blob = pickle.dumps(pages, protocol=pickle.HIGHEST_PROTOCOL)
    _put(
        [
            {
                "name": COORDINATION,
                "version": COORDINATION_OLD,
                "state": blob,
                "updated_at": _now(),
            }
        ]
    )


def upgrade() -> None:
    op.add_column(
        "signal_state", sa.Column("seq", sa.Integer(), nullable=False, server_default="0")
    )
    _split_flame()
    _split_coordination()


def downgrade() -> None:
    _join_flame()
    _join_coordination()
    op.drop_column("signal_state", "seq")
