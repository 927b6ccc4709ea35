"""Every fetch of a connection leaves a record from its start: running while it runs, then what it
brought in or why it failed, where it was started, and nothing secret; one whose process died is
interrupted; the last 20 are kept, and they go with the connection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import select

from crisisdesk.connectors import RateLimited, store
from crisisdesk.connectors.accounts import (
    FetchJobs,
    SyncOutcome,
    fetch_healths,
    sync_connection,
)
from crisisdesk.connectors.store import (
    INTERRUPTED_AFTER,
    KEEP_FETCHES,
    FetchRunning,
    connection_by_id,
    delete_connection,
    finish_fetch,
    recent_fetches,
    record_fetch,
    save_connection,
    start_fetch,
    touch_fetch,
)
from crisisdesk.desk import Desk
from crisisdesk.models import Connection, ConnectionFetch, utcnow
from tests.conftest import KeywordAnalyzer
from tests.connectors.conftest import APP_SECRET, Answer, FakePlatform, Seen
from tests.connectors.test_facebook import TOKEN, V, _err, serve_page

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
T = TypeVar("T")


def _connection(desk: Desk) -> Connection:
    saved = save_connection(desk, "facebook", "100", token=TOKEN, name="Shop")
    connection = connection_by_id(desk, saved.id)
    assert connection is not None
    return connection


def _fetches(desk: Desk, connection_id: int) -> list[ConnectionFetch]:
    return recent_fetches(desk, [connection_id]).get(connection_id, [])


def _record(desk: Desk, connection_id: int, hours_ago: float, reason: str | None = None) -> None:
    at = NOW - timedelta(hours=hours_ago)
    record_fetch(
        desk,
        connection_id,
        source="cli",
        started_at=at - timedelta(seconds=5),
        finished_at=at,
        inserted=1,
        reason=reason,
        error="Session has expired" if reason else None,
    )


def test_a_fetch_that_works_is_recorded_with_its_counts_and_source(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client
) -> None:
    serve_page(platform)
    connection = _connection(cdesk)
    before = datetime.now(UTC)
    # the whole page: four comments on two posts
    sync_connection(cdesk, connection, http, source="web")
    sync_connection(cdesk, connection, http)
    again, first = _fetches(cdesk, connection.id)
    counts = (first.inserted, first.updated, first.unchanged, first.rejected)
    assert first.source == "web" and counts == (4, 0, 0, 0)
    assert (again.source, again.inserted, again.unchanged) == ("cli", 0, 4)
    assert first.reason is None and first.error is None
    assert before <= first.started_at <= first.finished_at <= again.started_at


def test_a_refusal_is_recorded_with_its_reason_and_without_any_secret(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client
) -> None:
    # The platform quotes what it was sent: the token and the app secret must not be kept.
    message = f"Error validating access token {TOKEN} (app secret {APP_SECRET})"
    platform.add("GET", f"{V}/100/posts", (400, _err(190, message), {}))
    connection = _connection(cdesk)
    outcome = sync_connection(cdesk, connection, http)
    assert outcome.reason == "expired"
    (fetch,) = _fetches(cdesk, connection.id)
    assert fetch.reason == "expired"
    assert fetch.error is not None and "[hidden]" in fetch.error
    with cdesk.session() as s:
        stored = repr(s.execute(select(ConnectionFetch.__table__)).all())
    assert TOKEN not in stored and APP_SECRET not in stored


def test_a_fetch_that_crashes_is_recorded_then_raised(
    cdesk: Desk, monkeypatch: pytest.MonkeyPatch, http: httpx.Client
) -> None:
    connection = _connection(cdesk)

    def crash(*args: object) -> None:
        raise RuntimeError(f"bug while holding {TOKEN}")

    monkeypatch.setattr("crisisdesk.connectors.accounts.build_connector", crash)
    with pytest.raises(RuntimeError):
        sync_connection(cdesk, connection, http, source="web")
    (fetch,) = _fetches(cdesk, connection.id)
    assert (fetch.source, fetch.reason, fetch.error) == ("web", "internal", None)


def test_fetch_now_that_crashes_is_recorded_and_shown_as_internal(
    cdesk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = _connection(cdesk)

    def crash(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("crisisdesk.connectors.accounts.build_connector", crash)
    jobs = FetchJobs(cdesk)
    assert jobs.start(connection.id) and jobs.wait(20)
    status = jobs.status(connection.id)
    assert status is not None and not status.running
    assert (status.source, status.reason, status.error) == ("web", "internal", None)
    # Read back from the table: another process (a restarted server) sees the same.
    last = FetchJobs(cdesk).status(connection.id)
    assert last is not None and (last.reason, last.source) == ("internal", "web")


def test_fetch_now_claimed_but_never_run_does_not_hold_the_account(
    cdesk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The click claims the fetch; when its thread fails before the fetch begins, the claim is
    completed there, not left to hold "Fetch now" back until it reads as interrupted."""
    connection = _connection(cdesk)

    def unreadable(*args: object) -> None:
        raise RuntimeError("the store went away")

    monkeypatch.setattr("crisisdesk.connectors.accounts.connection_by_id", unreadable)
    jobs = FetchJobs(cdesk)
    assert jobs.start(connection.id) and jobs.wait(20)
    (fetch,) = _fetches(cdesk, connection.id)
    assert (fetch.source, fetch.reason) == ("web", "internal") and fetch.finished_at is not None
    assert jobs.start(connection.id) and jobs.wait(20)


