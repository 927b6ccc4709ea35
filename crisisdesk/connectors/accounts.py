"""Connecting, disconnecting and fetching platform accounts: what `crisisdesk connect`, `sync`
and the web Connections page share, so both check an account the same way before storing it.

Each ``connect_*`` function first makes sure the token key is there (a token that could not be
stored is not worth sending anywhere), then asks the platform who the token speaks for, and only
then saves it, encrypted, through :func:`~crisisdesk.connectors.store.save_connection`. A refusal
raises :class:`ConnectRefused`: its ``reason`` is a short code the web app translates, its
message the English sentence the CLI prints. Secrets go in and get stored; they never come back
out in a message, a log line or an audit entry. A platform's own error text is scrubbed of them
before it is kept, in case it quotes what it was sent.

Fetching one account (:func:`sync_connection`) is the loop body of `crisisdesk sync`;
:class:`FetchJobs` runs it on a thread of its own for the web page's "fetch now", so the request
returns at once and the page reads the outcome when it is there, the way the webhook processor
keeps analysis off the request path. Every fetch, from either, is claimed when it starts
(:func:`claim_fetch`: recorded as running unless another fetch of the account is, in one step,
so two processes starting together make one fetch), kept alive by a beat while it runs and
completed when it ends (crashed ones too), so the page and `crisisdesk connections` can say that
an account is being fetched, and by whom, when it was last read, from where and how it went, and
warn when it has not worked for a while (:func:`fetch_health`). A fetch whose process died shows
as interrupted once its beat has stopped for
:data:`~crisisdesk.connectors.store.INTERRUPTED_AFTER`, and no longer holds "fetch now" back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from crisisdesk.connectors import (
    ConnectorError,
    PerDesk,
    PermissionMissing,
    RateLimited,
    TokenExpired,
    store,
)
from crisisdesk.connectors.posts import post_details_for
from crisisdesk.connectors.secrets import TokenBox, TokenKeyError
from crisisdesk.connectors.store import (
    INTERRUPTED,
    FetchRunning,
    build_connector,
    connection_by_id,
    finish_fetch,
    is_interrupted,
    new_http_client,
    recent_fetches,
    record_fetch,
    save_connection,
    save_cursor,
    start_fetch,
    stored_secrets,
    touch_fetch,
)
from crisisdesk.models import Connection, ConnectionFetch, utcnow

if TYPE_CHECKING:
    from crisisdesk.connectors.graph import GraphClient
    from crisisdesk.desk import Desk, ImportReport
    from crisisdesk.settings import Secret

log = logging.getLogger(__name__)

#: Why a connection or a fetch was refused: the token key is missing, the platform says the token
#: expired or was revoked, the token lacks a permission, the platform kept rate limiting the
#: calls, the token speaks for another account, the form was incomplete, a server address is not
#: a web address, the platform refused for another reason (unreachable, unknown id...), the
#: desk itself failed (``internal``: a bug, the store refusing a write; the log has the details),
#: or the process fetching stopped before the fetch ended (``interrupted``: killed, out of memory,
#: a deploy, Ctrl+C).
REASONS = (
    "no_key",
    "expired",
    "permission",
    "rate_limited",
    "wrong_account",
    "bad_input",
    "bad_address",
    "refused",
    "internal",
    INTERRUPTED,
)

#: The Connections page warns when no fetch of an account has worked for this long...
STALE_AFTER = timedelta(hours=24)
#: ... or when this many fetches in a row have failed.
FAILURES_IN_A_ROW = 3

SCRUBBED = "[hidden]"


class ConnectRefused(Exception):
    """The account was not connected; nothing was stored."""

    def __init__(self, reason: str, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.reason = reason if reason in REASONS else "refused"
        # The platform's own words (already scrubbed of secrets), for the person who must fix it.
        self.detail = detail


@dataclass
class Connected:
    """What a successful connect stored (no token in here)."""

    platform: str
    account_id: str
    name: str
    #: Who the token speaks for, as the platform says (Facebook's ``/me``).
    speaker: str | None = None
    #: Permissions the desk needs that the token was not granted (Facebook).
    missing: list[str] = field(default_factory=list)


def scrub(text: str, *secrets: str) -> str:
    """``text`` without any of ``secrets`` in it.

    >>> scrub("bad token EAAB123 for page 1", "EAAB123", "")
    'bad token [hidden] for page 1'
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, SCRUBBED)
    return text


