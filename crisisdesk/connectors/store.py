"""Stored connections: platform accounts with their encrypted tokens, and connectors built from them.

A :class:`~crisisdesk.models.Connection` row holds the account (``platform``, ``account_id``), a
display name, the token encrypted with :class:`~crisisdesk.connectors.secrets.TokenBox`, the
non-secret configuration (``config``: app id, base URL, handle...) and the polling cursor. The
token is decrypted only to build a connector, and only held in a
:class:`~crisisdesk.settings.Secret`.

Each fetch of a connection leaves a :class:`~crisisdesk.models.ConnectionFetch` row, written when
it starts (:func:`start_fetch`, which can also refuse, in the same step, when another fetch of
the connection is running) so that other processes see it running, kept alive while it runs
(:func:`touch_fetch`) and completed when it ends (:func:`finish_fetch`); the last
:data:`KEEP_FETCHES` completed ones are kept, for the Connections page and `crisisdesk connections`
to say when an account was last read and how it went. A row its process stopped keeping alive
(killed, out of memory, a deploy) is a fetch that was interrupted (:func:`is_interrupted`).

``install_connectors(desk)`` fills ``desk.connectors`` (keyed by platform and the page's platform
id, which is the account id) so the moderation workflow acts through them.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from crisisdesk.connectors import PLATFORMS, ConnectorError
from crisisdesk.connectors.secrets import TokenBox, TokenKeyError
from crisisdesk.models import Connection, ConnectionFetch, utcnow
from crisisdesk.settings import Secret

if TYPE_CHECKING:
    from crisisdesk.desk import Desk

log = logging.getLogger(__name__)

HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

#: Where a fetch was started: `crisisdesk sync` or the web page's "Fetch now".
FETCH_SOURCES = ("cli", "web")
#: Fetches kept per connection: enough to see a pattern of failures, few enough that a sync
#: every minute from cron does not grow the table without bound.
KEEP_FETCHES = 20
#: The longest error text kept with a fetch (the column's size).
ERROR_LENGTH = 500
#: A running fetch's process touches its row this often (seconds). Not the fetch's own progress:
#: one request may wait out a rate limit for many minutes (up to an hour and more with the
#: connectors' retries), and the connectors set no limit on a whole fetch (a backfill reads as
#: many posts as the range holds), so only a beat independent of the work can tell a slow fetch
#: from a dead one.
HEARTBEAT_EVERY = 60.0
#: A running fetch whose row has not been touched for this long is taken for interrupted: its
#: process is gone. Ten beats missed: a beat may wait out a busy SQLite database (its 30 s lock
#: timeout) or a loaded machine a few times over, and no fetch that still runs is that silent.
INTERRUPTED_AFTER = timedelta(minutes=10)
#: The reason given to a fetch whose process died before it ended (one of ``accounts.REASONS``).
INTERRUPTED = "interrupted"
USER_AGENT = "crisisdesk-connectors"


def new_http_client() -> httpx.Client:
    """The client connectors share when none is injected."""
    return httpx.Client(timeout=HTTP_TIMEOUT, headers={"User-Agent": USER_AGENT})


def save_connection(
    desk: Desk,
    platform: str,
    account_id: str,
    *,
    token: str | Secret,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    actor: str = "cli",
    user_id: int | None = None,
) -> Connection:
    """Create or replace a connection; the token is encrypted before it reaches the store.

    The audit entry names who connected which account, never the token. In a process whose
    connectors are already installed (the web app), the new account acts at once."""
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}")
    if not account_id.strip():
        raise ValueError("an account id is needed")
    blob = TokenBox.from_settings(desk.settings).encrypt(token)
    with desk.session() as s, s.begin():
        row = s.scalars(
            select(Connection).where(
                Connection.platform == platform, Connection.account_id == account_id
            )
        ).first()
        if row is None:
            row = Connection(platform=platform, account_id=account_id, config={})
            s.add(row)
        row.name = (name or account_id)[:300]
        row.token_encrypted = blob
        row.config = dict(config or {})
        row.updated_at = utcnow()
        s.flush()
        s.expunge(row)
    desk.audit(
        "connection.save",
        actor=actor,
        user_id=user_id,
        object_type="connection",
        object_id=f"{platform}:{account_id}",
        detail={"platform": platform, "account_id": account_id, "name": row.name},
    )
    if desk.connectors_loaded:
        install_connection(desk, row)
    return row


def load_connections(desk: Desk, platform: str | None = None) -> list[Connection]:
    with desk.session() as s:
        query = select(Connection).order_by(Connection.platform, Connection.account_id)
        if platform:
            query = query.where(Connection.platform == platform)
        return list(s.scalars(query))


def get_connection(desk: Desk, platform: str, account_id: str) -> Connection | None:
    with desk.session() as s:
        return s.scalars(
            select(Connection).where(
                Connection.platform == platform, Connection.account_id == account_id
            )
        ).first()


def connection_by_id(desk: Desk, connection_id: int) -> Connection | None:
    with desk.session() as s:
        return s.get(Connection, connection_id)


def delete_connection(
    desk: Desk, platform: str, account_id: str, *, actor: str = "cli", user_id: int | None = None
) -> bool:
    """Forget a connection and its token; False when there was none. Audited like a save."""
    with desk.session() as s, s.begin():
        row = s.scalars(
            select(Connection).where(
                Connection.platform == platform, Connection.account_id == account_id
            )
        ).first()
        if row is None:
            return False
        name = row.name
        # The foreign key cascades too; deleting them here as well keeps the promise on a
        # database opened without SQLite's foreign_keys pragma.
        s.execute(delete(ConnectionFetch).where(ConnectionFetch.connection_id == row.id))
        s.delete(row)
    desk.connectors.pop((platform, account_id), None)
    desk.audit(
        "connection.delete",
        actor=actor,
        user_id=user_id,
        object_type="connection",
        object_id=f"{platform}:{account_id}",
        detail={"platform": platform, "account_id": account_id, "name": name},
    )
    return True


def save_cursor(desk: Desk, connection_id: int, cursor: str | None) -> None:
    with desk.session() as s, s.begin():
        row = s.get(Connection, connection_id)
        if row is not None:
            row.cursor = cursor
            row.updated_at = utcnow()


class FetchRunning(Exception):
    """A fetch was not started: another one of the same connection is running (in this process
    or another), and reading the account twice would only spend the platform's rate limit on the
    same comments. ``running`` is that fetch, for saying since when and from where."""

    def __init__(self, running: ConnectionFetch) -> None:
        super().__init__(
            f"connection {running.connection_id} is already being fetched"
            f" (since {running.started_at.isoformat()}, from {running.source})"
        )
        self.running = running


def start_fetch(
    desk: Desk,
    connection_id: int,
    *,
    source: str,
    started_at: datetime,
    alone: bool = False,
) -> ConnectionFetch | None:
    """Record that a fetch of a connection starts (``finished_at`` None until
    :func:`finish_fetch`); None when the connection no longer exists.

    With ``alone``, the fetch is recorded only if no other fetch of the connection is running;
    otherwise :class:`FetchRunning` is raised, naming the one that is. The look and the record
    are one step: of two processes starting at the same instant, exactly one gets to fetch.

    Fetches of the same connection left unfinished by a process that died are completed here as
    :data:`INTERRUPTED`, as of their last sign of life, so they take their place in the history
    and its pruning; they never hold a start back."""
    if source not in FETCH_SOURCES:
        raise ValueError(f"source must be one of {', '.join(FETCH_SOURCES)}")
    running: ConnectionFetch | None = None  # the last started of the live ones
    with desk.session() as s, s.begin():
        if not _lock_connection(s, connection_id):
            return None
        for unfinished in s.scalars(
            select(ConnectionFetch)
            .where(
                ConnectionFetch.connection_id == connection_id,
                ConnectionFetch.finished_at.is_(None),
            )
            .order_by(ConnectionFetch.started_at.desc(), ConnectionFetch.id.desc())
        ):
            if is_interrupted(unfinished, started_at):
                unfinished.finished_at = unfinished.alive_at or unfinished.started_at
                unfinished.reason = INTERRUPTED
            elif running is None:
                running = unfinished
        if running is None or not alone:
            row = ConnectionFetch(
                connection_id=connection_id,
                source=source,
                started_at=started_at,
                alive_at=started_at,
                inserted=0,
                updated=0,
                unchanged=0,
                rejected=0,
            )
            s.add(row)
            s.flush()
            _prune(s, connection_id)
            s.expunge(row)
            return row
        # Not started; the dead fetches completed above are written all the same.
        s.expunge(running)
    raise FetchRunning(running)


def _lock_connection(s: Session, connection_id: int) -> bool:
    """Open ``s``'s transaction with a write to the connection's row, which changes nothing but
    takes the row's lock; False when there is no such connection.

    This is what makes :func:`start_fetch` one step: a second start of the same connection waits
    here until the first has committed its record, then reads it. On PostgreSQL the UPDATE locks
    the row until commit (under READ COMMITTED each later statement sees what was committed
    before it), whereas a plain SELECT would let both read "none running". On SQLite the
    driver opens a deferred transaction before the UPDATE, which must take the database's write
    lock before it reads anything; a second writer waits for it under the busy timeout (see
    :func:`crisisdesk.store.make_engine`), then reads from a fresh snapshot. Were a read to come
    first, the later write could fail at once with "database is locked" instead of waiting."""
    locked = s.execute(
        update(Connection)
        .where(Connection.id == connection_id)
        .values(name=Connection.name)
        .execution_options(synchronize_session=False)
    )
    return bool(locked.rowcount)  # type: ignore[attr-defined]


def touch_fetch(desk: Desk, fetch_id: int, at: datetime | None = None) -> None:
    """Say that a running fetch is still going (its process is alive)."""
    with desk.session() as s, s.begin():
        s.execute(
            update(ConnectionFetch)
            .where(ConnectionFetch.id == fetch_id, ConnectionFetch.finished_at.is_(None))
            .values(alive_at=at or utcnow())
        )


def finish_fetch(
    desk: Desk,
    fetch_id: int,
    *,
    finished_at: datetime,
    inserted: int = 0,
    updated: int = 0,
    unchanged: int = 0,
    rejected: int = 0,
    reason: str | None = None,
    error: str | None = None,
) -> ConnectionFetch | None:
    """Complete a fetch started with :func:`start_fetch` and drop all but the connection's last
    :data:`KEEP_FETCHES` completed fetches; None when its connection was deleted meanwhile.

    A fetch another process took for interrupted (its beat was held up too long) gets its true
    outcome here all the same. ``error`` must already be scrubbed of secrets (the caller knows
    them); it is cut to :data:`ERROR_LENGTH` characters."""
    with desk.session() as s, s.begin():
        row = s.get(ConnectionFetch, fetch_id)
        if row is None:
            return None
        row.finished_at = finished_at
        row.alive_at = None
        row.inserted = inserted
        row.updated = updated
        row.unchanged = unchanged
        row.rejected = rejected
        row.reason = reason
        row.error = error[:ERROR_LENGTH] if error else None
        s.flush()
        _prune(s, row.connection_id)
        s.expunge(row)
    return row


def record_fetch(
    desk: Desk,
    connection_id: int,
    *,
    source: str,
    started_at: datetime,
    finished_at: datetime,
    inserted: int = 0,
    updated: int = 0,
    unchanged: int = 0,
    rejected: int = 0,
    reason: str | None = None,
    error: str | None = None,
) -> ConnectionFetch | None:
    """Record a whole fetch at once (:func:`start_fetch` then :func:`finish_fetch`): for a fetch
    whose start could not be recorded. None when the connection no longer exists. The fetch has
    already run, so another one running now does not keep it out of the history."""
    started = start_fetch(desk, connection_id, source=source, started_at=started_at)
    if started is None:
        return None
    return finish_fetch(
        desk,
        started.id,
        finished_at=finished_at,
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        rejected=rejected,
        reason=reason,
        error=error,
    )


def _prune(s: Session, connection_id: int) -> None:
    """Keep a connection's last :data:`KEEP_FETCHES` completed fetches. Running ones are not
    counted and never dropped: they are completed (or found interrupted) later."""
    older = s.scalars(
        select(ConnectionFetch.id)
        .where(
            ConnectionFetch.connection_id == connection_id,
            ConnectionFetch.finished_at.is_not(None),
        )
        .order_by(ConnectionFetch.finished_at.desc(), ConnectionFetch.id.desc())
        .offset(KEEP_FETCHES)
    ).all()
    if older:
        s.execute(delete(ConnectionFetch).where(ConnectionFetch.id.in_(older)))


def is_interrupted(fetch: ConnectionFetch, now: datetime) -> bool:
    """Whether a fetch was left unfinished by a process that died: not touched for
    :data:`INTERRUPTED_AFTER` (a fetch that is slow but alive keeps being touched)."""
    if fetch.finished_at is not None:
        return False
    return now - (fetch.alive_at or fetch.started_at) > INTERRUPTED_AFTER


def recent_fetches(desk: Desk, connection_ids: Iterable[int]) -> dict[int, list[ConnectionFetch]]:
    """The kept fetches of each connection, the last started first (one query for a whole page)."""
    ids = list(connection_ids)
    found: dict[int, list[ConnectionFetch]] = defaultdict(list)
    if not ids:
        return found
    with desk.session() as s:
        rows = s.scalars(
            select(ConnectionFetch)
            .where(ConnectionFetch.connection_id.in_(ids))
            .order_by(ConnectionFetch.started_at.desc(), ConnectionFetch.id.desc())
        )
        for row in rows:
            found[row.connection_id].append(row)
    return found


def update_config(desk: Desk, connection_id: int, **values: Any) -> None:
    with desk.session() as s, s.begin():
        row = s.get(Connection, connection_id)
        if row is not None:
            row.config = {**(row.config or {}), **values}


def token_of(desk: Desk, connection: Connection) -> Secret:
    if not connection.token_encrypted:
        raise ConnectorError(f"{connection.platform} {connection.account_id}: no token stored")
    return TokenBox.from_settings(desk.settings).decrypt(connection.token_encrypted)


def stored_secrets(desk: Desk, connection: Connection) -> list[str]:
    """Every secret a connection's requests may carry (its token, the Meta app secret), to
    scrub them from a platform's error text; those that cannot be decrypted are left out."""
    found = [desk.settings.facebook_app_secret.reveal()]
    for read in (
        lambda: token_of(desk, connection),
        lambda: _stored_secret(desk, connection.config or {}),
    ):
        try:
            secret = read()
        except (TokenKeyError, ConnectorError):
            continue
        if secret:
            found.append(secret.reveal())
    return [secret for secret in found if secret]