def test_a_rate_limit_is_a_reason_of_its_own(
    cdesk: Desk, monkeypatch: pytest.MonkeyPatch, http: httpx.Client
) -> None:
    connection = _connection(cdesk)

    def limited(*args: object) -> None:
        raise RateLimited("the Graph API is rate limiting /100/posts (code 4)")

    monkeypatch.setattr("crisisdesk.connectors.accounts.build_connector", limited)
    assert sync_connection(cdesk, connection, http).reason == "rate_limited"
    assert [f.reason for f in _fetches(cdesk, connection.id)] == ["rate_limited"]


def test_only_the_last_fetches_are_kept(cdesk: Desk) -> None:
    connection = _connection(cdesk)
    other = save_connection(cdesk, "facebook", "200", token=TOKEN, name="Other")
    _record(cdesk, other.id, hours_ago=100)
    for n in range(KEEP_FETCHES + 5):
        _record(cdesk, connection.id, hours_ago=KEEP_FETCHES + 5 - n)
    kept = _fetches(cdesk, connection.id)
    assert KEEP_FETCHES == 20 and len(kept) == 20
    # the newest stay, newest first
    assert kept[0].finished_at == NOW - timedelta(hours=1)
    assert kept[-1].finished_at == NOW - timedelta(hours=20)
    # another connection's records are not pruned with these
    assert len(_fetches(cdesk, other.id)) == 1


def test_deleting_a_connection_deletes_its_fetches(cdesk: Desk) -> None:
    connection = _connection(cdesk)
    other = save_connection(cdesk, "facebook", "200", token=TOKEN, name="Other")
    _record(cdesk, connection.id, hours_ago=2)
    _record(cdesk, other.id, hours_ago=2)
    assert delete_connection(cdesk, "facebook", "100")
    with cdesk.session() as s:
        left = s.scalars(select(ConnectionFetch.connection_id)).all()
    assert left == [other.id]
    # a fetch that ends after its connection was deleted records nothing
    _record(cdesk, connection.id, hours_ago=0)
    assert _fetches(cdesk, connection.id) == []


def test_the_foreign_key_cascades_on_each_backend(backend_desk: Desk) -> None:
    with backend_desk.session() as s, s.begin():
        connection = Connection(platform="mastodon", account_id="1", name="shop", config={})
        s.add(connection)
        s.flush()
        connection_id = connection.id
    for n in range(KEEP_FETCHES + 2):
        _record(backend_desk, connection_id, hours_ago=30 - n)
    assert len(_fetches(backend_desk, connection_id)) == KEEP_FETCHES
    # a plain DELETE, without delete_connection's explicit clean-up: the database cascades
    with backend_desk.session() as s, s.begin():
        s.execute(Connection.__table__.delete().where(Connection.id == connection_id))
    with backend_desk.session() as s:
        assert s.scalars(select(ConnectionFetch)).all() == []