def web_address(value: str, what: str) -> str:
    """A server's address as typed, checked: only ``http(s)://host[/path]``, without the
    trailing slash; anything else is refused before a token is sent there.

    >>> web_address(" https://mastodon.social/ ", "server")
    'https://mastodon.social'
    >>> web_address("mastodon.social", "server")
    Traceback (most recent call last):
      ...
    crisisdesk.connectors.accounts.ConnectRefused: the server address must start with https://
    """
    text = value.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConnectRefused("bad_address", f"the {what} address must start with https://")
    return text


def require_token_key(desk: Desk) -> None:
    """Refuse early when tokens could not be stored (no key, or a malformed one)."""
    try:
        TokenBox.from_settings(desk.settings)
    except TokenKeyError as exc:
        raise ConnectRefused("no_key", str(exc)) from None


def _required(**fields: str) -> None:
    for name, value in fields.items():
        if not value.strip():
            raise ConnectRefused("bad_input", f"{name.replace('_', ' ')} is needed")


def _refused(exc: ConnectorError, prefix: str, *secrets: str) -> ConnectRefused:
    text = scrub(str(exc), *secrets)
    if isinstance(exc, TokenExpired):
        reason = "expired"
    elif isinstance(exc, PermissionMissing):
        reason = "permission"
    elif isinstance(exc, RateLimited):
        reason = "rate_limited"
    else:
        reason = "refused"
    return ConnectRefused(reason, prefix + text, detail=text)


@contextmanager
def _client(http: httpx.Client | None) -> Iterator[httpx.Client]:
    if http is not None:
        yield http
        return
    with new_http_client() as client:
        yield client


def _check_client(
    desk: Desk, client: httpx.Client, token: str, app_secret: Secret | str | None
) -> GraphClient:
    """A Graph API client for checking a token before it is stored: few retries, so a refusal
    comes back while the person waits."""
    from crisisdesk.connectors.graph import GraphClient

    return GraphClient(
        client,
        token,
        base_url=desk.settings.graph_api_url,
        version=desk.settings.graph_api_version,
        app_secret=app_secret or None,
        max_retries=2,
    )


def connect_facebook(
    desk: Desk,
    page_id: str,
    page_token: str,
    *,
    app_id: str = "",
    app_secret: str = "",
    http: httpx.Client | None = None,
    actor: str = "cli",
    user_id: int | None = None,
) -> Connected:
    """Check a page token (``GET /me``, ``/{page-id}``, ``/me/permissions``), then store it.

    ``app_secret`` defaults to ``CRISISDESK_FACEBOOK_APP_SECRET``; one given here is kept,
    encrypted, with the connection, for ``appsecret_proof``.
    """
    from crisisdesk.connectors.facebook import FacebookConnector

    page_id = page_id.strip()
    _required(page_id=page_id, page_access_token=page_token)
    require_token_key(desk)
    secret = app_secret or desk.settings.facebook_app_secret.reveal()
    with _client(http) as client:
        graph = _check_client(desk, client, page_token, secret)
        try:
            checked = FacebookConnector(graph, page_id).check()
        except ConnectorError as exc:
            raise _refused(exc, "the token was not accepted: ", page_token, secret) from None
    page = checked["page"]
    if str(page.get("id")) != page_id:
        raise ConnectRefused(
            "wrong_account", f"the Graph API answered for page {page.get('id')}, not {page_id}"
        )
    name = str(page.get("name") or page_id)
    save_connection(
        desk,
        "facebook",
        page_id,
        token=page_token,
        name=name,
        config={
            "app_id": app_id.strip(),
            "granted": checked["granted"],
            # Kept encrypted, for appsecret_proof when CRISISDESK_FACEBOOK_APP_SECRET is unset.
            **({"app_secret_encrypted": _encrypt(desk, secret)} if secret else {}),
        },
        actor=actor,
        user_id=user_id,
    )
    return Connected(
        "facebook",
        page_id,
        name,
        speaker=str(checked["me"].get("name") or "") or None,
        missing=list(checked["missing"]),
    )


