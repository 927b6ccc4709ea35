"""Dates on the pages: written in the desk's time zone (the ``timezone`` setting), then shown by
the browser in the reader's own zone and language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.settings import Settings
from crisisdesk.web.app import create_app
from tests.conftest import KeywordAnalyzer
from tests.web.conftest import browser_log_in, launch_chromium, log_in, serving
from tests.workflow.wf_support import comment_id, record, seed

PASSWORD = "correct-horse-battery"


@pytest.fixture
def rome_desk(tmp_path: Path) -> Iterator[Desk]:
    settings = Settings(
        {
            "data_dir": str(tmp_path / "data"),
            "secret_key": "test-secret-key-0123456789",
            "timezone": "Europe/Rome",
        },
        environ={},
    )
    desk = Desk(settings, analyzer=KeywordAnalyzer())
    desk.upgrade()
    seed(desk)  # comments from 10:00 UTC on 1 May 2024, when Rome is at UTC+2
    desk.add_user("ann", PASSWORD, language="it")
    yield desk
    desk.close()


def _login(client: TestClient) -> None:
    log_in(client, "ann", PASSWORD)


def test_pages_write_moments_in_the_desk_time_zone(rome_desk: Desk) -> None:
    with TestClient(create_app(rome_desk)) as client:
        _login(client)
        page = client.get(f"/comments/{comment_id(rome_desk, 'c-en')}").text
        # 10:00 UTC is 12:00 in Rome in May; the machine-readable moment stays UTC
        assert (
            '<time datetime="2024-05-01T10:00:00+00:00" data-local="datetime">'
            "2024-05-01 12:00 CEST</time>"
        ) in page
        inbox = client.get("/").text
        assert "2024-05-01 12:00 CEST" in inbox and "10:00 UTC" not in inbox


def test_an_unknown_time_zone_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(
        {"data_dir": str(tmp_path / "d"), "secret_key": "k" * 24, "timezone": "Europe/Atlantis"},
        environ={},
    )
    desk = Desk(settings, analyzer=KeywordAnalyzer())
    try:
        with pytest.raises(ValueError, match="timezone: unknown time zone 'Europe/Atlantis'"):
            create_app(desk)
    finally:
        desk.close()


@pytest.mark.browser
def test_the_browser_shows_moments_in_the_reader_zone(browser_path: str, rome_desk: Desk) -> None:
    from playwright.sync_api import sync_playwright

    cid = comment_id(rome_desk, "c-en")
    with serving(create_app(rome_desk)) as base, sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        # a reader in New York, interface in Italian: 10:00 UTC is 06:00 there
        context = browser.new_context(locale="it-IT", timezone_id="America/New_York")
        page = context.new_page()
        browser_log_in(page, base, "ann", PASSWORD)
        page.goto(f"{base}/comments/{cid}")
        moment = page.locator('time[datetime="2024-05-01T10:00:00+00:00"]').first
        text = moment.inner_text()
        assert "06:00" in text and "12:00" not in text, text
        assert "01/05/24" in text, text  # Italian order: day, month, year
        browser.close()


def test_english_dates_follow_the_readers_own_english(browser_path: str, rome_desk: Desk) -> None:
    """A British reader of the English interface sees day-first dates, an American month-first."""
    from playwright.sync_api import sync_playwright

    rome_desk.add_user("bea", PASSWORD, language="en")
    cid = comment_id(rome_desk, "c-en")
    seen = {}
    with serving(create_app(rome_desk)) as base, sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        for locale in ("en-GB", "en-US"):
            context = browser.new_context(locale=locale, timezone_id="Europe/London")
            page = context.new_page()
            browser_log_in(page, base, "bea", PASSWORD)
            page.goto(f"{base}/comments/{cid}")
            moment = page.locator('time[datetime="2024-05-01T10:00:00+00:00"]').first
            seen[locale] = moment.inner_text()
            context.close()
        browser.close()
    assert "01/05/2024" in seen["en-GB"] and "11:00" in seen["en-GB"], seen
    assert "5/1/24" in seen["en-US"], seen


def test_author_card_counts_hours_in_the_desk_time_zone(rome_desk: Desk) -> None:
    from crisisdesk.signals.authors import author_card

    # two more from the same author, an hour and a half later: three comments make a pattern
    rome_desk.ingest([record(f"more-{n}", "Still waiting.", minutes=90 + n) for n in (0, 1)])
    cid = comment_id(rome_desk, "c-en")
    with rome_desk.session() as s:
        from crisisdesk.models import Comment

        comment = s.get(Comment, cid)
        assert comment is not None and comment.author_id is not None
        author, utc_hour = comment.author_id, comment.created_at.hour
    card = author_card(rome_desk, author)
    assert card is not None and card.hours_zone == "Europe/Rome"
    rome_hour = (utc_hour + 2) % 24  # May: UTC+2
    assert card.hours[rome_hour] >= 1 and card.hours[utc_hour] == 0
    with TestClient(create_app(rome_desk)) as client:
        _login(client)
        page = client.get(f"/comments/{cid}/author-card").text
    assert "Ore di attività (Europe/Rome)" in page
    assert sum(card.hours) == 3 and card.busiest_hours == {
        "start": rome_hour - 1,  # the earliest of the windows holding all three
        "end": rome_hour + 2,
        "comments": 3,
        "total": 3,
    }
    start, end = f"{rome_hour - 1:02d}:00", f"{rome_hour + 2:02d}:00"
    assert f"Più attivo tra le {start} e le {end}: 3 commenti su 3" in page