@pytest.mark.parametrize(
    ("history", "warnings"),
    [
        # (hours ago, failed?), newest first
        ([], ()),
        ([(1, False)], ()),
        ([(23, False)], ()),
        ([(25, False)], ("stale",)),
        ([(1, True), (2, True), (25, False)], ("stale",)),
        ([(1, True), (2, True), (3, True), (4, False)], ("failing",)),
        ([(1, True), (2, True), (3, True), (30, False)], ("stale", "failing")),
        ([(1, False), (2, True), (3, True), (4, True), (30, False)], ()),
        # never worked: stale once the first attempt kept is a day old
        ([(1, True)], ()),
        ([(1, True), (26, True)], ("stale",)),
    ],
)
def test_warnings_when_fetching_has_not_worked_for_a_day_or_failed_three_times(
    cdesk: Desk, history: list[tuple[float, bool]], warnings: tuple[str, ...]
) -> None:
    connection = _connection(cdesk)
    for hours, failed in reversed(history):
        _record(cdesk, connection.id, hours, "expired" if failed else None)
    health = fetch_healths(cdesk, [connection.id], now=NOW)[connection.id]
    assert health.warnings == warnings
    ok = [hours for hours, failed in history if not failed]
    assert health.last_ok_at == (NOW - timedelta(hours=ok[0]) if ok else None)


def test_every_refusal_reason_has_words_in_every_language() -> None:
    from crisisdesk.connectors.accounts import REASONS
    from crisisdesk.web.i18n import CATALOGS

    for lang, catalog in CATALOGS.items():
        missing = [r for r in REASONS if f"connections.error.{r}" not in catalog]
        assert not missing, (lang, missing)


# -- running fetches, and those whose process died ---------------------------------------------


def _blocked_posts(platform: FakePlatform) -> tuple[threading.Event, threading.Event]:
    """The page's posts answer only once released: a fetch that is running for as long as the
    test needs. Returns (asked, release)."""
    serve_page(platform)
    answer = platform.routes[("GET", f"{V}/100/posts")]
    assert callable(answer)
    asked, release = threading.Event(), threading.Event()

    def blocked(seen: Seen) -> Answer:
        asked.set()
        assert release.wait(20)
        return answer(seen)

    platform.add("GET", f"{V}/100/posts", blocked)
    return asked, release


def test_a_fetch_is_recorded_as_running_from_its_start_and_beats_while_it_runs(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "HEARTBEAT_EVERY", 0.05)
    asked, release = _blocked_posts(platform)
    connection = _connection(cdesk)
    sync = threading.Thread(target=sync_connection, args=(cdesk, connection, http))
    sync.start()
    try:
        assert asked.wait(20)
        (running,) = _fetches(cdesk, connection.id)
        assert running.finished_at is None and running.source == "cli" and running.reason is None
        health = fetch_healths(cdesk, [connection.id])[connection.id]
        assert health.last is not None and health.last.running and health.warnings == ()
        # "Fetch now" in another process (a FetchJobs of its own) does not start a second one.
        assert not FetchJobs(cdesk).start(connection.id)
        # The process says it is alive while the platform keeps it waiting.
        deadline = time.monotonic() + 10
        while _fetches(cdesk, connection.id)[0].alive_at == running.alive_at:
            assert time.monotonic() < deadline, "the running fetch was never touched"
            time.sleep(0.05)
    finally:
        release.set()
        sync.join(20)
    (done,) = _fetches(cdesk, connection.id)
    assert done.id == running.id and done.finished_at is not None and done.alive_at is None
    assert (done.inserted, done.reason) == (4, None)  # the whole page, no range given
    assert [t for t in threading.enumerate() if t.name.startswith("fetch-beat-")] == []