def _encrypt(desk: Desk, value: str) -> str:
    return TokenBox.from_settings(desk.settings).encrypt(value).decode("ascii")


def connect_instagram(
    desk: Desk,
    account_id: str,
    token: str,
    *,
    http: httpx.Client | None = None,
    actor: str = "cli",
    user_id: int | None = None,
) -> Connected:
    """Check a token on an Instagram professional account (``GET /{account-id}``), then store it."""
    from crisisdesk.connectors.instagram import InstagramConnector

    account_id = account_id.strip()
    _required(account_id=account_id, access_token=token)
    require_token_key(desk)
    app_secret = desk.settings.facebook_app_secret
    with _client(http) as client:
        graph = _check_client(desk, client, token, app_secret)
        try:
            account = InstagramConnector(graph, account_id).check()["account"]
        except ConnectorError as exc:
            raise _refused(exc, "the token was not accepted: ", token) from None
    name = str(account.get("username") or account_id)
    save_connection(
        desk, "instagram", account_id, token=token, name=name, actor=actor, user_id=user_id
    )
    return Connected("instagram", account_id, name)


def connect_bluesky(
    desk: Desk,
    handle: str,
    app_password: str,
    *,
    service: str = "https://bsky.social",
    http: httpx.Client | None = None,
    actor: str = "cli",
    user_id: int | None = None,
) -> Connected:
    """Sign in with an app password (``createSession``), then store it."""
    from crisisdesk.connectors.bluesky import BlueskyConnector

    handle = handle.strip().removeprefix("@")
    _required(handle=handle, app_password=app_password)
    service = web_address(service, "server")
    require_token_key(desk)
    with _client(http) as client:
        try:
            session = BlueskyConnector(
                client, identifier=handle, app_password=app_password, service=service
            ).login()
        except ConnectorError as exc:
            raise _refused(exc, "", app_password) from None
    name = str(session["handle"])
    save_connection(
        desk,
        "bluesky",
        str(session["did"]),
        token=app_password,
        name=name,
        config={"handle": session["handle"], "service": service},
        actor=actor,
        user_id=user_id,
    )
    return Connected("bluesky", str(session["did"]), name)


def connect_mastodon(
    desk: Desk,
    base_url: str,
    token: str,
    *,
    http: httpx.Client | None = None,
    actor: str = "cli",
    user_id: int | None = None,
) -> Connected:
    """Check an access token (``verify_credentials``), then store it."""
    from crisisdesk.connectors.mastodon import MastodonConnector

    _required(server_url=base_url, access_token=token)
    base_url = web_address(base_url, "server")
    require_token_key(desk)
    with _client(http) as client:
        try:
            account = MastodonConnector(client, base_url=base_url, token=token).verify()
        except ConnectorError as exc:
            raise _refused(exc, "", token) from None
    account_id = str(account["id"])
    name = str(account.get("acct") or account_id)
    save_connection(
        desk,
        "mastodon",
        account_id,
        token=token,
        name=name,
        config={"base_url": base_url, "acct": account.get("acct")},
        actor=actor,
        user_id=user_id,
    )
    return Connected("mastodon", account_id, name)


# -- fetching -----------------------------------------------------------------------------


