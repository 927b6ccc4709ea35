"""The case panel in a real headless Chromium: a refusal's banner goes away once the draft is
fixed and checked, and archiving waits for its confirmation box.

Skipped when no Chromium is installed, unless ``CRISISDESK_REQUIRE_BROWSER=1`` (CI sets it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.web.app import create_app
from tests.web.conftest import browser_log_in, launch_chromium, real_time_clock, serving
from tests.workflow.wf_support import GOOD_EN, Clock

pytestmark = pytest.mark.browser


@pytest.fixture
def clock(desk: Desk) -> Clock:
    clock: Clock = real_time_clock(desk)
    return clock


@pytest.fixture
def live_server(desk: Desk, clock: Clock) -> Iterator[str]:
    desk.ingest(
        [
            CommentRecord(
                platform="facebook", platform_id="late", created_at=clock.now,
                text="My order arrived late and the bread was broken.", page="P1",
                page_name="Forno Aurora", post_id="p1", author_id="a1", author_name="Anna Rossi",
            )
        ]
    )  # fmt: skip
    desk.add_user("ann", "correct-horse-battery")
    with serving(create_app(desk)) as url:
        yield url


def test_banner_clears_after_a_good_check_and_dismiss_needs_its_box(
    browser_path: str, live_server: str, desk: Desk, clock: Clock
) -> None:
    from playwright.sync_api import expect, sync_playwright

    comment = desk.find_comment("late")
    assert comment is not None
    with sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        page = browser.new_page(locale="en-GB")
        browser_log_in(page, live_server, "ann")
        page.goto(f"{live_server}/comments/{comment.id}")
        page.wait_for_selector("#case-panel")
        clock.advance(minutes=16)

        page.fill("#reply-text", "Hi Anna, [Write the answer, concrete and complete.]")
        page.click("#publish-button")
        banner = page.locator('#case-error[data-error="unfinished"]')
        expect(banner).to_contain_text("The draft still holds")
        page.fill("#reply-text", GOOD_EN)
        page.click("#check-button")
        expect(page.locator('#check-results li[data-check="unfinished"]')).to_have_class(
            "check check-ok"
        )
        expect(page.locator("#case-error")).to_have_count(0)

        # Archiving without ticking the box is stopped by the browser: nothing is posted.
        page.click("#dismiss-button")
        page.wait_for_timeout(300)
        case = desk.workflow.case_for(comment.id)
        assert case is not None and case.state != "dismissed"
        page.check("#dismiss-confirm")
        page.click("#dismiss-button")
        expect(page.locator("#reopen-button")).to_be_visible()
        assert page.locator("#publish-button").count() == 0
        page.click("#reopen-button")
        expect(page.locator("#publish-button")).to_be_visible()
        browser.close()
    case = desk.workflow.case_for(comment.id)
    assert case is not None and case.state == "drafting"
