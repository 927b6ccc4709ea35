"""The main reply path in a real headless Chromium (Debian's ``chromium``), driven by Playwright:
open a hostile comment, see the cool-down counting, write a reply, see the checks, publish after
the cool-down (the desk's clock is moved forward instead of waiting 15 minutes).

Skipped when no Chromium is installed, unless ``CRISISDESK_REQUIRE_BROWSER=1`` (CI sets it), in
which case a missing browser is a failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.web.app import create_app
from tests.web.conftest import browser_log_in, launch_chromium, real_time_clock, serving
from tests.workflow.wf_support import Clock

pytestmark = pytest.mark.browser

# A complaint (the test analyser reads "late") whose text tries to run script in the page.
HOSTILE = (
    "Your delivery was late! <img src=x onerror=\"document.title='pwned'\">"
    '<script>document.title="pwned"</script>'
)
REPLY = (
    "Hi Anna, I'm really sorry your delivery was late. Giulia from our shop is checking with the "
    "courier today: could you send us a private message with your order so we can fix it?"
)


@pytest.fixture
def clock(desk: Desk) -> Clock:
    clock: Clock = real_time_clock(desk)
    return clock


@pytest.fixture
def live_server(desk: Desk, clock: Clock) -> Iterator[str]:
    desk.ingest(
        [
            CommentRecord(
                platform="facebook", platform_id="hostile", created_at=clock.now, text=HOSTILE,
                page="P1", page_name="Forno Aurora", post_id="p1", author_id="a1",
                author_name="Anna Rossi",
            )
        ]
    )  # fmt: skip
    desk.add_user("ann", "correct-horse-battery")
    with serving(create_app(desk)) as url:
        yield url


def test_open_hostile_comment_cool_down_write_check_and_publish(
    browser_path: str, live_server: str, desk: Desk, clock: Clock, tmp_path: object
) -> None:
    from playwright.sync_api import expect, sync_playwright

    comment = desk.find_comment("hostile")
    assert comment is not None
    console_errors: list[str] = []
    with sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        page = browser.new_page(locale="en-GB")
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: (console_errors.append("dialog: " + d.message), d.dismiss()))
        browser_log_in(page, live_server, "ann")

        # Open the hostile comment: its text is text, and the panel starts the cool-down.
        page.goto(f"{live_server}/comments/{comment.id}")
        page.wait_for_selector("#case-panel")
        assert page.locator("#comment-text").inner_text() == HOSTILE
        assert page.locator("#comment-text img, #case-panel img, #case-panel script").count() == 0
        countdown = page.locator("#cooldown-clock time[data-countdown]")
        expect(countdown).to_have_text(re.compile(r"^1[45]:\d\d$"))
        first = countdown.inner_text()
        page.wait_for_timeout(1300)
        assert countdown.inner_text() != first  # it is counting down
        expect(page.locator("#target-clock time[data-countdown]")).to_have_text(
            re.compile(r"^(59|60):\d\d$")
        )

        # Write a reply over the suggestion and check it.
        assert page.locator("#reply-text").input_value().startswith("Hi Anna")
        page.fill("#reply-text", REPLY)
        page.click("#check-button")
        checks = page.locator("#check-results li")
        expect(checks).to_have_count(8)
        assert page.locator("#check-results li.check-fail").count() == 0, page.locator(
            "#check-results"
        ).inner_text()
        page.fill("#reply-text", "As we already said, you'll get a refund.")
        page.click("#check-button")
        expect(page.locator('#check-results li[data-check="tone"]')).to_have_class(
            re.compile("check-fail")
        )
        expect(page.locator('#check-results li[data-check="public_compensation"]')).to_contain_text(
            "private message"
        )

        # Publishing during the cool-down is refused, and says until when.
        page.fill("#reply-text", REPLY)
        page.click("#publish-button")
        expect(page.locator('#case-error[data-error="cooldown"]')).to_be_visible()
        assert page.locator("#reply-text").input_value() == REPLY

        # Fifteen minutes later (on the desk's clock) it goes through, as a manual instruction.
        clock.advance(minutes=16)
        page.reload()
        page.wait_for_selector("#case-panel")
        expect(page.locator("#cooldown-clock")).to_contain_text("Over")
        assert page.locator("#override-reason").count() == 0
        page.fill("#reply-text", REPLY)
        page.click("#publish-button")
        expect(page.locator("#case-result")).to_contain_text("Do this on the platform")
        assert page.locator("#copy-result").inner_text() == REPLY
        expect(page.locator("#case-state")).to_have_text("replied")
        assert page.title() != "pwned"
        page.screenshot(path=str(tmp_path) + "/reply.png", full_page=True)  # type: ignore[operator]
        browser.close()
    assert not [e for e in console_errors if "Content Security Policy" in e or "dialog" in e], (
        console_errors
    )
    case = desk.workflow.case_for(comment.id)
    assert case is not None and case.state == "replied"
    assert clock.now - case.cooldown_until >= timedelta(minutes=1)  # type: ignore[operator]
