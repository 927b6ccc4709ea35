"""Several processes on one store: the web app, the webhook worker and a sync from cron each have
a desk of their own on the same database. Here each is a Desk on the same SQLite file; they share
nothing but the file, as processes do."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import SignalState
from crisisdesk.settings import Settings
from crisisdesk.signals.flame import IMPORT_GONE_AFTER, IMPORT_PREFIX, page_state_name
from tests.conftest import KeywordAnalyzer
from tests.signals.test_coordination import campaign
from tests.signals.test_flame import (
    _alerts_as_read,
    _announced_as,
    _at_the_bar,
    _recent_alert_ids,
    _recording_announcements,
    _two_pages,
    burst,
    calm_after,
    feed,
    history,
    page_id,
)


@contextmanager
def desks(tmp_path: Path, name: str, n: int) -> Iterator[list[Desk]]:
    """``n`` desks on one SQLite file, as ``n`` processes would have."""
    settings = Settings({"data_dir": str(tmp_path / name)}, environ={})
    made = [Desk(settings, analyzer=KeywordAnalyzer()) for _ in range(n)]
    made[0].upgrade()
    try:
        yield made
    finally:
        for desk in made:
            desk.close()


def _stored_page(desk: Desk, pid: int) -> dict[str, Any]:
    with desk.session() as s:
        row = s.get(SignalState, page_state_name(pid))
        assert row is not None
        data: dict[str, Any] = json.loads(zlib.decompress(row.state))
        return data


def _as_json(data: Any) -> Any:
    return json.loads(json.dumps(data))


def _coordination(desk: Desk, pid: int) -> tuple[float, list[dict[str, Any]]]:
    return desk.coordination.score(pid), [c.as_dict() for c in desk.coordination.clusters(pid)]


def test_the_web_app_shows_the_flame_the_webhook_worker_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web process has read the saved state already when the worker ingests a flame: its
    inbox strip, levels and crisis view show the flame at the next read, not at its restart."""
    from fastapi.testclient import TestClient

    from crisisdesk import store
    from crisisdesk.web.app import create_app

    with desks(tmp_path, "shared", 2) as (web, worker):
        past = history()
        feed(worker, past)
        pid = page_id(web)
        assert web.flame.level_of(pid) == "calm"
        web.add_user("ann", "correct-horse-battery", language="en")
        client = TestClient(create_app(web, demo_user="ann"))
        assert 'id="all-calm"' in client.get("/").text

        feed(worker, burst(past[-1].created_at + timedelta(minutes=10)))
        level = worker.flame.level_of(pid)
        assert level in ("flame", "crisis")
        assert web.flame.level_of(pid) == level
        assert web.flame.levels_of([pid]) == {pid: level}
        view = web.flame.crisis_view(pid)
        assert view is not None and view["level"] == level
        assert view == worker.flame.crisis_view(pid)
        assert web.flame.history(pid) == worker.flame.history(pid)
        inbox = client.get("/").text
        assert 'id="flame-strip"' in inbox and f'class="level-pill level-{level}"' in inbox
        assert f'class="level-pill level-{level}"' in client.get("/alerts").text

        # A read loads no blob that did not change; after one more comment, only that page's.
        loaded: list[str] = []
        rows_of = store.signal_states

        def counting(s: Any, names: Any) -> list[Any]:
            names = list(names)
            loaded.extend(names)
            return rows_of(s, names)

        monkeypatch.setattr(store, "signal_states", counting)
        web.flame.level_of(pid)
        web.flame.crisis_view(pid)
        assert loaded == []
        last = past[-1]
        worker.ingest(
            [
                CommentRecord(
                    platform="facebook", platform_id="one-more", text="still late",
                    created_at=last.created_at + timedelta(minutes=30), page=last.page,
                    post_id="post1", author_id="regular1", author_name="Regular 1",
                )
            ]
        )  # fmt: skip
        web.flame.level_of(pid)
        assert loaded == [page_state_name(pid)]


