"""The relay that brings the live banner the alerts other processes announce, looked at directly:
the web app's desk and a sync's (or the webhook worker's) on one SQLite file, one look at a time.
Over HTTP, with the web app's streams, in ``tests/web/test_live_relay.py``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crisisdesk.desk import Desk
from crisisdesk.models import Alert
from crisisdesk.notify.live import AlertRelay, LiveBroker
from tests.signals.test_flame import _importing_in_another_thread, burst, feed, history
from tests.signals.test_shared_store import desks


@pytest.fixture
def web_and_sync(tmp_path: Path) -> Iterator[tuple[Desk, Desk]]:
    """The web app's desk and a sync's, on one file, with the clock just after the flame."""
    with desks(tmp_path, "shared", 2) as (web, sync):
        end = history()[-1].created_at + timedelta(minutes=40)
        web.clock = sync.clock = lambda: end
        yield web, sync


def relayed(broker: LiveBroker) -> list[dict[str, Any]]:
    """The alerts ``broker`` published, in order (its replay buffer)."""

    async def drain() -> list[dict[str, Any]]:
        sub = broker.subscribe(last_event_id=0)
        got = []
        while (event := await sub.get(0.05)) is not None:
            got.append(event.data)
        sub.close()
        return got

    return asyncio.run(drain())


def stored(desk: Desk) -> list[Alert]:
    with desk.session() as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)))


def test_an_imports_alerts_are_relayed_when_it_settles(web_and_sync: tuple[Desk, Desk]) -> None:
    """A sync writes its alerts as it goes and announces them when it ends: a relay that was
    looking before they were written, and one that starts while they wait, relay them then."""
    web, sync = web_and_sync
    past = history()
    before, meanwhile = LiveBroker(), LiveBroker()
    early, late = AlertRelay(web, before), AlertRelay(web, meanwhile)
    assert early.look() == 0  # starts from the newest alert: none
    with sync.importing_history():
        feed(sync, past + burst(past[-1].created_at + timedelta(minutes=10)))
        written = stored(sync)
        assert written and all(a.announced_at is None for a in written)
        assert early.look() == 0  # written down, not announced yet
        assert late.look() == 0  # starts here: these wait to be announced
        assert early.look() == late.look() == 0
    announced = [a.id for a in stored(sync) if a.announced_at is not None]
    assert announced
    assert early.look() == late.look() == len(announced)
    assert early.look() == late.look() == 0  # once
    for broker in (before, meanwhile):
        assert [data["id"] for data in relayed(broker)] == announced


def test_a_replay_does_not_make_the_relay_shout_twice(web_and_sync: tuple[Desk, Desk]) -> None:
    """A fetch of a page's history, newest first, is open when live comments raise a flame on
    that page: the team is told at once; the end of the fetch replays the page and rewrites its
    alerts, and the relay tells of each level once."""
    web, worker = web_and_sync
    past = history(days=1.5, seed=3)
    last = past[-1].created_at
    web.clock = worker.clock = lambda: last + timedelta(minutes=40)
    broker = LiveBroker()
    relay = AlertRelay(web, broker)
    relay.look()
    with _importing_in_another_thread(worker, past[::-1]):
        feed(worker, burst(last + timedelta(minutes=10)), batch=5)
        during = relay.look()
        assert during  # at once, while the fetch is still open
    relay.look()
    relay.look()
    sent = relayed(broker)
    announced = [a for a in stored(web) if a.announced_at is not None]
    assert sorted(data["id"] for data in sent) == [a.id for a in announced]
    told = [(data["page_id"], data["post_id"], data["level"]) for data in sent]
    assert len(told) == len(set(told))  # no level of a page or post twice


def test_alerts_the_desk_announced_itself_are_not_relayed_again(
    web_and_sync: tuple[Desk, Desk],
) -> None:
    web, _sync = web_and_sync
    past = history()
    from crisisdesk.notify.live import broker_for

    relay = AlertRelay(web)
    relay.look()
    feed(web, past + burst(past[-1].created_at + timedelta(minutes=10)))
    announced = [a.id for a in stored(web) if a.announced_at is not None]
    assert announced
    assert relay.look() == 0
    assert [data["id"] for data in relayed(broker_for(web))] == announced


def _add_alert(desk: Desk, episode: str, *, announced: bool, alert_id: int | None = None) -> int:
    """An alert written by hand, as some process's monitor would have written it."""
    now = desk.clock()
    with desk.session() as s, s.begin():
        alert = Alert(
            id=alert_id, page_id=desk.pages()[0].id, level="watch", episode=episode, at=now,
            evidence={}, announced_at=now if announced else None,
        )  # fmt: skip
        s.add(alert)
        s.flush()
        return alert.id


def test_an_id_committed_after_a_higher_one_is_relayed(web_and_sync: tuple[Desk, Desk]) -> None:
    """On PostgreSQL two processes' transactions can commit their alerts' ids out of order: an
    id missing below the newest is asked for again, and relayed when it shows up."""
    web, sync = web_and_sync
    feed(sync, history())  # calm: the page, no alerts
    broker = LiveBroker()
    relay = AlertRelay(web, broker)
    relay.look()
    later = _add_alert(sync, "page:1:later", announced=True, alert_id=5)
    assert relay.look() == 1
    earlier = _add_alert(sync, "page:1:earlier", announced=True, alert_id=3)
    assert relay.look() == 1 and relay.look() == 0
    assert [data["id"] for data in relayed(broker)] == [later, earlier]


def test_the_alert_after_one_a_replay_deleted_is_relayed(
    web_and_sync: tuple[Desk, Desk],
) -> None:
    """A replay deletes the newest alert, which nobody was told of; the next alert does not get
    its id again (the relay had seen that id) and is relayed."""
    web, sync = web_and_sync
    past = history()
    feed(sync, past)
    broker = LiveBroker()
    relay = AlertRelay(web, broker)
    relay.look()
    freed = _add_alert(sync, "page:1:out-of-order", announced=False)
    assert relay.look() == 0
    assert sync.flame.rebuild([sync.pages()[0].id]) == 0 and stored(sync) == []
    feed(sync, burst(past[-1].created_at + timedelta(minutes=10)))
    announced = [a.id for a in stored(sync) if a.announced_at is not None]
    assert announced[0] > freed  # ids are not given twice (migration 0011)
    assert relay.look() == len(announced)
    assert [data["id"] for data in relayed(broker)] == announced