def _stored_secret(desk: Desk, config: dict[str, Any]) -> Secret | None:
    """The app secret kept (encrypted) with a connection, when the setting is not given."""
    blob = config.get("app_secret_encrypted")
    if not isinstance(blob, str) or not blob:
        return None
    return TokenBox.from_settings(desk.settings).decrypt(blob.encode("ascii"))


def build_connector(
    desk: Desk, connection: Connection, http: httpx.Client, *, patient: bool = True
) -> Any:
    """A connector object for one stored connection. An impatient one makes a single attempt
    per call, never waiting out a rate limit: for work that must not hold live comments back."""
    retries: dict[str, Any] = {} if patient else {"max_retries": 0}
    # Nor does it wait when the Graph API's usage headers ask for a pause.
    graph_waits: dict[str, Any] = {} if patient else {"max_retries": 0, "max_delay": 0.0}
    token = token_of(desk, connection)
    config = connection.config or {}
    settings = desk.settings
    if connection.platform in ("facebook", "instagram"):
        from crisisdesk.connectors.graph import GraphClient

        graph = GraphClient(
            http,
            token,
            base_url=str(config.get("graph_api_url") or settings.graph_api_url),
            version=str(config.get("graph_api_version") or settings.graph_api_version),
            app_secret=settings.facebook_app_secret or _stored_secret(desk, config) or None,
            **graph_waits,
        )
        if connection.platform == "facebook":
            from crisisdesk.connectors.facebook import FacebookConnector

            return FacebookConnector(graph, connection.account_id, page_name=connection.name)
        from crisisdesk.connectors.instagram import InstagramConnector

        return InstagramConnector(graph, connection.account_id, username=connection.name)
    if connection.platform == "bluesky":
        from crisisdesk.connectors.bluesky import BlueskyConnector

        return BlueskyConnector(
            http,
            identifier=str(config.get("handle") or connection.account_id),
            app_password=token,
            service=str(config.get("service") or "https://bsky.social"),
            did=connection.account_id,
            **retries,
        )
    if connection.platform == "mastodon":
        from crisisdesk.connectors.mastodon import MastodonConnector

        base_url = config.get("base_url")
        if not base_url:
            raise ConnectorError(f"mastodon {connection.account_id}: no base_url in its config")
        return MastodonConnector(
            http,
            base_url=str(base_url),
            token=token,
            account_id=connection.account_id,
            **retries,
        )
    raise ConnectorError(f"unknown platform {connection.platform!r}")


