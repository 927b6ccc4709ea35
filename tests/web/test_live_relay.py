"""The live banner across processes: the web app's ``/events`` streams carry the alerts that the
webhook worker (here a second Desk on the same SQLite file, sharing nothing else with the web
app's) announces, once each, and not the ones announced before the stream opened. The web app
is served for real by uvicorn and read over HTTP, as a browser reads it."""

from __future__ import annotations

import dataclasses
import json
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crisisdesk.desk import Desk
from crisisdesk.models import Alert
from crisisdesk.notify import live
from crisisdesk.notify.live import broker_for
from crisisdesk.web.app import create_app
from crisisdesk.web.routes import crisis
from tests.notify.test_live import relayed
from tests.signals.test_flame import _two_pages, burst, feed, history
from tests.signals.test_shared_store import desks
from tests.web.conftest import browser_log_in, launch_chromium, log_in, serving
from tests.web.test_crisis import wait_for_listener

#: How long a test waits for an alert to reach the stream: the relay looks every 0.1 s here.
ARRIVES_WITHIN = 10.0


@dataclass
class Received:
    id: int
    event: str
    data: dict[str, Any]


class EventStream:
    """A signed-in reader of ``/events`` on a thread of its own: the events, as they arrive."""

    def __init__(self, base: str, last_event_id: int | None = None) -> None:
        self.base = base
        self.last_event_id = last_event_id
        self.events: queue.Queue[Received] = queue.Queue()
        self.failures: list[BaseException] = []
        # The stream's first line is written once the web app has subscribed it.
        self.opened = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        try:
            with httpx.Client(base_url=self.base, timeout=30) as client:
                log_in(client, "ann")
                headers = {}
                if self.last_event_id is not None:
                    headers["Last-Event-ID"] = str(self.last_event_id)
                with client.stream("GET", "/events", headers=headers) as r:
                    assert r.headers["content-type"].startswith("text/event-stream")
                    fields: dict[str, str] = {}
                    for line in r.iter_lines():  # keep-alives come often: the stop is seen
                        if self._stop.is_set():
                            return
                        if line.startswith("retry:"):
                            self.opened.set()
                        elif line:
                            name, _, value = line.partition(": ")
                            fields[name] = value
                        elif "data" in fields:
                            data = json.loads(fields["data"])
                            self.events.put(Received(int(fields["id"]), fields["event"], data))
                            fields = {}
        except BaseException as exc:  # reported by the test's own thread
            self.failures.append(exc)
        finally:
            self.opened.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def next(self, timeout: float = ARRIVES_WITHIN) -> Received:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event on the stream within {timeout} s") from None

    def rest(self, quiet: float = 0.5) -> list[Received]:
        """The events still arriving, until none has come for ``quiet`` seconds."""
        got = []
        while True:
            try:
                got.append(self.events.get(timeout=quiet))
            except queue.Empty:
                return got


@contextmanager
def reading(base: str, last_event_id: int | None = None) -> Iterator[EventStream]:
    """An open ``/events`` stream, from the moment the web app has subscribed it."""
    stream = EventStream(base, last_event_id)
    stream.start()
    try:
        assert stream.opened.wait(10) and not stream.failures, stream.failures
        yield stream
    finally:
        stream.stop()
    assert not stream.failures, stream.failures


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "LOOK_SECONDS", 0.1)
    monkeypatch.setattr(crisis, "KEEPALIVE_SECONDS", 0.1)


@pytest.fixture
def web_and_worker(tmp_path: Path) -> Iterator[tuple[Desk, Desk]]:
    """The web app's desk and the webhook worker's, on one SQLite file; the worker's clock just
    after the flame, so that what it raises is recent and announced."""
    with desks(tmp_path, "shared", 2) as (web, worker):
        end = history()[-1].created_at + timedelta(minutes=40)
        worker.clock = lambda: end
        web.clock = lambda: end
        web.add_user("ann", "correct-horse-battery", language="en")
        yield web, worker


def announced_ids(desk: Desk) -> list[int]:
    with desk.session() as s:
        return sorted(s.scalars(select(Alert.id).where(Alert.announced_at.is_not(None))))


