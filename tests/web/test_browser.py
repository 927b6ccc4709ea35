"""End to end in a real headless Chromium (Debian's ``chromium``), driven by Playwright.

Skipped when no Chromium is installed, unless ``CRISISDESK_REQUIRE_BROWSER=1`` (CI sets it), in
which case a missing browser is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.web.app import create_app
from tests.web.conftest import launch_chromium, serving

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


@pytest.fixture
def live_server(desk: Desk) -> Iterator[str]:
    desk.ingest(
        [
            CommentRecord(
                platform="facebook", platform_id="evil", created_at=datetime.now(UTC), text=HOSTILE,
                page="P1", page_name="Forno Aurora", post_id="p1", author_id="a1", author_name="Troll",
            )
        ]
    )  # fmt: skip
    desk.add_user("ann", "correct-horse-battery")
    with serving(create_app(desk)) as url:
        yield url


def test_sign_in_open_inbox_and_comment_text_is_escaped(
    browser_path: str, live_server: str, tmp_path: object
) -> None:
    from playwright.sync_api import sync_playwright

    console_errors: list[str] = []
    with sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        page = browser.new_page(locale="en-GB")
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: (console_errors.append("dialog: " + d.message), d.dismiss()))
        page.goto(live_server + "/")
        assert "/login" in page.url
        page.fill("input[name=username]", "ann")
        page.fill("input[name=password]", "correct-horse-battery")
        page.click("button[type=submit]")
        page.wait_for_url(live_server + "/")
        assert page.locator("h1").inner_text() == "Inbox"
        link = page.locator("td.text a").first
        assert "<img src=x" in link.inner_text()  # shown as text, not as an element
        link.click()
        page.wait_for_selector("#comment-text")
        assert page.locator("#comment-text").inner_text() == HOSTILE
        assert page.locator("#comment-text img").count() == 0
        assert page.locator("#comment-text script").count() == 0
        assert page.title() != "pwned"
        # Switch the interface to Italian.
        page.select_option("#lang-select", "it")
        page.wait_for_selector("html[lang=it]")  # the form posts and the page comes back
        assert page.locator("nav a").first.inner_text() == "Posta in arrivo"
        page.screenshot(path=str(tmp_path) + "/comment.png")  # type: ignore[operator]
        browser.close()
    # A CSP violation or a script error would show up here.
    assert not [e for e in console_errors if "Content Security Policy" in e or "dialog" in e], (
        console_errors
    )
