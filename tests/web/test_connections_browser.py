"""Connecting a Facebook page through the Connections form in a real headless Chromium, against
the local server replaying the Graph API: a refused token first, then a good one, then fetch now.

Skipped when no Chromium is installed, unless ``CRISISDESK_REQUIRE_BROWSER=1`` (CI sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crisisdesk.connectors.accounts import fetch_jobs_for
from crisisdesk.connectors.store import load_connections, token_of
from crisisdesk.desk import Desk
from crisisdesk.web.app import create_app
from tests.connectors.conftest import FakePlatform, Seen, running_platform
from tests.connectors.test_commands import serve_checks
from tests.connectors.test_facebook import V, serve_page
from tests.web.conftest import PASSWORD, browser_log_in, launch_chromium, serving
from tests.web.test_connections import TOKEN, _desk

pytestmark = pytest.mark.browser

EXPIRED = "EAAB-expired-token-0000"


@pytest.fixture
def fake() -> Iterator[FakePlatform]:
    with running_platform() as platform:
        yield platform


@pytest.fixture
def live(data_dir: Path, fake: FakePlatform) -> Iterator[tuple[str, Desk]]:
    desk = _desk(data_dir, fake)
    desk.add_user("ann", PASSWORD, role="admin")
    try:
        with serving(create_app(desk)) as url:
            yield url, desk
    finally:
        fetch_jobs_for(desk).wait()
        desk.close()


def test_an_admin_connects_a_facebook_page_in_the_browser(
    browser_path: str, live: tuple[str, Desk], fake: FakePlatform, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base, desk = live
    serve_checks(fake)
    serve_page(fake)

    def me(seen: Seen) -> tuple[int, Any, dict[str, str]]:
        if seen.headers.get("authorization") == f"Bearer {EXPIRED}":
            error = {"message": "Session has expired", "type": "OAuthException", "code": 190}
            return 400, {"error": error}, {}
        return 200, {"id": "100", "name": "Bar Centrale"}, {}

    fake.add("GET", f"{V}/me", me)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        page = browser.new_page(locale="en-GB")
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        browser_log_in(page, base)
        page.goto(base + "/connections")
        page.click("#connect-facebook summary")
        form = page.locator("#connect-facebook form")
        form.locator("input[name=page_id]").fill("100")
        form.locator("input[name=page_token]").fill(EXPIRED)
        form.locator("input[name=app_id]").fill("42")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#connect-facebook p.error")
        assert "expired or was revoked" in page.locator("#connect-facebook p.error").inner_text()
        # What was typed is still there, except the token.
        assert form.locator("input[name=page_id]").input_value() == "100"
        assert form.locator("input[name=app_id]").input_value() == "42"
        assert form.locator("input[name=page_token]").input_value() == ""
        assert EXPIRED not in page.content()
        form.locator("input[name=page_token]").fill(TOKEN)
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#connections-notice")
        assert "Connected facebook account Bar Centrale" in page.inner_text("#connections-notice")
        assert TOKEN not in page.content()
        (row,) = load_connections(desk)
        assert token_of(desk, row).reveal() == TOKEN
        # Fetch now: HTMX swaps the row's cell and polls it until the fetch is over.
        page.click(f"#connection-{row.id} button:has-text('Fetch now')")
        page.wait_for_selector(f"#fetch-{row.id}:has-text('3 new')", timeout=20000)
        # The finished cell reads the fetch back from the table: when and from where.
        cell = page.inner_text(f"#fetch-{row.id}")
        assert "from this page" in cell and "No fetch has worked" not in cell
        page.screenshot(path=str(tmp_path / "connections.png"), full_page=True)
        browser.close()
    assert desk.stats()["comments"] == 3
    assert not [e for e in problems if "Content Security Policy" in e], problems


def test_on_a_phone_the_last_fetch_and_its_warning_need_no_sideways_scroll(
    browser_path: str, live: tuple[str, Desk]
) -> None:
    from datetime import timedelta

    from playwright.sync_api import sync_playwright

    from crisisdesk.connectors.store import record_fetch, save_connection
    from crisisdesk.models import utcnow

    base, desk = live
    row = save_connection(desk, "facebook", "100", token=TOKEN, name="Bar <b>Centrale</b>")
    now = utcnow()
    for hours in (30, 20, 10):
        at = now - timedelta(hours=hours)
        record_fetch(desk, row.id, source="cli", started_at=at, finished_at=at, reason="expired")
    with sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        page = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="it-IT"
        ).new_page()
        browser_log_in(page, base)
        page.goto(base + "/connections")
        warning = page.locator(f"#fetch-{row.id} .fetch-warning")
        box = warning.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert "Da più di 24 ore" in warning.inner_text()
        # Each value is read under its label (the column headings are not on screen).
        label = page.evaluate(
            "id => getComputedStyle(document.getElementById(id), '::before').content",
            f"fetch-{row.id}",
        )
        assert (
            "ULTIMO" in label.upper() and page.locator("thead").first.bounding_box()["height"] <= 1
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        browser.close()