def test_the_stream_carries_the_flame_the_webhook_worker_raised(
    web_and_worker: tuple[Desk, Desk],
) -> None:
    web, worker = web_and_worker
    past = history()
    feed(worker, past)
    with serving(create_app(web)) as base:
        with reading(base) as stream:
            feed(worker, burst(past[-1].created_at + timedelta(minutes=10)))
            first = stream.next()
            got = [first, *stream.rest()]
        assert {e.event for e in got} == {"alert"}
        data = first.data
        assert data["page_name"] == "Forno" and data["level"] in ("watch", "flame", "crisis")
        assert data["text"].startswith(f"{data['level'].upper()} on Forno")
        assert data["text"] == crisis.banner_text(data, "en") and data["url"].startswith("/crisis/")
        # every alert the worker announced, once, as the worker's own monitor put it
        assert sorted(e.data["id"] for e in got) == announced_ids(web) != []
        assert [e.data for e in got] == relayed(broker_for(worker))

        # a browser that reconnects with the last id it saw gets what came after it
        with reading(base, last_event_id=first.id) as again:
            replayed = again.rest()
        assert [e.data for e in replayed] == [e.data for e in got[1:]]


def test_an_alert_the_web_process_announced_arrives_once(
    web_and_worker: tuple[Desk, Desk],
) -> None:
    """The web app ingests the flame itself (a file import from the browser, say): its monitor
    publishes the alerts, and the relay, which finds them in the store too, does not again."""
    web, _worker = web_and_worker
    past = history()
    feed(web, past)
    app = create_app(web)
    with serving(app) as base, reading(base) as stream:
        feed(web, burst(past[-1].created_at + timedelta(minutes=10)))
        announced = announced_ids(web)
        assert announced
        assert app.state.alert_relay.look() == 0  # it sees them, and they went out already
        got = [stream.next(), *stream.rest(quiet=1.0)]
    assert [e.data["id"] for e in got] == announced


def test_alerts_announced_before_the_stream_opened_are_not_sent_as_new(
    web_and_worker: tuple[Desk, Desk],
) -> None:
    """The worker raised a flame on one page before anyone opened the stream, and one on another
    page after: only the second comes, as news."""
    web, worker = web_and_worker
    records = _two_pages()
    forno = [r for r in records if r.page == "P1"]
    bar = [r for r in records if r.page == "P2"]
    end = max(r.created_at for r in records) + timedelta(minutes=30)
    worker.clock = lambda: end
    web.clock = lambda: end
    feed(worker, forno)
    before = announced_ids(web)
    assert before  # announced, on the worker's broker, before any stream
    with serving(create_app(web)) as base, reading(base) as stream:
        feed(worker, bar)
        got = [stream.next(), *stream.rest()]
    assert {e.data["page_name"] for e in got} == {"Bar"}
    assert sorted(e.data["id"] for e in got) == sorted(set(announced_ids(web)) - set(before))


@pytest.mark.browser
def test_the_banner_shows_the_flame_the_webhook_worker_raised(
    browser_path: str, web_and_worker: tuple[Desk, Desk]
) -> None:
    from playwright.sync_api import sync_playwright

    web, worker = web_and_worker
    past = [dataclasses.replace(r, page_name="<b>Forno</b>") for r in history()]
    feed(worker, past)
    hostile = [
        dataclasses.replace(r, page_name="<b>Forno</b>")
        for r in burst(past[-1].created_at + timedelta(minutes=10))
    ]
    broker = broker_for(web)
    with serving(create_app(web)) as base, sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        page = browser.new_context(locale="en-GB").new_page()
        browser_log_in(page, base, "ann")
        page.wait_for_function("() => document.body.hasAttribute('data-live')")
        wait_for_listener(broker)  # the page's event stream is open

        feed(worker, hostile)
        link = page.locator("#live-banner a")
        link.wait_for(timeout=ARRIVES_WITHIN * 1000)
        text = link.inner_text()
        assert " on <b>Forno</b>" in text  # a hostile page name stays text
        assert page.locator("#live-banner b").count() == 0
        assert link.get_attribute("href", timeout=1000) == f"/crisis/{web.pages()[0].id}"
        browser.close()