def test_a_fetch_stopped_by_ctrl_c_is_recorded_as_interrupted(
    cdesk: Desk, monkeypatch: pytest.MonkeyPatch, http: httpx.Client
) -> None:
    connection = _connection(cdesk)

    def stopped(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("crisisdesk.connectors.accounts.build_connector", stopped)
    with pytest.raises(KeyboardInterrupt):
        sync_connection(cdesk, connection, http)
    (fetch,) = _fetches(cdesk, connection.id)
    assert (fetch.reason, fetch.source) == ("interrupted", "cli") and fetch.finished_at


def test_a_running_fetch_is_interrupted_only_once_its_process_stopped_beating(
    cdesk: Desk,
) -> None:
    connection = _connection(cdesk)
    started = NOW - timedelta(hours=5)
    start_fetch(cdesk, connection.id, source="cli", started_at=started)
    # Slow, but its process still beats: running, however long ago it started.
    touch_fetch(cdesk, _fetches(cdesk, connection.id)[0].id, NOW - timedelta(minutes=9))
    last = fetch_healths(cdesk, [connection.id], now=NOW)[connection.id].last
    assert last is not None and last.running and last.reason is None
    # Silent for longer than the limit: its process is gone.
    later = NOW + INTERRUPTED_AFTER
    health = fetch_healths(cdesk, [connection.id], now=later)[connection.id]
    assert health.last is not None and not health.last.running
    assert health.last.reason == "interrupted"
    assert health.last.finished_at == NOW - timedelta(minutes=9)
    assert health.failures_in_a_row == 1


def test_an_interrupted_fetch_counts_as_a_failure_and_is_closed_by_the_next_start(
    cdesk: Desk,
) -> None:
    connection = _connection(cdesk)
    _record(cdesk, connection.id, hours_ago=3, reason="expired")
    _record(cdesk, connection.id, hours_ago=2, reason="expired")
    start_fetch(cdesk, connection.id, source="web", started_at=NOW - timedelta(hours=1))
    health = fetch_healths(cdesk, [connection.id], now=NOW)[connection.id]
    assert health.warnings == ("failing",) and health.failures_in_a_row == 3
    # A fetch running on top of failures neither worked nor failed yet.
    start_fetch(cdesk, connection.id, source="cli", started_at=NOW)
    health = fetch_healths(cdesk, [connection.id], now=NOW)[connection.id]
    assert health.last is not None and health.last.running and health.last.source == "cli"
    assert health.failures_in_a_row == 3
    # The next start completed the dead one as interrupted, as of its last sign of life.
    running, dead, *_ = _fetches(cdesk, connection.id)
    assert running.finished_at is None
    assert (dead.reason, dead.finished_at) == ("interrupted", NOW - timedelta(hours=1))


def test_the_history_a_process_died_in_goes_on_from_where_it_was(cdesk: Desk) -> None:
    """A crash without any record is the gap the start record closes: the dead fetch shows."""
    connection = _connection(cdesk)
    _record(cdesk, connection.id, hours_ago=2)
    start_fetch(cdesk, connection.id, source="cli", started_at=NOW - timedelta(hours=1))
    _record(cdesk, connection.id, hours_ago=0)
    reasons = [f.reason for f in _fetches(cdesk, connection.id)]
    assert reasons == [None, "interrupted", None]


def test_pruning_keeps_a_running_fetch(cdesk: Desk) -> None:
    connection = _connection(cdesk)
    start_fetch(cdesk, connection.id, source="cli", started_at=NOW - timedelta(hours=40))
    (running,) = _fetches(cdesk, connection.id)
    touch_fetch(cdesk, running.id, NOW)  # a long backfill, still alive
    for n in range(KEEP_FETCHES + 5):
        _record(cdesk, connection.id, hours_ago=KEEP_FETCHES + 5 - n)
    kept = _fetches(cdesk, connection.id)
    assert len(kept) == KEEP_FETCHES + 1
    assert [f.id for f in kept if f.finished_at is None] == [running.id]
    done = [f.finished_at for f in kept if f.finished_at is not None]
    # the same 20 completed ones as without it: the newest
    assert done[0] == NOW - timedelta(hours=1) and done[-1] == NOW - timedelta(hours=20)


# -- two starts at the same moment ---------------------------------------------------------------

ROUNDS = 20


class _HeldConnector:
    """A connector whose backfill counts who got to fetch and then waits until released: the
    fetch that won stays running while the other start looks."""

    def __init__(self, fetched: list[int], inside: list[int], release: threading.Event) -> None:
        self.fetched = fetched
        self.inside = inside
        self.release = release
        self.posts_lookback: timedelta | None = None

    def backfill(self, since: object, until: object) -> list[object]:
        self.fetched.append(threading.get_ident())
        self.inside.append(threading.get_ident())
        if len(self.inside) > 1:
            # Two fetches of one account at once: the test fails on the count, without waiting.
            self.release.set()
        try:
            assert self.release.wait(20)
        finally:
            self.inside.remove(threading.get_ident())
        return []


def _held(monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], threading.Event]:
    fetched: list[int] = []
    inside: list[int] = []
    release = threading.Event()
    monkeypatch.setattr(
        "crisisdesk.connectors.accounts.build_connector",
        lambda *args, **kwargs: _HeldConnector(fetched, inside, release),
    )
    return fetched, release