@dataclass
class SyncOutcome:
    """What fetching one account did: the import counts, or why it failed."""

    platform: str
    account_id: str
    label: str
    report: ImportReport
    #: ``no_key``, ``expired``, ``permission``, ``rate_limited`` or ``refused`` when the fetch
    #: failed; None when it worked.
    reason: str | None = None
    error: str | None = None
    #: The fetch of the account that was already running (from here or another process) when
    #: this one was to start: this one did not start, asked the platform nothing and recorded
    #: nothing. Not a failure: the other fetch is reading the account.
    running: ConnectionFetch | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class FetchClaim:
    """A fetch this process may run: no other fetch of its connection was running when it was
    claimed. Its start is recorded as ``fetch_id``; None when that record could not be written
    (the fetch then runs all the same and is recorded whole when it ends) or when the connection
    no longer exists."""

    started_at: datetime
    fetch_id: int | None


def claim_fetch(desk: Desk, connection_id: int, *, source: str, label: str) -> FetchClaim:
    """Record that a fetch of a connection starts, from ``source``, unless another one is running;
    then :class:`~crisisdesk.connectors.store.FetchRunning` is raised, naming it.

    The look and the record are one step (:func:`~crisisdesk.connectors.store.start_fetch` with
    ``alone``), so two processes that start at the same instant (two `sync` runs from cron, a
    `sync` and "Fetch now") do not both read the account. A store that cannot take the record is
    logged, under ``label``, and does not stop the fetch: the account is still worth reading."""
    started_at = utcnow()
    try:
        row = start_fetch(desk, connection_id, source=source, started_at=started_at, alone=True)
    except FetchRunning:
        raise
    except Exception:
        log.exception("the start of the fetch of %s could not be recorded", label)
        return FetchClaim(started_at, None)
    return FetchClaim(started_at, row.id if row is not None else None)


Tap = Callable[[Iterable[Any]], Iterable[Any]]


def sync_connection(
    desk: Desk,
    connection: Connection,
    http: httpx.Client,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    lookback: timedelta | None = None,
    tap: Callable[[str], Tap] | None = None,
    source: str = "cli",
    claim: FetchClaim | None = None,
) -> SyncOutcome:
    """Fetch one account's comments through ``Desk.ingest``, as an import
    (:meth:`~crisisdesk.desk.Desk.importing_history`): a backfill of the comments written
    between ``since`` and ``until`` for Facebook and Instagram (on posts up to ``lookback`` older;
    None for every post), the new replies and mentions since the stored cursor for Bluesky and
    Mastodon. ``tap(label)`` may wrap the records (the CLI's progress line).

    The fetch is first claimed (:func:`claim_fetch`), unless the caller already did (``claim``):
    when another fetch of the account is running, nothing is fetched and the outcome names that
    fetch (``running``).

    A refusal by the platform, or a token that cannot be decrypted, is an outcome, not an
    exception: the caller goes on with the next account. Either way the fetch is recorded, from
    its start, with ``source`` (``cli`` or ``web``) saying where it was started; a fetch that
    raises is recorded as ``internal`` (the details go to the log, where a traceback belongs, not
    to a page) and one stopped by Ctrl+C or the process exiting as ``interrupted``, before the
    exception goes on to the caller.
    """
    from crisisdesk.desk import ImportReport

    label = f"{connection.platform} {connection.name or connection.account_id}"
    report = ImportReport()
    if claim is None:
        try:
            claim = claim_fetch(
                desk,
                connection.id,
                source=source,
                label=f"{connection.platform} {connection.account_id}",
            )
        except FetchRunning as busy:
            return SyncOutcome(
                connection.platform, connection.account_id, label, report, running=busy.running
            )
    started_at, fetch_id = claim.started_at, claim.fetch_id
    try:
        with _heartbeat(desk, fetch_id):
            reason, error = _fetch(
                desk, connection, http, report, since, until, lookback, tap, label
            )
    except Exception:
        # What was ingested before the crash stays in the store: its counts are true.
        _record(desk, connection, source, started_at, fetch_id, report, "internal", None)
        raise
    except BaseException:
        # Ctrl+C or the process exiting: said now rather than left for the beat to go quiet.
        _record(desk, connection, source, started_at, fetch_id, report, INTERRUPTED, None)
        raise
    _record(desk, connection, source, started_at, fetch_id, report, reason, error)
    return SyncOutcome(connection.platform, connection.account_id, label, report, reason, error)