_clients: weakref.WeakKeyDictionary[Any, httpx.Client] = weakref.WeakKeyDictionary()
_clients_lock = threading.Lock()


def shared_http(desk: Desk) -> httpx.Client:
    """One HTTP client per desk, reused by all its connectors (connection pooling)."""
    with _clients_lock:
        client = _clients.get(desk)
        if client is None or client.is_closed:
            client = new_http_client()
            _clients[desk] = client
        return client


def close_connectors(desk: Desk) -> None:
    with _clients_lock:
        client = _clients.pop(desk, None)
    if client is not None:
        client.close()
    desk.connectors.clear()


def install_connection(desk: Desk, connection: Connection) -> bool:
    """Install one connection's connector (replacing the one it had); False, and logged, when
    it cannot be built, as :func:`install_connectors` does."""
    try:
        connector = build_connector(desk, connection, shared_http(desk))
    except (TokenKeyError, ConnectorError) as exc:
        log.error(
            "connection %s %s not installed: %s", connection.platform, connection.account_id, exc
        )
        return False
    desk.connectors[(connection.platform, connection.account_id)] = connector
    return True


def install_connectors(desk: Desk, http: httpx.Client | None = None) -> int:
    """Fill ``desk.connectors`` from the stored connections; returns how many were installed.

    A connection that cannot be built (no key, a key that does not fit, a bad config) is logged
    and skipped: the desk still works for that page, by hand.
    """
    connections = load_connections(desk)
    if not connections:
        return 0
    client = http or shared_http(desk)
    installed = 0
    for connection in connections:
        try:
            connector = build_connector(desk, connection, client)
        except (TokenKeyError, ConnectorError) as exc:
            log.error(
                "connection %s %s not installed: %s",
                connection.platform,
                connection.account_id,
                exc,
            )
            continue
        desk.connectors[(connection.platform, connection.account_id)] = connector
        installed += 1
    return installed
