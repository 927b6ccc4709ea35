"""The alerts list, the crisis view and the live event stream, through the ASGI app."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.notify.live import LiveBroker, broker_for
from crisisdesk.signals.flame import monitor_for
from crisisdesk.web.app import create_app
from crisisdesk.web.routes import crisis
from tests.signals.test_flame import burst, feed, history
from tests.web.conftest import browser_log_in, launch_chromium, log_in, serving


def login(client: TestClient) -> None:
    log_in(client, "ann")


@pytest.fixture
def client(flamed: Desk) -> Iterator[TestClient]:
    flamed.add_user("ann", "correct-horse-battery", language="en")
    with TestClient(create_app(flamed)) as c:
        yield c


def test_alerts_page_lists_alerts_and_escapes_hostile_text(client: TestClient) -> None:
    assert client.get("/alerts", follow_redirects=False).status_code == 303
    login(client)
    r = client.get("/alerts")
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert 'href="/alerts"' in r.text  # the navigation entry
    assert "First move:" in r.text and "15 minutes" in r.text
    assert "<script>alert" not in r.text and "<b>Mallory</b>" not in r.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in r.text
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in r.text
    assert " style=" not in r.text and "<script>" not in r.text
    assert re.search(r'class="level-pill level-(flame|crisis)"', r.text)


def test_alerts_page_in_italian(client: TestClient) -> None:
    login(client)
    r = client.get("/alerts", headers={"accept-language": "it"})
    # Signed-in users keep their language; switch explicitly through the form.
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert token
    client.post("/lang", data={"lang": "it", "next": "/alerts", "csrf_token": token.group(1)})
    r = client.get("/alerts")
    assert "Prima mossa:" in r.text and "negativi" in r.text


def test_crisis_view_has_chart_posts_and_changes(client: TestClient, flamed: Desk) -> None:
    login(client)
    page = flamed.pages()[0]
    r = client.get(f"/crisis/{page.id}")
    assert r.status_code == 200
    text = r.text
    assert "<svg" in text and 'class="bar"' in text and "negative-line" in text
    assert re.search(r'class="band band-(watch|flame|crisis)"', text)
    assert re.search(r'class="marker marker-(watch|flame|crisis)"', text)
    assert "What changed in the last hour" in text
    assert "post3" in text  # the post driving it
    assert "<script>alert" not in text and " style=" not in text
    assert client.get("/crisis/99999").status_code == 404


def wait_for_listener(broker: LiveBroker, timeout: float = 10.0) -> None:
    """Until a reader is subscribed: an event published before would reach nobody (a fixed
    sleep lost that race on a busy machine)."""
    deadline = time.monotonic() + timeout
    while broker.subscribers == 0:
        assert time.monotonic() < deadline, "no reader subscribed to the live events"
        time.sleep(0.01)


def test_events_stream_pushes_level_rises(
    client: TestClient, flamed: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crisis, "STREAM_SECONDS", 0.6)
    monkeypatch.setattr(crisis, "KEEPALIVE_SECONDS", 0.1)
    login(client)
    broker = broker_for(flamed)
    published_before = broker.publish("alert", {"text": "earlier", "level": "watch"})

    def later() -> None:
        wait_for_listener(broker)
        broker.publish("alert", {"text": "FLAME on <Forno>", "level": "flame", "page_id": 1})

    thread = threading.Thread(target=later)
    thread.start()
    try:
        with client.stream(
            "GET", "/events", headers={"Last-Event-ID": str(published_before.id - 1)}
        ) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            body = "".join(r.iter_text())
    finally:
        thread.join()
    events = [
        json.loads(line[len("data: ") :]) for line in body.splitlines() if line.startswith("data: ")
    ]
    assert "event: alert" in body and "retry: 3000" in body
    assert events[0]["text"] == "earlier"
    assert {"text": "FLAME on <Forno>", "level": "flame", "page_id": 1} in events
    assert broker.subscribers == 0  # the stream let go of its subscription


def test_events_need_a_login(client: TestClient) -> None:
    r = client.get("/events", follow_redirects=False)
    assert r.status_code == 303


def published_alerts(desk: Desk, wait: float = 0.2) -> list[dict[str, Any]]:
    """The live events published while the flame history and a burst are ingested."""
    import asyncio

    monitor_for(desk)
    broker = broker_for(desk)

    async def listen() -> list[dict[str, Any]]:
        sub = broker.subscribe()
        past = history()
        await asyncio.to_thread(desk.ingest, past)
        await asyncio.to_thread(feed, desk, burst(past[-1].created_at + timedelta(minutes=10)))
        got = []
        while (event := await sub.get(wait)) is not None:
            got.append(event.data)
        sub.close()
        return got

    return asyncio.run(listen())


def test_alert_rise_is_published_live(desk: Desk) -> None:
    desk.clock = lambda: history()[-1].created_at + timedelta(minutes=30)
    levels = [data["level"] for data in published_alerts(desk)]
    assert levels and set(levels) <= {"watch", "flame", "crisis"}


def test_old_history_is_not_announced(desk: Desk) -> None:
    # the desk's clock is today; the comments are from 2024
    assert published_alerts(desk, wait=0.1) == []
    assert monitor_for(desk).alerts()  # stored all the same


def test_acknowledge_an_alert_needs_csrf_and_records_who(client: TestClient, flamed: Desk) -> None:
    login(client)
    page = client.get("/alerts").text
    alert_id = int(re.findall(r'action="/alerts/(\d+)/ack"', page)[0])
    assert client.post(f"/alerts/{alert_id}/ack").status_code == 403
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = client.post(
        f"/alerts/{alert_id}/ack", data={"csrf_token": token.group(1)}, follow_redirects=False
    )
    assert r.status_code == 303
    after = client.get("/alerts").text
    assert "Taken in hand by ann" in after
    assert f'action="/alerts/{alert_id}/ack"' not in after
    assert any(e.action == "alert.acknowledge" for e in flamed.audit_entries())
    missing = client.post("/alerts/999999/ack", data={"csrf_token": token.group(1)})
    assert missing.status_code == 404


@pytest.mark.browser
def test_live_banner_links_to_the_crisis_and_keeps_the_worst_news(
    browser_path: str, flamed: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setattr(crisis, "KEEPALIVE_SECONDS", 0.3)
    flamed.add_user("ann", "correct-horse-battery", language="en")
    broker = broker_for(flamed)
    with serving(create_app(flamed)) as base, sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        page = browser.new_context(locale="en-GB").new_page()
        browser_log_in(page, base, "ann")
        page.wait_for_function("() => document.body.hasAttribute('data-live')")
        wait_for_listener(broker)  # the page's event stream is open

        crisis_text = "CRISIS on <b>Forno</b>"
        broker.publish(
            "alert", {"text": crisis_text, "level": "crisis", "page_id": 1, "url": "/crisis/1"}
        )
        link = page.locator("#live-banner a")
        link.wait_for()
        assert link.inner_text() == crisis_text  # hostile names stay text
        assert link.get_attribute("href") == "/crisis/1"
        assert page.locator("#live-banner b").count() == 0

        # a lesser alert on another page does not cover the crisis
        broker.publish(
            "alert", {"text": "WATCH on Rail", "level": "watch", "page_id": 2, "url": "/crisis/2"}
        )
        time.sleep(0.8)
        assert page.locator("#live-banner a").inner_text() == crisis_text
        # an address that is not a crisis page is not made a link
        broker.publish(
            "alert", {"text": "CRISIS on Rail", "level": "crisis", "page_id": 2, "url": "//evil"}
        )
        page.wait_for_function(
            "() => document.getElementById('live-banner').textContent === 'CRISIS on Rail'"
        )
        assert page.locator("#live-banner a").count() == 0
        browser.close()


def test_live_banner_is_written_in_the_readers_language(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.clock = lambda: history()[-1].created_at + timedelta(minutes=30)
    data = published_alerts(desk)[-1]
    broker = broker_for(desk)
    # English is the notification's own first line; Italian says the same in Italian
    assert crisis.banner_text(data, "en") == data["text"]
    italian = crisis.banner_text(data, "it")
    assert re.match(r"(ATTENZIONE|FLAME|CRISI) su ", italian), italian
    reasons = data["reasons"]
    assert isinstance(reasons, dict) and reasons["it"]
    assert all(r in italian for r in reasons["it"]) and " comments in " not in italian

    # through the stream: a reader whose language is Italian gets the Italian line
    monkeypatch.setattr(crisis, "STREAM_SECONDS", 0.6)
    monkeypatch.setattr(crisis, "KEEPALIVE_SECONDS", 0.1)
    desk.add_user("bea", "correct-horse-battery", language="it")
    with TestClient(create_app(desk)) as client:
        log_in(client, "bea")

        def later() -> None:
            wait_for_listener(broker)
            broker.publish("alert", data)

        thread = threading.Thread(target=later)
        thread.start()
        try:
            with client.stream("GET", "/events") as r:
                body = "".join(r.iter_text())
        finally:
            thread.join()
    sent = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    assert [e["text"] for e in sent] == [italian]