@contextmanager
def _heartbeat(desk: Desk, fetch_id: int | None) -> Iterator[None]:
    """Touch a running fetch's row every :data:`~crisisdesk.connectors.store.HEARTBEAT_EVERY`
    seconds, from a thread of its own, for as long as the fetch runs: the row stops being touched
    only when the process stops, which is how other processes tell a dead fetch from a slow one."""
    if fetch_id is None:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(store.HEARTBEAT_EVERY):
            try:
                touch_fetch(desk, fetch_id)
            except Exception as exc:  # a busy or unreachable store: the next beat may get through
                log.warning("fetch %s: could not say it is still running: %s", fetch_id, exc)

    thread = threading.Thread(target=beat, name=f"fetch-beat-{fetch_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _fetch(
    desk: Desk,
    connection: Connection,
    http: httpx.Client,
    report: ImportReport,
    since: datetime | None,
    until: datetime | None,
    lookback: timedelta | None,
    tap: Callable[[str], Tap] | None,
    label: str,
) -> tuple[str | None, str | None]:
    """The fetch itself, into ``report``; returns the refusal's reason and message, or Nones."""
    wrap: Tap = tap(label) if tap is not None else (lambda items: items)
    try:
        connector = build_connector(desk, connection, http)
        # Platforms list comments newest first (Facebook's comments in reverse_chronological
        # order, post after post; Instagram; a poll's new replies), so a fetch is history out of
        # order, settled like a file import when it ends, whether it ends well or not.
        with desk.importing_history():
            if connection.platform in ("facebook", "instagram"):
                connector.posts_lookback = lookback
                desk.ingest(wrap(connector.backfill(since, until)), report)
            else:
                records, cursor = connector.poll(connection.cursor)
                # Notifications name the post replied to by id only.
                post_details_for(desk).fill(records, connector)
                desk.ingest(wrap(records), report)
                save_cursor(desk, connection.id, cursor)
    except TokenKeyError as exc:
        return "no_key", str(exc)
    except ConnectorError as exc:
        refused = _refused(exc, "", *stored_secrets(desk, connection))
        return refused.reason, str(refused)
    return None, None


def _record(
    desk: Desk,
    connection: Connection,
    source: str,
    started_at: datetime,
    fetch_id: int | None,
    report: ImportReport,
    reason: str | None,
    error: str | None,
) -> None:
    """Complete the record of a fetch (or write it whole, when its start could not be). A record
    that cannot be written is logged, not raised: the fetch itself is over, and its outcome still
    reaches whoever started it."""
    outcome: dict[str, Any] = {
        "finished_at": utcnow(),
        "inserted": report.inserted,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": len(report.rejected),
        "reason": reason,
        # Scrubbed again here, whatever produced the text, so no secret reaches the table.
        "error": scrub(error, *stored_secrets(desk, connection)) if error else None,
    }
    try:
        if fetch_id is not None:
            finish_fetch(desk, fetch_id, **outcome)
        else:
            record_fetch(desk, connection.id, source=source, started_at=started_at, **outcome)
    except Exception:
        log.exception(
            "the fetch of %s %s could not be recorded", connection.platform, connection.account_id
        )


@dataclass
class FetchStatus:
    """One fetch as the pages show it: a "fetch now" running in this process, or a recorded fetch
    (from either source, this process or another): running, or how it went."""

    connection_id: int
    started_at: datetime
    finished_at: datetime | None = None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    reason: str | None = None
    error: str | None = None
    #: ``cli`` or ``web``: where the fetch was started.
    source: str = "web"

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @classmethod
    def of(cls, fetch: ConnectionFetch, now: datetime | None = None) -> FetchStatus:
        """A recorded fetch as seen at ``now``: one left unfinished by a process that died is
        over, :data:`~crisisdesk.connectors.store.INTERRUPTED`, as of its last sign of life."""
        finished_at, reason = fetch.finished_at, fetch.reason
        if is_interrupted(fetch, now or utcnow()):
            finished_at, reason = fetch.alive_at or fetch.started_at, INTERRUPTED
        return cls(
            fetch.connection_id,
            started_at=fetch.started_at,
            finished_at=finished_at,
            inserted=fetch.inserted,
            updated=fetch.updated,
            unchanged=fetch.unchanged,
            rejected=fetch.rejected,
            reason=reason,
            error=fetch.error,
            source=fetch.source,
        )