def test_two_processes_on_two_pages_save_what_one_desk_would(tmp_path: Path) -> None:
    """The webhook worker ingests one page and a sync another, batch about batch: neither
    overwrites the other's page, and a desk started afterwards reads both pages' flame state
    and coordination networks as one desk that ingested the same batches has them."""
    records = _two_pages()
    batches: list[tuple[str, list[CommentRecord]]] = []
    for page in ("P1", "P2"):
        mine = sorted((r for r in records if r.page == page), key=lambda r: r.created_at)
        batches += [(page, mine[k : k + 4]) for k in range(0, len(mine), 4)]
    batches.sort(key=lambda b: b[1][-1].created_at)  # both pages live, side by side
    with desks(tmp_path, "one", 1) as (single,), desks(tmp_path, "shared", 3) as (a, b, later):
        for page, batch in batches:
            single.ingest(batch)
            (a if page == "P1" else b).ingest(batch)
        assert not single.flame.pending  # nothing to replay: the batches came in order
        assert not (a.flame.pending or b.flame.pending)
        assert not (a.coordination.pending or b.coordination.pending)

        later.flame.levels_of([])  # restores
        assert not later.flame.out_of_order  # no page is behind the store
        expected = single.flame.detector.to_state()
        assert later.flame.detector.to_state() == expected
        levels = {p.id: single.flame.level_of(p.id) for p in single.pages()}
        assert {"flame", "crisis"} & set(levels.values())
        assert {p.id: later.flame.level_of(p.id) for p in later.pages()} == levels
        assert _alerts_as_read(later) == _alerts_as_read(single)
        for p in single.pages():
            assert _coordination(later, p.id) == _coordination(single, p.id)
        # the two writers read each other's pages too
        for desk in (a, b):
            desk.flame.levels_of([])
            assert desk.flame.detector.to_state() == expected


def test_a_stale_write_of_the_same_page_is_replayed_instead_of_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker saves a page between the moment a sync looked at the store and the moment it
    saves the same page: the sync's version, which lacks the worker's comments, is not written;
    the page waits for a replay, which gives it the state of all the stored comments."""
    past = history()
    flame = burst(past[-1].created_at + timedelta(minutes=10))
    early, late = flame[:25], flame[25:]
    with desks(tmp_path, "one", 1) as (single,), desks(tmp_path, "shared", 3) as (a, b, later):
        feed(a, past)
        pid = page_id(a)
        assert b.flame.level_of(pid) == "calm"  # b has read the state

        racing = b.flame.detector.learn_one

        def worker_first(event: Any) -> Any:
            # a's batch lands after b looked at the store, before b saves
            monkeypatch.setattr(b.flame.detector, "learn_one", racing)
            feed(a, early)
            return racing(event)

        monkeypatch.setattr(b.flame.detector, "learn_one", worker_first)
        feed(b, late, batch=len(late))

        # b's write lost the race on both signals: what is stored is a's, and b waits to replay
        assert _stored_page(b, pid) == _as_json(a.flame.detector.page_state(pid))
        assert pid in b.flame.pending and pid in b.coordination.pending
        assert b.flame.out_of_order
        assert b.flame.detector.page_state(pid) == a.flame.detector.page_state(pid)

        b.flame.settle_late()
        assert not b.flame.out_of_order

        # The state of every stored comment, as a desk that had them all replays them in order.
        for records in (past, late, early):  # the order they were written in the shared store
            feed(single, records)
        single.flame.rebuild()
        expected = single.flame.detector.page_state(pid)
        assert expected["last_minute"] > a.flame.detector.page_state(pid)["last_minute"]
        assert b.flame.detector.page_state(pid) == expected
        assert _stored_page(b, pid) == _as_json(expected)
        later.flame.levels_of([])  # restores
        assert later.flame.detector.page_state(pid) == expected
        assert a.flame.level_of(pid) == single.flame.level_of(pid) in ("flame", "crisis")
        assert a.flame.detector.page_state(pid) == expected
        assert _alerts_as_read(later) == _alerts_as_read(single)
        assert _coordination(later, pid) == _coordination(single, pid)


def test_a_replay_takes_the_live_tail_another_process_saves_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync replays a page with a long history while the webhook worker goes on ingesting a
    burst on it, a small batch every few replayed comments, and saves the page each time. The
    replay does not lose to every one of those saves: it takes the comments stored since it
    read, writes the page, and nobody is left waiting for a replay. What is stored is the state
    of all the page's comments, as a desk that replays them all in order has it."""
    past = history(days=3)
    live = burst(past[-1].created_at + timedelta(minutes=10), n=90, every_s=10)
    batches = [live[k : k + 3] for k in range(0, len(live), 3)]
    with desks(tmp_path, "one", 1) as (single,), desks(tmp_path, "shared", 3) as (a, b, later):
        feed(b, past)
        pid = page_id(a)
        assert a.flame.level_of(pid) == b.flame.level_of(pid) == "calm"
        a.flame.pending.add(pid)  # say a batch of its came out of order

        replaying = a.coordination.learn_one
        learnt = 0

        def with_live_traffic(page: int, message: Any) -> None:
            # Every 25 comments the replay learns, the worker ingests a live batch and saves.
            nonlocal learnt
            learnt += 1
            if learnt % 25 == 0 and batches:
                b.ingest(batches.pop(0))
            replaying(page, message)

        monkeypatch.setattr(a.coordination, "learn_one", with_live_traffic)
        a.flame.rebuild_pending()
        monkeypatch.setattr(a.coordination, "learn_one", replaying)
        fed = [r for r in live if r not in sum(batches, [])]
        # The worker saved the page a dozen times while the replay ran, the last ones after the
        # replay had read the history and while it was writing.
        assert len(fed) > len(past) // 25 * 3

        for desk in (a, b):
            desk.flame.levels_of([])  # looks at the store
            assert not desk.flame.pending and not desk.coordination.pending
            assert not desk.flame.out_of_order

        feed(single, past)
        feed(single, fed, batch=3)
        single.flame.rebuild()
        expected = single.flame.detector.page_state(pid)
        assert _stored_page(a, pid) == _as_json(expected)
        assert a.flame.detector.page_state(pid) == expected
        assert b.flame.detector.page_state(pid) == expected
        later.flame.levels_of([])  # restores
        assert later.flame.detector.page_state(pid) == expected
        assert later.flame.level_of(pid) == single.flame.level_of(pid) in ("flame", "crisis")
        assert _alerts_as_read(later) == _alerts_as_read(single)
        assert _coordination(later, pid) == _coordination(single, pid)