def _plain_connection(desk: Desk) -> int:
    """A connection without a token (no token key needed): the connector is replaced anyway."""
    with desk.session() as s, s.begin():
        connection = Connection(platform="facebook", account_id="100", name="Shop", config={})
        s.add(connection)
        s.flush()
        return connection.id


def _at_once(*calls: Callable[[], T]) -> list[T]:
    """Run ``calls`` on threads of their own, let loose together by a barrier; their results."""
    barrier = threading.Barrier(len(calls))
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait(10)
            results[n] = calls[n]()
        except BaseException as exc:  # reported by the test, not lost on the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return [r for r in results if r is not None]


def test_fetch_now_from_two_processes_at_the_same_moment_fetches_once(
    backend_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two web workers (two desks on one database) asked to fetch one account at the same
    instant: one fetches, the other says it is already being fetched, every time."""
    fetched, release = _held(monkeypatch)
    connection_id = _plain_connection(backend_desk)
    other = Desk(backend_desk.settings, analyzer=KeywordAnalyzer())
    try:
        jobs = [FetchJobs(backend_desk), FetchJobs(other)]
        for n in range(ROUNDS):
            release.clear()
            started = _at_once(*(lambda j=j: j.start(connection_id) for j in jobs))
            release.set()
            assert all(j.wait(20) for j in jobs)
            assert sorted(started) == [False, True], f"round {n}"
            assert len(fetched) == n + 1, f"round {n}: {len(fetched)} fetches"
    finally:
        other.close()
    fetches = _fetches(backend_desk, connection_id)
    assert len(fetches) == ROUNDS and all(f.finished_at is not None for f in fetches)
    assert {f.reason for f in fetches} == {None}


def test_two_syncs_at_the_same_moment_fetch_once(
    backend_desk: Desk, monkeypatch: pytest.MonkeyPatch, http: httpx.Client
) -> None:
    """Two `crisisdesk sync` runs from cron that overlap (two desks on one database): one reads
    the account, the other is told which fetch holds it, and asks the platform nothing."""
    fetched, release = _held(monkeypatch)
    connection_id = _plain_connection(backend_desk)
    other = Desk(backend_desk.settings, analyzer=KeywordAnalyzer())
    try:
        connections = [connection_by_id(d, connection_id) for d in (backend_desk, other)]

        def sync(desk: Desk, connection: Connection | None) -> SyncOutcome:
            assert connection is not None
            try:
                return sync_connection(desk, connection, http)
            finally:
                release.set()  # the one held back lets the other's fetch end

        for n in range(ROUNDS):
            release.clear()
            outcomes = _at_once(
                lambda: sync(backend_desk, connections[0]), lambda: sync(other, connections[1])
            )
            assert len(fetched) == n + 1, f"round {n}: {len(fetched)} fetches"
            (ran,) = [o for o in outcomes if o.running is None]
            (held,) = [o for o in outcomes if o.running is not None]
            assert ran.ok and held.ok and held.report.inserted == 0
            last = _fetches(backend_desk, connection_id)[0]
            assert held.running is not None and held.running.id == last.id
            assert (held.running.source, held.running.started_at) == ("cli", last.started_at)
    finally:
        other.close()
    fetches = _fetches(backend_desk, connection_id)
    assert len(fetches) == ROUNDS and all(f.finished_at is not None for f in fetches)


def test_two_starts_at_the_same_moment_record_one_fetch(backend_desk: Desk) -> None:
    """The store's own step: of two starts of one connection at once, one is recorded and the
    other is refused with it, whichever desk comes first."""
    connection_id = _plain_connection(backend_desk)
    other = Desk(backend_desk.settings, analyzer=KeywordAnalyzer())

    def start(desk: Desk) -> tuple[str, int]:
        try:
            row = start_fetch(desk, connection_id, source="cli", started_at=utcnow(), alone=True)
        except FetchRunning as busy:
            return "refused", busy.running.id
        assert row is not None
        return "started", row.id

    try:
        for n in range(ROUNDS):
            answers = _at_once(lambda: start(backend_desk), lambda: start(other))
            assert sorted(kind for kind, _ in answers) == ["refused", "started"], f"round {n}"
            assert answers[0][1] == answers[1][1]  # refused by the one recorded
            finish_fetch(backend_desk, answers[0][1], finished_at=utcnow())
    finally:
        other.close()
    fetches = _fetches(backend_desk, connection_id)
    assert len(fetches) == ROUNDS and all(f.finished_at is not None for f in fetches)


def test_a_running_fetch_refuses_a_start_and_an_interrupted_one_does_not(
    backend_desk: Desk,
) -> None:
    connection_id = _plain_connection(backend_desk)
    died = NOW - INTERRUPTED_AFTER - timedelta(minutes=1)
    dead = start_fetch(backend_desk, connection_id, source="web", started_at=died)
    assert dead is not None
    # Its process stopped beating: no hold on the account. It is completed as interrupted.
    started = start_fetch(backend_desk, connection_id, source="cli", started_at=NOW, alone=True)
    assert started is not None
    now_running, closed = _fetches(backend_desk, connection_id)
    assert now_running.id == started.id and now_running.finished_at is None
    assert (closed.id, closed.reason, closed.finished_at) == (dead.id, "interrupted", died)

    # Alive (a minute ago), it holds the next start back, which says who holds it.
    later = NOW + timedelta(minutes=1)
    with pytest.raises(FetchRunning) as refused:
        start_fetch(backend_desk, connection_id, source="web", started_at=later, alone=True)
    running = refused.value.running
    assert (running.id, running.source, running.started_at) == (started.id, "cli", NOW)
    assert len(_fetches(backend_desk, connection_id)) == 2  # nothing recorded for the refusal

    # Silent for longer than the limit, it does not, and a refused start closes dead ones too.
    touch_fetch(backend_desk, started.id, NOW)
    gone = NOW + INTERRUPTED_AFTER + timedelta(seconds=1)
    again = start_fetch(backend_desk, connection_id, source="web", started_at=gone, alone=True)
    assert again is not None
    third = start_fetch(backend_desk, connection_id, source="cli", started_at=gone)  # not alone
    assert third is not None
    reasons = [
        (f.id, f.finished_at is None, f.reason) for f in _fetches(backend_desk, connection_id)
    ]
    assert reasons == [
        (third.id, True, None),
        (again.id, True, None),
        (started.id, False, "interrupted"),
        (dead.id, False, "interrupted"),
    ]


def test_a_start_of_a_connection_that_is_gone_records_nothing(backend_desk: Desk) -> None:
    assert start_fetch(backend_desk, 999, source="cli", started_at=NOW, alone=True) is None
    with backend_desk.session() as s:
        assert s.scalars(select(ConnectionFetch)).all() == []
