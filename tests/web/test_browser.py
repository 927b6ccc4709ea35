"""End to end in a real headless Chromium (Debian's ``chromium``), driven by Playwright.

Skipped when no Chromium is installed, unless ``CRISISDESK_REQUIRE_BROWSER=1`` (CI sets it), in
which case a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import uvicorn

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.web.app import create_app

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def browser_path() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("CRISISDESK_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (CRISISDESK_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(desk), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_sign_in_open_inbox_and_comment_text_is_escaped(
    browser_path: str, live_server: str, tmp_path: object
) -> None:
    from playwright.sync_api import sync_playwright

    console_errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=browser_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
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
        page.wait_for_load_state("load")
        assert page.locator("nav a").first.inner_text() == "Posta in arrivo"
        page.screenshot(path=str(tmp_path) + "/comment.png")  # type: ignore[operator]
        browser.close()
    # A CSP violation or a script error would show up here.
    assert not [e for e in console_errors if "Content Security Policy" in e or "dialog" in e], (
        console_errors
    )