@dataclass(frozen=True)
class FetchHealth:
    """What the recorded fetches of one connection say: the last one (the one running, if any),
    the last that worked, and what deserves a warning (``stale``: none worked for
    :data:`STALE_AFTER`; ``failing``: the last :data:`FAILURES_IN_A_ROW` or more all failed)."""

    last: FetchStatus | None = None
    last_ok_at: datetime | None = None
    failures_in_a_row: int = 0
    warnings: tuple[str, ...] = ()


def fetch_health(fetches: list[ConnectionFetch], now: datetime) -> FetchHealth:
    """Judge a connection's recorded fetches (the last started first) at ``now``.

    An account never fetched gets no warning: with webhooks, fetching is optional. One whose
    fetches never worked is stale once the oldest kept attempt is :data:`STALE_AFTER` old. A
    fetch still running has not failed nor worked yet; an interrupted one failed.
    """
    statuses = [FetchStatus.of(f, now) for f in fetches]
    if not statuses:
        return FetchHealth()
    # While one runs it is what the page shows, even if another, started later, ended first.
    last = next((f for f in statuses if f.running), statuses[0])
    ended = [f for f in statuses if not f.running]
    ok = next((f for f in ended if f.reason is None), None)
    failures = next((i for i, f in enumerate(ended) if f.reason is None), len(ended))
    warnings = []
    if ended:
        since = ok.finished_at if ok is not None else ended[-1].started_at
        if since is not None and now - since > STALE_AFTER:
            warnings.append("stale")
    if failures >= FAILURES_IN_A_ROW:
        warnings.append("failing")
    return FetchHealth(
        last=last,
        last_ok_at=ok.finished_at if ok is not None else None,
        failures_in_a_row=failures,
        warnings=tuple(warnings),
    )


def fetch_healths(
    desk: Desk, connection_ids: Iterable[int], now: datetime | None = None
) -> dict[int, FetchHealth]:
    """:func:`fetch_health` of each connection, from the table, at ``now`` (the wall clock: a
    fetch is recorded at the time it really ran)."""
    ids = list(connection_ids)
    recent = recent_fetches(desk, ids)
    moment = now or utcnow()
    return {i: fetch_health(recent.get(i, []), moment) for i in ids}