def test_a_replay_that_loses_every_round_leaves_the_page_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker saves the page before every write the replay tries: after its rounds the
    replay gives up, overwrites nothing of the worker's, and leaves the page waiting; once the
    traffic stops the next replay writes the state of all the stored comments."""
    from crisisdesk.signals import flame as flame_module

    past = history(days=1)
    live = burst(past[-1].created_at + timedelta(minutes=10), n=60, every_s=10)
    batches = [live[k : k + 2] for k in range(0, len(live), 2)]
    with desks(tmp_path, "one", 1) as (single,), desks(tmp_path, "shared", 2) as (a, b):
        feed(b, past)
        pid = page_id(a)
        a.flame.level_of(pid)
        replace = a.flame._replace

        def worker_first(*args: Any, **kwargs: Any) -> Any:
            b.ingest(batches.pop(0))
            return replace(*args, **kwargs)

        monkeypatch.setattr(a.flame, "_replace", worker_first)
        a.flame.rebuild([pid])
        assert len(batches) == 30 - (flame_module.TAIL_ROUNDS + 1)
        assert pid in a.flame.pending
        assert _stored_page(a, pid) == _as_json(b.flame.detector.page_state(pid))

        monkeypatch.setattr(a.flame, "_replace", replace)
        a.flame.rebuild_pending()
        assert not a.flame.pending and not a.coordination.pending
        fed = [r for r in live if r not in sum(batches, [])]
        feed(single, past)
        feed(single, fed, batch=2)
        single.flame.rebuild()
        assert _stored_page(a, pid) == _as_json(single.flame.detector.page_state(pid))
        b.flame.levels_of([])
        assert not b.flame.pending
        assert _coordination(b, pid) == _coordination(single, pid)


def test_a_second_desk_reads_the_coordination_another_process_found(tmp_path: Path) -> None:
    with desks(tmp_path, "shared", 2) as (web, worker):
        web.coordination.score(1)  # read once, before anything was ingested
        campaign(worker)
        pid = page_id(worker)
        score, found = _coordination(worker, pid)
        assert score > 0.9 and found
        assert _coordination(web, pid) == (score, found)
        accounts = web.coordination.accounts(pid)
        assert set(accounts) == {f"fake{i}" for i in range(5)}


# -- an import open in another process ---------------------------------------------------------


def _import_and_live() -> tuple[list[CommentRecord], list[CommentRecord], list[CommentRecord]]:
    """A page's history ending in a burst that fits in one five-minute bucket (so the import's
    stream leaves it in the open bucket, not looked at before it closes), another page's quiet
    history, and two live comments on that other page a little later."""
    forno = history(days=1.5, seed=3)
    start = (forno[-1].created_at + timedelta(minutes=10)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 5)
    forno += burst(start, n=45, every_s=5)
    bar = _at_the_bar(history(days=1.5, seed=5))
    live = _at_the_bar(calm_after(start + timedelta(minutes=12), hours=0.5))
    return forno, bar, live


def test_an_import_open_in_another_process_holds_the_alerts_of_its_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync imports a page's history and is still open when the webhook worker ingests a live
    comment on another page. The worker reloads the page the import saved midway, but holds its
    alerts, as a live batch in the importing process would: none is announced from half an
    import. The import's end replays the page and announces its flame once."""
    forno, bar, live = _import_and_live()
    with desks(tmp_path, "shared", 2) as (sync, worker):
        told_by_sync = _recording_announcements(sync, monkeypatch, forno + live)
        told_by_worker = _recording_announcements(worker, monkeypatch, forno + live)
        feed(worker, bar)
        sync.flame.begin_import()
        try:
            feed(sync, forno, batch=40)
            feed(worker, live)
            assert told_by_worker == []
            assert told_by_sync == []
        finally:
            sync.flame.end_import()
        assert told_by_sync and sorted(told_by_sync) == _recent_alert_ids(sync)
        levels = {level for _, _, level in _announced_as(sync, told_by_sync)}
        assert levels & {"flame", "crisis"}
        assert told_by_worker == []


def test_a_flame_on_the_page_another_process_imports_is_announced_at_once_and_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync imports a page's history, newest first, and is still open when the webhook worker
    ingests a burst of live comments on that very page: as a live batch in the importing process
    would, the worker tells the team at once, and the sync's settling, which replays the page in
    event order, tells nobody again of a level they heard of."""
    past = history(days=1.5, seed=3)
    live = burst(past[-1].created_at + timedelta(minutes=10))
    with desks(tmp_path, "shared", 2) as (sync, worker):
        told_by_sync = _recording_announcements(sync, monkeypatch, past + live)
        told_by_worker = _recording_announcements(worker, monkeypatch, past + live)
        sync.flame.begin_import()
        try:
            feed(sync, past[::-1], batch=40)
            feed(worker, live, batch=5)
            assert told_by_worker and told_by_sync == []
        finally:
            sync.flame.end_import()
        told = _announced_as(sync, told_by_worker + told_by_sync)
        assert any(level in ("flame", "crisis") for _, _, level in told)
        assert len(set(told)) == len(told)


def test_an_import_whose_process_died_holds_its_pages_until_they_are_replayed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync stops halfway through an import (killed): its row is not touched any more. Once
    it is old, the worker takes it for abandoned: the pages it named wait for a replay and are
    held until then; the worker's next settling replays them and announces their flame, once."""
    from sqlalchemy import select, update

    from crisisdesk.models import utcnow

    forno, bar, live = _import_and_live()
    with desks(tmp_path, "shared", 2) as (sync, worker):
        told_by_sync = _recording_announcements(sync, monkeypatch, forno + live)
        told_by_worker = _recording_announcements(worker, monkeypatch, forno + live)
        feed(worker, bar)
        sync.flame.begin_import()
        feed(sync, forno, batch=40)
        beat = sync.flame._beat
        assert beat is not None
        beat[1].set()  # the process dies: nothing touches its row any more
        beat[0].join()
        pid = {page.name: page.id for page in sync.pages()}["Forno"]

        feed(worker, live[:1])
        assert told_by_worker == []  # young enough: held for the import
        assert pid not in worker.flame.pending

        with sync.session() as s, s.begin():
            s.execute(
                update(SignalState)
                .where(SignalState.name.startswith(IMPORT_PREFIX))
                .values(updated_at=utcnow() - IMPORT_GONE_AFTER - timedelta(minutes=1))
            )
        feed(worker, live[1:])
        assert told_by_worker == []  # its history may be half there: held for the replay
        assert pid in worker.flame.pending and worker.flame.out_of_order
        with worker.session() as s:
            names = set(s.scalars(select(SignalState.name)))
        assert not any(name.startswith(IMPORT_PREFIX) for name in names)  # taken away

        worker.flame.settle_late()
        assert not worker.flame.out_of_order
        assert told_by_worker and sorted(told_by_worker) == _recent_alert_ids(worker)
        levels = {level for _, _, level in _announced_as(worker, told_by_worker)}
        assert levels & {"flame", "crisis"}
        assert told_by_sync == []