class FetchJobs:
    """ "Fetch now" for the web app: each fetch on a thread of its own, one at a time per
    connection, whichever process runs it. The fetch is claimed on the click, before its thread
    starts (so the page can say at once when another one holds the account), and kept in memory
    too; its outcome is recorded like a `sync`'s, and the page reads it back from the table,
    where a fetch running in another process (a `sync` from cron, another web worker) shows too
    and a record outlives a restart."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._lock = threading.Lock()
        self._threads: dict[int, threading.Thread] = {}
        #: Connections whose fetch is being claimed right now, outside the lock: the claim may
        #: wait for the store, and the page's reads of ``_status`` must not wait with it.
        self._claiming: set[int] = set()
        self._status: dict[int, FetchStatus] = {}
        #: An ``httpx.Client`` to use instead of a fresh one per fetch (tests inject one).
        self.http: httpx.Client | None = None

    def start(
        self,
        connection_id: int,
        *,
        since: datetime | None = None,
        lookback: timedelta | None = None,
    ) -> bool:
        """Start fetching one connection; False when it is already being fetched, here or by
        another process (one whose fetch was interrupted does not count).

        The fetch is claimed here, in the caller's thread, as one step with the look for another
        (:func:`claim_fetch`): two clicks in two web workers, or a click while a `sync` from
        cron starts, make one fetch. The look in memory only spares the store a second click."""
        with self._lock:
            thread = self._threads.get(connection_id)
            if (thread is not None and thread.is_alive()) or connection_id in self._claiming:
                return False
            self._claiming.add(connection_id)
        try:
            claim = claim_fetch(
                self.desk, connection_id, source="web", label=f"connection {connection_id}"
            )
        except FetchRunning:
            return False
        finally:
            with self._lock:
                self._claiming.discard(connection_id)
        with self._lock:
            self._status[connection_id] = FetchStatus(connection_id, started_at=claim.started_at)
            thread = threading.Thread(
                target=self._run,
                args=(connection_id, claim, since, lookback),
                name=f"fetch-connection-{connection_id}",
                daemon=True,
            )
            self._threads[connection_id] = thread
        thread.start()
        return True

    def status(self, connection_id: int) -> FetchStatus | None:
        """The fetch running here, else the last one recorded (from here, another process or
        the command line), else the outcome kept in memory (when it could not be recorded)."""
        return self.health(connection_id).last

    def health(self, connection_id: int) -> FetchHealth:
        return self.healths([connection_id])[connection_id]

    def healths(self, connection_ids: Iterable[int]) -> dict[int, FetchHealth]:
        """:func:`fetch_healths`, with ``last`` the fetch running here while it runs."""
        ids = list(connection_ids)
        found = fetch_healths(self.desk, ids)
        with self._lock:
            kept = {i: self._status[i] for i in ids if i in self._status}
        for i, status in kept.items():
            health = found[i]
            # A fetch started here is recorded with the start it was claimed with; when the
            # table holds none that late, its record could not be written.
            unrecorded = health.last is None or health.last.started_at < status.started_at
            if status.running or unrecorded:
                found[i] = FetchHealth(
                    status, health.last_ok_at, health.failures_in_a_row, health.warnings
                )
        return found

    def forget(self, connection_id: int) -> None:
        """Drop the outcome of a connection (it was disconnected)."""
        with self._lock:
            self._status.pop(connection_id, None)

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait for the fetches running now; True when all of them ended in time."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in threads)

    def _run(
        self,
        connection_id: int,
        claim: FetchClaim,
        since: datetime | None,
        lookback: timedelta | None,
    ) -> None:
        status = FetchStatus(connection_id, started_at=claim.started_at)
        handed = False  # whether sync_connection took the claimed fetch over, to complete it
        try:
            connection = connection_by_id(self.desk, connection_id)
            if connection is None:
                status.reason, status.error = "refused", "the connection no longer exists"
            else:
                with _client(self.http) as client:
                    handed = True
                    outcome = sync_connection(
                        self.desk,
                        connection,
                        client,
                        since=since,
                        lookback=lookback,
                        source="web",
                        claim=claim,
                    )
                status.inserted = outcome.report.inserted
                status.updated = outcome.report.updated
                status.unchanged = outcome.report.unchanged
                status.rejected = len(outcome.report.rejected)
                status.reason, status.error = outcome.reason, outcome.error
                if outcome.error:
                    log.warning("fetching %s failed: %s", outcome.label, outcome.error)
        except Exception:  # a thread's exception would vanish: say it, and show it on the page
            log.exception("fetching connection %s failed", connection_id)
            status.reason, status.error = "internal", None
        status.finished_at = utcnow()
        if not handed and claim.fetch_id is not None:
            # Claimed but never fetched: completed now, rather than holding the account until
            # its silence reads as interrupted.
            try:
                finish_fetch(
                    self.desk,
                    claim.fetch_id,
                    finished_at=status.finished_at,
                    reason=status.reason or "internal",
                )
            except Exception:
                log.exception("the fetch of connection %s could not be recorded", connection_id)
        with self._lock:
            status.started_at = self._status.get(connection_id, status).started_at
            self._status[connection_id] = status


#: The one :class:`FetchJobs` of a desk (made on first use).
fetch_jobs_for: PerDesk[FetchJobs] = PerDesk(FetchJobs)
